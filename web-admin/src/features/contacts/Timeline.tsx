// A contact's timeline, newest first: logged emails (their HTML sanitised by the server and
// shown in a frame sandboxed without scripts), engagements with their verdict, and
// legal-basis changes. Older pages load below on request.
import { Anchor, Badge, Button, Card, Group, Stack, Text } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { ContactTimelineQuery } from "../../gql/graphql";
import { Empty, Failed, Loading } from "../../shell/States";
import { MessageContent } from "../records/MessageContent";
import { categoryLabel } from "../emails/labels";
import { LEGAL_BASES } from "./labels";
import { when } from "./paging";

const PAGE_SIZE = 20;

const ContactTimelineQuery = graphql(`
  query ContactTimeline($id: ID!, $first: Int!, $after: String) {
    contact(id: $id) {
      id
      timeline(first: $first, after: $after) {
        edges {
          cursor
          node {
            __typename
            ... on Email {
              id
              subject
              kind
              sentAt
              fromAddress
              text
              htmlUrl
              recipients {
                id
                address
                field
              }
              attachments {
                id
                filename
                contentType
                size
                downloadUrl
              }
            }
            ... on Engagement {
              id
              type
              occurredAt
              verdict
              category
              reasons
              inferred
              attribution
              email {
                id
                subject
              }
              link {
                url
              }
            }
            ... on LegalBasisChange {
              id
              at
              actor
              before
              after
            }
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

type Item = ContactTimelineQuery["contact"]["timeline"]["edges"][number]["node"];
type EmailItem = Extract<Item, { __typename: "Email" }>;
type EngagementItem = Extract<Item, { __typename: "Engagement" }>;
type ChangeItem = Extract<Item, { __typename: "LegalBasisChange" }>;

const VERDICTS = {
  HUMAN: { label: "Human", color: "green" },
  MACHINE: { label: "Machine", color: "gray" },
  SELF: { label: "Self", color: "yellow" },
} as const;

const ENGAGEMENTS = { OPEN: "Opened", CLICK: "Clicked", REPLY: "Replied to" } as const;

function EmailEntry({ email }: { email: EmailItem }) {
  return (
    <Card withBorder padding="sm" component="article" aria-label={`Email: ${email.subject}`}>
      <Stack gap="xs">
        <Group justify="space-between" gap="xs" wrap="wrap">
          <Group gap="xs">
            <Badge variant="light">{email.kind === "MARKETING" ? "Marketing email" : "Email"}</Badge>
            <Anchor component={Link} to={`/emails/${email.id}`} fw={600} style={{ overflowWrap: "anywhere" }}>
              {email.subject || "(no subject)"}
            </Anchor>
          </Group>
          <Text size="sm" c="dimmed">
            {when(email.sentAt)}
          </Text>
        </Group>
        <Text size="sm" style={{ overflowWrap: "anywhere" }}>
          {email.fromAddress && <>From {email.fromAddress} · </>}
          {email.recipients.map((recipient) => `${recipient.field} ${recipient.address}`).join(", ")}
        </Text>
        <MessageContent message={email} />
      </Stack>
    </Card>
  );
}

function EngagementEntry({ engagement }: { engagement: EngagementItem }) {
  const verdict = VERDICTS[engagement.verdict];
  return (
    <Card withBorder padding="sm" component="article" aria-label={`${ENGAGEMENTS[engagement.type]} “${engagement.email.subject}”`}>
      <Group justify="space-between" gap="xs" wrap="wrap">
        <Text size="sm" style={{ overflowWrap: "anywhere" }}>
          {ENGAGEMENTS[engagement.type]} “{engagement.email.subject}”
          {engagement.link && <> · {engagement.link.url}</>}
          {engagement.inferred && " (inferred)"}
        </Text>
        <Group gap="xs">
          <Badge color={verdict.color} variant="light">
            {verdict.label}
          </Badge>
          <Text size="sm" c="dimmed">
            {when(engagement.occurredAt)}
          </Text>
        </Group>
      </Group>
      {(engagement.verdict !== "HUMAN" || engagement.reasons.length > 0) && (
        // Each reason is a whole sentence: one after the other, never the rule's code.
        <Text size="xs" c="dimmed">
          {engagement.reasons.length > 0 ? engagement.reasons.join(" ") : categoryLabel(engagement.category)}
        </Text>
      )}
    </Card>
  );
}

function ChangeEntry({ change }: { change: ChangeItem }) {
  return (
    <Card withBorder padding="sm" component="article" aria-label="Legal basis change">
      <Group justify="space-between" gap="xs" wrap="wrap">
        <Text size="sm">
          Legal basis changed from {LEGAL_BASES[change.before]} to <strong>{LEGAL_BASES[change.after]}</strong> by {change.actor}
        </Text>
        <Text size="sm" c="dimmed">
          {when(change.at)}
        </Text>
      </Group>
    </Card>
  );
}

function Entry({ item }: { item: Item }) {
  switch (item.__typename) {
    case "Email":
      return <EmailEntry email={item} />;
    case "Engagement":
      return <EngagementEntry engagement={item} />;
    case "LegalBasisChange":
      return <ChangeEntry change={item} />;
    default:
      return null;
  }
}

function TimelinePage({ contactId, after, last, onMore }: { contactId: string; after: string | null; last: boolean; onMore: (cursor: string) => void }) {
  const [{ data, fetching, error }, refetch] = useQuery({
    query: ContactTimelineQuery,
    variables: { id: contactId, first: PAGE_SIZE, after },
  });
  if (fetching && !data) {
    return (
      <li>
        <Loading label="Loading the timeline…" />
      </li>
    );
  }
  if (error || !data) {
    return (
      <li>
        <Failed
          title="Couldn't load the timeline"
          message={error ? describeError(error) : "No answer from the server."}
          onRetry={() => refetch({ requestPolicy: "network-only" })}
        />
      </li>
    );
  }
  const { edges, pageInfo } = data.contact.timeline;
  return (
    <>
      {after === null && edges.length === 0 && (
        <li>
          <Empty title="Nothing on the timeline yet">Logged emails, opens, clicks and replies appear here.</Empty>
        </li>
      )}
      {edges.map(({ node, cursor }) => (
        <li key={cursor}>
          <Entry item={node} />
        </li>
      ))}
      {last && pageInfo.hasNextPage && pageInfo.endCursor && (
        <li>
          <Button variant="default" onClick={() => pageInfo.endCursor && onMore(pageInfo.endCursor)}>
            Show older entries
          </Button>
        </li>
      )}
    </>
  );
}

export function Timeline({ contactId }: { contactId: string }) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return (
    <Stack component="ol" gap="sm" p={0} m={0} style={{ listStyle: "none" }} aria-label="Timeline, newest first">
      {cursors.map((after, index) => (
        <TimelinePage
          key={after ?? "first"}
          contactId={contactId}
          after={after}
          last={index === cursors.length - 1}
          onMore={(cursor) => setCursors((current) => [...current, cursor])}
        />
      ))}
    </Stack>
  );
}
