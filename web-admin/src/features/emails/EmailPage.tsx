// One email: who sent it, whether it is tracked and logged (and why not), its recipients
// with their opens (R8), every engagement including machines' and the sender's own
// (R9, R10) with the reasons for each verdict, "Someone" activity (R15), the links clicked,
// and the diagnosis of why opens and clicks were or were not recorded (R25).
import { Anchor, Badge, Button, Card, Group, List, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { type ReactNode, useState } from "react";
import { type TFunction } from "i18next";
import { useTranslation } from "react-i18next";
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
import { formatDateTime } from "../../i18n/format";
import { VerdictBadge, categoryLabel } from "./labels";
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
type DetailT = TFunction<"emails", "detail">;

function Recipients({ email }: { email: Email }) {
  const { t } = useTranslation("emails", { keyPrefix: "detail" });
  if (email.recipients.length === 0) return <Empty title={t("noRecipients")}>{t("noRecipientsText")}</Empty>;
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="sm">
      {email.recipients.map((recipient) => (
        <Card withBorder padding="sm" key={recipient.id}>
          <Text fw={600} style={{ overflowWrap: "anywhere" }}>
            {recipient.name ? `${recipient.name} <${recipient.address}>` : recipient.address}{" "}
            <Text span c="dimmed" fw={400} size="sm">
              ({t(`fields.${recipient.field}`)})
            </Text>
          </Text>
          <Text size="sm">
            {t("counts", { opens: t("opens", { count: recipient.openCount }), clicks: t("clicks", { count: recipient.clickCount }) })}
          </Text>
          {recipient.firstOpenedAt && (
            <Text size="sm">
              {recipient.openCount > 1
                ? t("firstAndLastOpened", { first: formatDateTime(recipient.firstOpenedAt), last: formatDateTime(recipient.lastOpenedAt) })
                : t("opened", { when: formatDateTime(recipient.firstOpenedAt) })}
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
function whoOf(engagement: Engagement, sender: string, t: DetailT): string {
  if (engagement.verdict === "SELF") return t("theSender", { sender });
  if (engagement.attribution === "SOMEONE") return t("someone");
  return engagement.recipient?.address ?? t("someone");
}

function Engagements({ email }: { email: Email }) {
  const { t } = useTranslation("emails", { keyPrefix: "detail" });
  const sender = email.sender.name || email.sender.email;
  const rows = email.engagements.edges.map((edge) => edge.node);
  if (rows.length === 0) {
    return (
      <Empty title={t("noEngagements")}>{email.tracked ? t("noEngagementsText") : t("notTrackedText")}</Empty>
    );
  }
  return (
    <Stack gap="xs">
      <Table.ScrollContainer minWidth={720} visibleFrom="sm">
        <Table striped aria-label={t("engagements")} verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("columns.when")}</Table.Th>
              <Table.Th>{t("columns.what")}</Table.Th>
              <Table.Th>{t("columns.who")}</Table.Th>
              <Table.Th>{t("columns.verdict")}</Table.Th>
              <Table.Th>{t("columns.why")}</Table.Th>
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
      <Stack component="ul" gap="xs" p={0} m={0} hiddenFrom="sm" style={{ listStyle: "none" }} aria-label={t("engagements")}>
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
          {t("showingLatest", { count: ENGAGEMENTS })}
        </Text>
      )}
    </Stack>
  );
}

function When({ engagement }: { engagement: Engagement }) {
  return <time dateTime={engagement.occurredAt}>{formatDateTime(engagement.occurredAt)}</time>;
}

function What({ engagement }: { engagement: Engagement }) {
  const { t } = useTranslation("emails");
  return (
    <>
      {t(`types.${engagement.type}`)}
      {engagement.inferred && (
        <Text size="xs" c="dimmed">
          {engagement.inferredFrom === "REPLY" ? t("detail.inferredFromReply") : t("detail.inferredFromClick")}
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
  const { t } = useTranslation("emails", { keyPrefix: "detail" });
  return (
    <>
      <Text size="sm">{whoOf(engagement, sender, t)}</Text>
      {engagement.attribution === "SOMEONE" && engagement.verdict !== "SELF" && (
        <Text size="xs" c="dimmed">
          {t("sharedPixel")}
        </Text>
      )}
    </>
  );
}

function VerdictCell({ engagement }: { engagement: Engagement }) {
  const { t } = useTranslation("emails", { keyPrefix: "detail" });
  return (
    <Stack gap={2} align="flex-start">
      <VerdictBadge verdict={engagement.verdict} />
      {!engagement.countsInReports && (
        <Text size="xs" c="dimmed">
          {t("notCounted")}
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
  const { t } = useTranslation("emails", { keyPrefix: "detail" });
  if (email.links.length === 0) {
    return <Text size="sm">{email.clickTracking ? t("noLinkRewritten") : t("clicksNotTracked")}</Text>;
  }
  // Counted by the server over every click (not just the engagements listed on this page).
  return (
    <List size="sm" spacing={4}>
      {email.links.map((link) => (
        <List.Item key={link.index} style={{ overflowWrap: "anywhere" }}>
          {link.url}: {t("linkClicks", { count: link.clicks })}
          {link.clicksBySomeone > 0 && t("linkClicksBySomeone", { count: link.clicksBySomeone })}
        </List.Item>
      ))}
    </List>
  );
}

function Diagnosis({ id }: { id: string }) {
  const { t } = useTranslation("emails");
  const [{ data, fetching, error }, refetch] = useQuery({ query: DiagnosisQuery, variables: { id } });
  if (fetching && !data) return <Loading label={t("detail.diagnosing")} />;
  if (error || !data) {
    return (
      <Failed
        title={t("detail.diagnoseFailed")}
        message={error ? describeError(error) : t("noAnswerLoad")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  }
  const { findings } = data.diagnoseEmail;
  if (findings.length === 0) return <Text size="sm">{t("detail.nothingToReport")}</Text>;
  return (
    <List size="sm" spacing={4} aria-label={t("detail.findings")}>
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
  const { t } = useTranslation("emails");
  const { id = "" } = useParams();
  const session = useSignedIn();
  const [composing, setComposing] = useState<ComposeDraft | null>(null);
  const [{ data, fetching, error }, refetch] = useQuery({ query: EmailQuery, variables: { id, first: ENGAGEMENTS } });
  usePageTitle(data ? data.email.subject || t("email") : t("email"));

  const scope = useAccountScope();
  const back = (
    <Anchor component={Link} to={scope.back.to} size="sm">
      {/* The scope's own label is English; the page says it in the reader's language. */}
      {scope.back.to === "/emails" ? t("detail.backToEmails") : t("detail.backToAccount")}
    </Anchor>
  );

  if (fetching && !data) {
    return (
      <Stack gap="md">
        {back}
        <Loading label={t("detail.loading")} />
      </Stack>
    );
  }
  if (error || !data) {
    const missing = error?.graphQLErrors.some((e) => ["NOT_FOUND", "BAD_USER_INPUT"].includes(String(e.extensions["code"])));
    return (
      <Stack gap="md">
        {back}
        <Title order={1} size="h2">
          {missing ? t("detail.notFound") : t("email")}
        </Title>
        {missing ? (
          <Text>{session.isStaff ? t("detail.noSuchEmailThis") : t("detail.noSuchEmailYours")}</Text>
        ) : (
          <Failed
            title={t("detail.loadFailed")}
            message={error ? describeError(error) : t("noAnswerLoad")}
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
            {email.subject || t("noSubject")}
          </Title>
          {!session.isStaff && (
            <Button variant="light" style={{ flexShrink: 0 }} onClick={() => setComposing(replyDraft(email, session.email))}>
              {t("detail.reply")}
            </Button>
          )}
        </Group>
        <Group gap="xs">
          <Badge variant="outline">{email.kind === "MARKETING" ? t("badges.marketing") : t("badges.sales")}</Badge>
          <Badge variant="light" color={email.tracked ? "blue" : "gray"}>
            {email.tracked ? t("badges.tracked") : t("badges.notTracked")}
          </Badge>
          <Badge variant="light" color={email.logged ? "teal" : "gray"}>
            {email.logged ? t("badges.logged") : t("badges.notLogged")}
          </Badge>
          {email.tracked && (
            <Text size="sm" c="dimmed">
              {t(`detail.tracking.${email.openTracking ? (email.clickTracking ? "both" : "opens") : email.clickTracking ? "clicks" : "none"}`)}
            </Text>
          )}
        </Group>
        <Text style={{ overflowWrap: "anywhere" }}>
          {t("detail.sentBy", { sender })}
          {email.fromAddress && email.fromAddress !== email.sender.email ? t("detail.fromAddress", { address: email.fromAddress }) : ""}
          {email.sentAt ? t("detail.sentOn", { when: formatDateTime(email.sentAt) }) : t("detail.notSentYet")}
        </Text>
        {email.notTrackedReasons.length > 0 && (
          <Card withBorder padding="sm">
            <Text fw={600} size="sm">
              {t("detail.whyNotTracked")}
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
          <Section id="deliveries" title={t("detail.sections.deliveries")}>
            {body}
          </Section>
        )}
      </DeliveryStatus>
      <LoggedMessage emailId={email.id} logged={email.logged}>
        {(body) => (
          <Section id="message" title={t("detail.sections.message")}>
            {body}
          </Section>
        )}
      </LoggedMessage>
      <Section id="recipients" title={t("detail.sections.recipients")}>
        <Recipients email={email} />
      </Section>
      <Section id="engagements" title={t("detail.sections.engagements")}>
        <Text size="sm" c="dimmed" mb="xs">
          {t("detail.engagementsIntro")}
        </Text>
        <Engagements email={email} />
      </Section>
      <Section id="links" title={t("detail.sections.links")}>
        <Links email={email} />
      </Section>
      <Section id="diagnosis" title={t("detail.sections.diagnosis")}>
        <Diagnosis id={email.id} />
      </Section>
      <Compose draft={composing} onClose={() => setComposing(null)} />
    </Stack>
  );
}
