// The activity feed (R4, issue 15, item 7): live rows on top, then the stored feed a page at a
// time (cursor paging on `activityFeed`), people by name when known, times relative with the
// exact one on hover, filtered by kind of activity and by email (kept in the address).
import { Anchor, Badge, Button, Card, Group, SegmentedControl, Select, Stack, Text } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { type MouseEvent, useCallback, useEffect, useMemo, useState } from "react";
import { Trans, useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { ActivityFilterInput, ActivityQuery as ActivityResult, EngagementType } from "../../gql/graphql";
import { RelativeTime } from "../../shell/RelativeTime";
import { Empty, Failed, Loading } from "../../shell/States";
import i18n from "../../i18n";
import { type LiveEvent, useLiveActivity, whoOf } from "./LiveActivity";

const PAGE_SIZE = 30;
const EMAIL_CHOICES = 20;

const ActivityQuery = graphql(`
  query Activity($first: Int!, $after: String, $filter: ActivityFilterInput) {
    activityFeed(first: $first, after: $after, filter: $filter) {
      edges {
        node {
          id
          type
          occurredAt
          inferred
          inferredFrom
          recipient {
            id
            address
            name
          }
          contact {
            id
            name
          }
          email {
            id
            subject
          }
          link {
            url
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const ActivityEmailsQuery = graphql(`
  query ActivityEmails($first: Int!, $filter: EmailFilterInput) {
    emails(first: $first, filter: $filter, orderBy: LAST_ACTIVITY) {
      edges {
        node {
          id
          subject
          tracked
        }
      }
    }
  }
`);

// Labels are activity.feed.types.<value or ALL> (i18n).
const TYPES: { value: EngagementType | "" }[] = [{ value: "" }, { value: "OPEN" }, { value: "CLICK" }, { value: "REPLY" }];

interface Row {
  id: string;
  type: EngagementType;
  occurredAt: string;
  who: string;
  /** The address beside a name, so that two people of one name stay apart. */
  address: string | null;
  emailId: string;
  subject: string;
  linkUrl: string | null;
  note: string | null;
  live: boolean;
}

type Node = ActivityResult["activityFeed"]["edges"][number]["node"];

function storedRow(node: Node): Row {
  const address = node.recipient?.address ?? null;
  const name = node.contact?.name ?? node.recipient?.name ?? null;
  return {
    id: node.id,
    type: node.type,
    occurredAt: node.occurredAt,
    who: name ?? address ?? i18n.t("activity:feed.someone"),
    address: name ? address : null,
    emailId: node.email.id,
    subject: node.email.subject,
    linkUrl: node.link?.url ?? null,
    note: node.inferred
      ? i18n.t(node.inferredFrom === "REPLY" ? "activity:feed.inferredReply" : "activity:feed.inferredClick")
      : null,
    live: false,
  };
}

function liveRow(event: LiveEvent): Row {
  return {
    id: event.id,
    type: event.type,
    occurredAt: event.occurredAt,
    who: whoOf(event),
    address: event.contactName ? event.who : null,
    emailId: event.emailId,
    subject: event.emailSubject,
    linkUrl: event.linkUrl ?? null,
    note: null,
    live: true,
  };
}

function FeedRow({ row }: { row: Row }) {
  const { t } = useTranslation("activity", { keyPrefix: "feed" });
  const navigate = useNavigate();
  // The whole row opens the email; its own link and time keep their own clicks.
  function open(event: MouseEvent<HTMLElement>) {
    if ((event.target as HTMLElement).closest("a, button, time")) return;
    navigate(`/emails/${row.emailId}`);
  }
  return (
    <Card withBorder padding="sm" component="li" data-testid="activity-row" onClick={open} style={{ cursor: "pointer" }}>
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="xs">
        <Text style={{ overflowWrap: "anywhere" }}>
          {/* One sentence per language ("Pat opened …" / "Pat hat … geöffnet"), its parts marked. */}
          <Trans
            t={t}
            i18nKey={`row.${row.type}`}
            values={{ who: row.who, subject: row.subject, address: row.address ? `(${row.address}) ` : "" }}
            components={{
              who: <strong />,
              address: <Text span size="sm" c="dimmed" />,
              email: <Anchor component={Link} to={`/emails/${row.emailId}`} />,
            }}
          />
        </Text>
        <Group gap="xs">
          {row.live && (
            <Badge color="blue" variant="light">
              {t("new")}
            </Badge>
          )}
          <RelativeTime iso={row.occurredAt} />
        </Group>
      </Group>
      {row.linkUrl && (
        <Text size="sm" c="dimmed" style={{ overflowWrap: "anywhere" }}>
          {t("link", { url: row.linkUrl })}
        </Text>
      )}
      {row.note && (
        <Text size="sm" c="dimmed">
          {row.note}
        </Text>
      )}
    </Card>
  );
}

interface PageProps {
  filter: ActivityFilterInput;
  after: string | null;
  last: boolean;
  /** Rows already shown live, above the first page. */
  shown: ReadonlySet<string>;
  onMore: (cursor: string) => void;
  onSubject: (subject: string) => void;
}

function FeedPage({ filter, after, last, shown, onMore, onSubject }: PageProps) {
  const { t } = useTranslation("activity");
  const [{ data, fetching, error }, refetch] = useQuery({
    query: ActivityQuery,
    variables: { first: PAGE_SIZE, after, filter },
  });
  // A chosen email's subject, for the email box when the page was opened at its address.
  const subject = filter.emailId ? data?.activityFeed.edges[0]?.node.email.subject : undefined;
  useEffect(() => {
    if (subject !== undefined) onSubject(subject);
  }, [subject, onSubject]);
  if (fetching && !data) {
    return (
      <li>
        <Loading label={after ? t("feed.loadingOlder") : t("loading")} />
      </li>
    );
  }
  if (error || !data) {
    return (
      <li>
        <Failed
          title={t("loadFailed")}
          message={error ? describeError(error) : t("noAnswerLoad")}
          onRetry={() => refetch({ requestPolicy: "network-only" })}
        />
      </li>
    );
  }
  const { edges, pageInfo } = data.activityFeed;
  const rows = edges.filter(({ node }) => !shown.has(node.id)).map(({ node }) => storedRow(node));
  return (
    <>
      {after === null && rows.length === 0 && shown.size === 0 && (
        <li>
          {filter.type || filter.emailId ? (
            <Empty title={t("feed.noMatch")}>{t("feed.noMatchText")}</Empty>
          ) : (
            <Empty title={t("feed.none")}>{t("feed.noneText")}</Empty>
          )}
        </li>
      )}
      {rows.map((row) => (
        <FeedRow key={row.id} row={row} />
      ))}
      {last && pageInfo.hasNextPage && pageInfo.endCursor && (
        <li>
          <Button variant="default" fullWidth onClick={() => pageInfo.endCursor && onMore(pageInfo.endCursor)}>
            {t("feed.more")}
          </Button>
        </li>
      )}
    </>
  );
}

/** Which email to show: the sender's own emails, latest activity first, searched by subject. */
function EmailChoice(props: { viewerId: string; value: string | null; label: string | null; onChange: (id: string | null, label: string | null) => void }) {
  const { t } = useTranslation("activity", { keyPrefix: "feed" });
  const [search, setSearch] = useState("");
  const [typed] = useDebouncedValue(search, 300);
  // While an email is chosen, the box shows its subject: that is no search for it.
  const searching = typed && typed !== props.label ? typed : null;
  const [{ data, fetching }] = useQuery({
    query: ActivityEmailsQuery,
    variables: { first: EMAIL_CHOICES, filter: { senderId: props.viewerId, search: searching } },
  });
  const options = useMemo(() => {
    const found = (data?.emails.edges ?? [])
      .filter(({ node }) => node.tracked) // an email only logged has no opens or clicks
      .map(({ node }) => ({ value: node.id, label: node.subject || t("noSubject") }));
    if (props.value && !found.some((option) => option.value === props.value)) {
      found.unshift({ value: props.value, label: props.label ?? t("chosen") });
    }
    return found;
  }, [data, props.value, props.label, t]);
  return (
    <Select
      label={t("email")}
      placeholder={t("allEmails")}
      data={options}
      value={props.value}
      onChange={(id, option) => props.onChange(id, option?.label ?? null)}
      searchable
      clearable
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options: all }) => all} // the server searched already
      nothingFoundMessage={fetching ? t("searching") : t("noEmail")}
      style={{ flex: "1 1 16rem", minWidth: 0 }}
    />
  );
}

export function ActivityFeed({ viewerId }: { viewerId: string }) {
  const { t } = useTranslation("activity", { keyPrefix: "feed" });
  const { events } = useLiveActivity();
  const [params, setParams] = useSearchParams();
  const typeParam = params.get("type");
  const type = TYPES.some((option) => option.value && option.value === typeParam) ? (typeParam as EngagementType) : null;
  const emailId = params.get("email") || null;
  // The chosen email's subject, from the email box or from its first row.
  const [chosen, setChosen] = useState<{ id: string; label: string } | null>(null);
  const emailLabel = chosen && chosen.id === emailId ? chosen.label : null;
  const filter = useMemo<ActivityFilterInput>(() => ({ type, emailId }), [type, emailId]);
  // Cursors of the pages shown; a new filter starts again from the newest.
  const [cursors, setCursors] = useState<{ key: string; list: (string | null)[] }>({ key: "", list: [null] });
  const filterKey = `${type ?? ""}/${emailId ?? ""}`;
  const pages = cursors.key === filterKey ? cursors.list : [null];

  const live = useMemo(
    () => events.filter((event) => (!type || event.type === type) && (!emailId || event.emailId === emailId)).map(liveRow),
    [events, type, emailId],
  );
  const shown = useMemo(() => new Set(live.map((row) => row.id)), [live]);

  const labelChosenEmail = useCallback(
    (subject: string) => {
      if (emailId) setChosen((known) => (known?.id === emailId ? known : { id: emailId, label: subject }));
    },
    [emailId],
  );

  function setFilter(name: "type" | "email", value: string | null) {
    setParams((current) => {
      const next = new URLSearchParams(current);
      if (value) next.set(name, value);
      else next.delete(name);
      return next;
    });
  }

  return (
    <Stack gap="sm">
      <Group align="flex-end" gap="sm" wrap="wrap" role="search" aria-label={t("filter")}>
        <Stack gap={4}>
          <Text size="sm" fw={500} id="activity-type-label">
            {t("show")}
          </Text>
          <SegmentedControl
            aria-labelledby="activity-type-label"
            data={TYPES.map((option) => ({ value: option.value || "ALL", label: t(`types.${option.value || "ALL"}`) }))}
            value={type ?? "ALL"}
            onChange={(value) => setFilter("type", value === "ALL" ? null : value)}
          />
        </Stack>
        <EmailChoice
          viewerId={viewerId}
          value={emailId}
          label={emailLabel}
          onChange={(id, label) => {
            setChosen(id && label ? { id, label } : null);
            setFilter("email", id);
          }}
        />
      </Group>
      <Stack component="ol" gap="xs" p={0} m={0} style={{ listStyle: "none" }} aria-label={t("list")} aria-live="polite">
        {live.map((row) => (
          <FeedRow key={row.id} row={row} />
        ))}
        {pages.map((after, index) => (
          <FeedPage
            key={`${filterKey}:${after ?? "first"}`}
            filter={filter}
            after={after}
            last={index === pages.length - 1}
            shown={shown}
            onMore={(cursor) => setCursors({ key: filterKey, list: [...pages, cursor] })}
            onSubject={labelChosenEmail}
          />
        ))}
      </Stack>
    </Stack>
  );
}
