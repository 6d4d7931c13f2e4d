// A contact's timeline, newest first: logged emails (their HTML sanitised by the server and
// shown in a frame sandboxed without scripts), engagements with their verdict, and
// legal-basis changes. Older pages load below on request.
import { Anchor, Badge, Button, Card, Group, Stack, Text } from "@mantine/core";
import { useState } from "react";
import { Trans, useTranslation } from "react-i18next";
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

const VERDICT_COLORS = { HUMAN: "green", MACHINE: "gray", SELF: "yellow" } as const;

function EmailEntry({ email }: { email: EmailItem }) {
  const { t } = useTranslation("contacts");
  return (
    <Card withBorder padding="sm" component="article" aria-label={t("timeline.emailLabel", { subject: email.subject })}>
      <Stack gap="xs">
        <Group justify="space-between" gap="xs" wrap="wrap">
          <Group gap="xs">
            <Badge variant="light">{email.kind === "MARKETING" ? t("timeline.marketingEmail") : t("timeline.email")}</Badge>
            <Anchor component={Link} to={`/emails/${email.id}`} fw={600} style={{ overflowWrap: "anywhere" }}>
              {email.subject || t("timeline.noSubject")}
            </Anchor>
          </Group>
          <Text size="sm" c="dimmed">
            {when(email.sentAt)}
          </Text>
        </Group>
        <Text size="sm" style={{ overflowWrap: "anywhere" }}>
          {email.fromAddress && t("timeline.from", { address: email.fromAddress })}
          {email.recipients.map((recipient) => `${t(`timeline.fields.${recipient.field}`)} ${recipient.address}`).join(", ")}
        </Text>
        <MessageContent message={email} />
      </Stack>
    </Card>
  );
}

function EngagementEntry({ engagement }: { engagement: EngagementItem }) {
  const { t } = useTranslation("contacts");
  const what = t(`timeline.engagements.${engagement.type}`, { subject: engagement.email.subject });
  return (
    <Card withBorder padding="sm" component="article" aria-label={what}>
      <Group justify="space-between" gap="xs" wrap="wrap">
        <Text size="sm" style={{ overflowWrap: "anywhere" }}>
          {what}
          {engagement.link && <> · {engagement.link.url}</>}
          {engagement.inferred && t("timeline.inferred")}
        </Text>
        <Group gap="xs">
          <Badge color={VERDICT_COLORS[engagement.verdict]} variant="light">
            {t(`timeline.verdicts.${engagement.verdict}`)}
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
  const { t } = useTranslation("contacts");
  return (
    <Card withBorder padding="sm" component="article" aria-label={t("timeline.changeLabel")}>
      <Group justify="space-between" gap="xs" wrap="wrap">
        <Text size="sm">
          <Trans
            t={t}
            i18nKey="timeline.change"
            values={{ before: LEGAL_BASES[change.before], after: LEGAL_BASES[change.after], who: change.actor }}
            components={{ strong: <strong /> }}
          />
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
  const { t } = useTranslation("contacts");
  const [{ data, fetching, error }, refetch] = useQuery({
    query: ContactTimelineQuery,
    variables: { id: contactId, first: PAGE_SIZE, after },
  });
  if (fetching && !data) {
    return (
      <li>
        <Loading label={t("timeline.loading")} />
      </li>
    );
  }
  if (error || !data) {
    return (
      <li>
        <Failed
          title={t("timeline.loadFailed")}
          message={error ? describeError(error) : t("noAnswerLoad")}
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
          <Empty title={t("timeline.none")}>{t("timeline.noneText")}</Empty>
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
            {t("timeline.older")}
          </Button>
        </li>
      )}
    </>
  );
}

export function Timeline({ contactId }: { contactId: string }) {
  const { t } = useTranslation("contacts");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return (
    <Stack component="ol" gap="sm" p={0} m={0} style={{ listStyle: "none" }} aria-label={t("timeline.label")}>
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
