// One email: who sent it, whether it is tracked and logged (and why not), its recipients
// with their opens (R8), every engagement including machines' and the sender's own
// (R9, R10) with the reasons for each verdict, "Someone" activity (R15), the links clicked,
// and the diagnosis of why opens and clicks were or were not recorded (R25).
import { Anchor, Badge, Button, Card, Group, List, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { type ReactNode, useState } from "react";
import { Link, useParams } from "react-router";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { EmailPageQuery } from "../../gql/graphql";
import { useAccountScope } from "../../shell/AccountScope";
import { Empty, Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { Compose, type ComposeDraft, replySubject } from "../sending/Compose";
import { DeliveryStatus } from "../sending/DeliveryStatus";
import { useSignedIn } from "../session/SessionProvider";
import { TYPE_LABELS, VerdictBadge, categoryLabel, formatWhen } from "./labels";
import { LoggedMessage } from "./LoggedMessage";

const ENGAGEMENTS = 100;

const EmailQuery = graphql(`
  query EmailPage($id: ID!, $first: Int!) {
    email(id: $id) {
      id
      subject
      kind
      sentAt
      tracked
      logged
      openTracking
      clickTracking
      notTrackedReasons
      fromAddress
      sender {
        id
        name
        email
      }
      recipients {
        id
        address
        name
        field
        openCount
        clickCount
        firstOpenedAt
        lastOpenedAt
        hints
      }
      links {
        index
        url
        clicks
        clicksBySomeone
      }
      engagements(first: $first, filter: { verdicts: [HUMAN, MACHINE, SELF] }) {
        edges {
          node {
            id
            type
            occurredAt
            attribution
            inferred
            inferredFrom
            verdict
            category
            reasons
            countsInReports
            recipient {
              id
              address
            }
            link {
              index
              url
            }
          }
        }
        pageInfo {
          hasNextPage
        }
      }
    }
  }
`);

const DiagnosisQuery = graphql(`
  query EmailDiagnosis($id: ID!) {
    diagnoseEmail(id: $id) {
      emailId
      findings
    }
  }
`);

type Email = EmailPageQuery["email"];
type Engagement = Email["engagements"]["edges"][number]["node"];

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function Recipients({ email }: { email: Email }) {
  if (email.recipients.length === 0) return <Empty title="No recipients">This email has no recipients.</Empty>;
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="sm">
      {email.recipients.map((recipient) => (
        <Card withBorder padding="sm" key={recipient.id}>
          <Text fw={600} style={{ overflowWrap: "anywhere" }}>
            {recipient.name ? `${recipient.name} <${recipient.address}>` : recipient.address}{" "}
            <Text span c="dimmed" fw={400} size="sm">
              ({recipient.field})
            </Text>
          </Text>
          <Text size="sm">
            {plural(recipient.openCount, "open", "opens")}, {plural(recipient.clickCount, "click", "clicks")}.
          </Text>
          {recipient.firstOpenedAt && (
            <Text size="sm">
              {recipient.openCount > 1
                ? `First opened ${formatWhen(recipient.firstOpenedAt)}, last opened ${formatWhen(recipient.lastOpenedAt)}.`
                : `Opened ${formatWhen(recipient.firstOpenedAt)}.`}
            </Text>
          )}
          {recipient.hints.length > 0 && (
            <List size="sm" mt={4} spacing={2}>
              {recipient.hints.map((hint) => (
                <List.Item key={hint}>{hint}</List.Item>
              ))}
            </List>
          )}
        </Card>
      ))}
    </SimpleGrid>
  );
}

/** The sender's own hits (their Sent folder, their browser) are theirs, never "Someone". */
function whoOf(engagement: Engagement, sender: string): string {
  if (engagement.verdict === "SELF") return `${sender} (the sender)`;
  if (engagement.attribution === "SOMEONE") return "Someone";
  return engagement.recipient?.address ?? "Someone";
}

function Engagements({ email }: { email: Email }) {
  const sender = email.sender.name || email.sender.email;
  const rows = email.engagements.edges.map((edge) => edge.node);
  if (rows.length === 0) {
    return (
      <Empty title="No opens or clicks yet">
        {email.tracked ? "Nothing has loaded this email's pixel or followed its links so far." : "This email is not tracked."}
      </Empty>
    );
  }
  return (
    <Stack gap="xs">
      <Table.ScrollContainer minWidth={720} visibleFrom="sm">
        <Table striped aria-label="Opens and clicks" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>What</Table.Th>
              <Table.Th>Who</Table.Th>
              <Table.Th>Verdict</Table.Th>
              <Table.Th>Why</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((engagement) => (
              <Table.Tr key={engagement.id} data-verdict={engagement.verdict}>
                <Table.Td>
                  <When engagement={engagement} />
                </Table.Td>
                <Table.Td>
                  <What engagement={engagement} />
                </Table.Td>
                <Table.Td style={{ overflowWrap: "anywhere" }}>
                  <Who engagement={engagement} sender={sender} />
                </Table.Td>
                <Table.Td data-key-column>
                  <VerdictCell engagement={engagement} />
                </Table.Td>
                <Table.Td>
                  <Reasons engagement={engagement} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Stack component="ul" gap="xs" p={0} m={0} hiddenFrom="sm" style={{ listStyle: "none" }} aria-label="Opens and clicks">
        {rows.map((engagement) => (
          <Card withBorder padding="sm" component="li" key={engagement.id} data-verdict={engagement.verdict}>
            <Group justify="space-between" align="flex-start" gap="xs">
              <Stack gap={0} style={{ overflowWrap: "anywhere", flex: 1, minWidth: 0 }}>
                <What engagement={engagement} />
                <Who engagement={engagement} sender={sender} />
                <Text size="sm" c="dimmed">
                  <When engagement={engagement} />
                </Text>
              </Stack>
              <div data-key-column>
                <VerdictCell engagement={engagement} />
              </div>
            </Group>
            <Reasons engagement={engagement} />
          </Card>
        ))}
      </Stack>
      {email.engagements.pageInfo.hasNextPage && (
        <Text size="sm" c="dimmed">
          Showing the latest {ENGAGEMENTS}.
        </Text>
      )}
    </Stack>
  );
}

function When({ engagement }: { engagement: Engagement }) {
  return <time dateTime={engagement.occurredAt}>{formatWhen(engagement.occurredAt)}</time>;
}

function What({ engagement }: { engagement: Engagement }) {
  return (
    <>
      {TYPE_LABELS[engagement.type]}
      {engagement.inferred && (
        <Text size="xs" c="dimmed">
          Inferred from a {engagement.inferredFrom === "REPLY" ? "reply" : "click"}
        </Text>
      )}
      {engagement.link && (
        <Text size="xs" c="dimmed" style={{ overflowWrap: "anywhere" }}>
          {engagement.link.url}
        </Text>
      )}
    </>
  );
}

function Who({ engagement, sender }: { engagement: Engagement; sender: string }) {
  return (
    <>
      <Text size="sm">{whoOf(engagement, sender)}</Text>
      {engagement.attribution === "SOMEONE" && engagement.verdict !== "SELF" && (
        <Text size="xs" c="dimmed">
          Shared pixel or privacy mode: it can't be told which recipient it was.
        </Text>
      )}
    </>
  );
}

function VerdictCell({ engagement }: { engagement: Engagement }) {
  return (
    <Stack gap={2} align="flex-start">
      <VerdictBadge verdict={engagement.verdict} />
      {!engagement.countsInReports && (
        <Text size="xs" c="dimmed">
          Not counted in reports
        </Text>
      )}
    </Stack>
  );
}

function Reasons({ engagement }: { engagement: Engagement }) {
  if (engagement.reasons.length === 0) return <Text size="sm">{categoryLabel(engagement.category)}</Text>;
  return (
    <List size="sm" spacing={2}>
      {engagement.reasons.map((reason) => (
        <List.Item key={reason}>{reason}</List.Item>
      ))}
    </List>
  );
}

function Links({ email }: { email: Email }) {
  if (email.links.length === 0) {
    return (
      <Text size="sm">{email.clickTracking ? "No link in this email was rewritten." : "Clicks are not tracked for this email."}</Text>
    );
  }
  // Counted by the server over every click (not just the engagements listed on this page).
  return (
    <List size="sm" spacing={4}>
      {email.links.map((link) => (
        <List.Item key={link.index} style={{ overflowWrap: "anywhere" }}>
          {link.url}: {plural(link.clicks, "click by a recipient", "clicks by recipients")}
          {link.clicksBySomeone > 0 &&
            `, and ${plural(link.clicksBySomeone, "click", "clicks")} by Someone (not counted in reports)`}
        </List.Item>
      ))}
    </List>
  );
}

function Diagnosis({ id }: { id: string }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: DiagnosisQuery, variables: { id } });
  if (fetching && !data) return <Loading label="Diagnosing…" />;
  if (error || !data) {
    return (
      <Failed
        title="Couldn't diagnose this email"
        message={error ? describeError(error) : "No answer from the server."}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  }
  const { findings } = data.diagnoseEmail;
  if (findings.length === 0) return <Text size="sm">Nothing to report: opens and clicks are recorded as expected.</Text>;
  return (
    <List size="sm" spacing={4} aria-label="Findings">
      {findings.map((finding) => (
        <List.Item key={finding}>{finding}</List.Item>
      ))}
    </List>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section aria-labelledby={id}>
      <Title order={2} size="h3" id={id} mb="sm">
        {title}
      </Title>
      {children}
    </section>
  );
}

/** A reply goes back to the other side: the recipients of one's own email, else its sender. */
function replyDraft(email: Email, viewerEmail: string): ComposeDraft {
  const mine = email.sender.email.toLowerCase() === viewerEmail.toLowerCase();
  const to = mine
    ? email.recipients.filter((recipient) => recipient.field === "TO").map((recipient) => recipient.address)
    : [email.fromAddress ?? email.sender.email];
  const cc = mine ? email.recipients.filter((recipient) => recipient.field === "CC").map((recipient) => recipient.address) : [];
  return { to, cc, subject: replySubject(email.subject), inReplyTo: email.id };
}

export function EmailPage() {
  const { id = "" } = useParams();
  const session = useSignedIn();
  const [composing, setComposing] = useState<ComposeDraft | null>(null);
  const [{ data, fetching, error }, refetch] = useQuery({ query: EmailQuery, variables: { id, first: ENGAGEMENTS } });
  usePageTitle(data ? data.email.subject || "Email" : "Email");

  const scope = useAccountScope();
  const back = (
    <Anchor component={Link} to={scope.back.to} size="sm">
      {scope.back.label}
    </Anchor>
  );

  if (fetching && !data) {
    return (
      <Stack gap="md">
        {back}
        <Loading label="Loading the email…" />
      </Stack>
    );
  }
  if (error || !data) {
    const missing = error?.graphQLErrors.some((e) => ["NOT_FOUND", "BAD_USER_INPUT"].includes(String(e.extensions["code"])));
    return (
      <Stack gap="md">
        {back}
        <Title order={1} size="h2">
          {missing ? "Email not found" : "Email"}
        </Title>
        {missing ? (
          <Text>There is no such email in {session.isStaff ? "this" : "your"} account.</Text>
        ) : (
          <Failed
            title="Couldn't load the email"
            message={error ? describeError(error) : "No answer from the server."}
            onRetry={() => refetch({ requestPolicy: "network-only" })}
          />
        )}
      </Stack>
    );
  }

  const { email } = data;
  const sender = email.sender.name ? `${email.sender.name} <${email.sender.email}>` : email.sender.email;
  return (
    <Stack gap="lg">
      <Stack gap="xs">
        {back}
        <Group justify="space-between" align="flex-start" gap="sm" wrap="nowrap">
          <Title order={1} size="h2" style={{ overflowWrap: "anywhere", minWidth: 0 }}>
            {email.subject || "(no subject)"}
          </Title>
          {!session.isStaff && (
            <Button variant="light" style={{ flexShrink: 0 }} onClick={() => setComposing(replyDraft(email, session.email))}>
              Reply
            </Button>
          )}
        </Group>
        <Group gap="xs">
          <Badge variant="outline">{email.kind === "MARKETING" ? "Marketing" : "Sales"}</Badge>
          <Badge variant="light" color={email.tracked ? "blue" : "gray"}>
            {email.tracked ? "Tracked" : "Not tracked"}
          </Badge>
          <Badge variant="light" color={email.logged ? "teal" : "gray"}>
            {email.logged ? "Logged" : "Not logged"}
          </Badge>
          {email.tracked && (
            <Text size="sm" c="dimmed">
              {email.openTracking ? "Opens" : "No opens"} · {email.clickTracking ? "clicks" : "no clicks"} tracked
            </Text>
          )}
        </Group>
        <Text style={{ overflowWrap: "anywhere" }}>
          Sent by {sender}
          {email.fromAddress && email.fromAddress !== email.sender.email ? ` (from ${email.fromAddress})` : ""}
          {email.sentAt ? ` on ${formatWhen(email.sentAt)}.` : "; not sent yet."}
        </Text>
        {email.notTrackedReasons.length > 0 && (
          <Card withBorder padding="sm">
            <Text fw={600} size="sm">
              Why opens or clicks are not tracked
            </Text>
            <List size="sm" spacing={2}>
              {email.notTrackedReasons.map((reason) => (
                <List.Item key={reason}>{reason}</List.Item>
              ))}
            </List>
          </Card>
        )}
      </Stack>
      <DeliveryStatus emailId={email.id}>
        {(body) => (
          <Section id="deliveries" title="Delivery">
            {body}
          </Section>
        )}
      </DeliveryStatus>
      <LoggedMessage emailId={email.id} logged={email.logged}>
        {(body) => (
          <Section id="message" title="Message">
            {body}
          </Section>
        )}
      </LoggedMessage>
      <Section id="recipients" title="Recipients">
        <Recipients email={email} />
      </Section>
      <Section id="engagements" title="Opens and clicks">
        <Text size="sm" c="dimmed" mb="xs">
          Everything that loaded the pixel or followed a link, people, machines and the sender alike; only HUMAN
          activity counts as an open or click.
        </Text>
        <Engagements email={email} />
      </Section>
      <Section id="links" title="Links clicked">
        <Links email={email} />
      </Section>
      <Section id="diagnosis" title="Diagnosis">
        <Diagnosis id={email.id} />
      </Section>
      <Compose draft={composing} onClose={() => setComposing(null)} />
    </Stack>
  );
}
