// The account's tracked and logged emails, newest first, filtered by kind, date range and
// sender, a page at a time (cursor paging with `after`).
import { Anchor, Badge, Button, Card, Checkbox, Group, List, Popover, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { EmailActivity, EmailFilterInput, EmailKind, EmailOrder, EmailsQuery as EmailsQueryResult } from "../../gql/graphql";
import { Empty, Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { Compose, type ComposeDraft } from "../sending/Compose";
import { useSignedIn } from "../session/SessionProvider";
import { formatDateTime } from "../../i18n/format";

const PAGE_SIZE = 25;

/** Stable, so that the query is not restarted on every render. */
const LIST_CONTEXT = { additionalTypenames: ["Email"] };

const EmailsQuery = graphql(`
  query Emails($first: Int!, $after: String, $filter: EmailFilterInput, $orderBy: EmailOrder) {
    emails(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      edges {
        node {
          id
          subject
          kind
          sentAt
          tracked
          logged
          lastActivityAt
          openedRecipients
          clickedRecipients
          repliedRecipients
          sender {
            id
            name
            email
          }
          recipientCount
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

// Who went how far, asked for when the list's popover opens (a page of 25 emails to 50
// people each would otherwise read 1,250 recipients nobody looks at).
const RecipientActivityQuery = graphql(`
  query EmailRecipientActivity($id: ID!) {
    email(id: $id) {
      id
      recipients {
        id
        address
        activity
      }
    }
  }
`);

const ViewerIdQuery = graphql(`
  query EmailsViewer {
    viewer {
      id
    }
  }
`);

// Labels are emails.list.{kinds,activities,orders}.<value or ALL> (i18n).
const KINDS = ["", "SALES", "MARKETING"] as const;
const ACTIVITIES = ["", "NOT_OPENED", "OPENED", "OPENED_NOT_REPLIED", "REPLIED"] as const;
const ORDERS = ["SENT", "LAST_ACTIVITY"] as const;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The start of a local calendar day (YYYY-MM-DD), plus `days`, as an ISO time. */
function startOfDay(day: string, days = 0): string | null {
  if (!DAY.test(day)) return null;
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  const start = new Date(year, month - 1, date + days);
  return Number.isNaN(start.getTime()) ? null : start.toISOString();
}

export function EmailsPage() {
  const { t } = useTranslation("emails");
  usePageTitle(t("title"));
  const session = useSignedIn();
  const [composing, setComposing] = useState<ComposeDraft | null>(null);
  const [params, setParams] = useSearchParams();
  const kind = params.get("kind") ?? "";
  const since = params.get("since") ?? "";
  const until = params.get("until") ?? "";
  const mine = params.get("mine") === "1";
  const search = params.get("q") ?? "";
  const activity = ACTIVITIES.some((a) => a === params.get("activity")) ? (params.get("activity") as EmailActivity | "") : "";
  const orderBy: EmailOrder = params.get("order") === "LAST_ACTIVITY" ? "LAST_ACTIVITY" : "SENT";
  const [draft, setDraft] = useState(search);
  // Cursors of the pages before the current one; reset whenever a filter changes.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;

  const [{ data: who }] = useQuery({ query: ViewerIdQuery, pause: !mine });
  const viewerId = who?.viewer.id ?? null;
  const filter: EmailFilterInput = {
    kind: kind === "SALES" || kind === "MARKETING" ? (kind as EmailKind) : null,
    since: startOfDay(since),
    until: startOfDay(until, 1),
    senderId: mine ? viewerId : null,
    search: search || null,
    activity: activity || null,
  };
  const rangeWrong = since !== "" && until !== "" && since > until;
  const [{ data, fetching, error }, refetch] = useQuery({
    query: EmailsQuery,
    variables: { first: PAGE_SIZE, after, filter, orderBy },
    pause: rangeWrong || (mine && viewerId === null),
    // An empty page holds no Email for the cache to see: without this, an email sent from
    // "New email" would not invalidate it, and the list would still say "No emails yet".
    context: LIST_CONTEXT,
  });

  function setFilter(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
    setCursors([null]);
  }

  const filtered = kind !== "" || since !== "" || until !== "" || mine || search !== "" || activity !== "";
  // Admins (and support staff) export the account; reps, their own emails (R4).
  const everyone = session.role === "ADMIN" || session.isStaff;
  const exportFilter = {
    q: search,
    kind: filter.kind ? filter.kind.toLowerCase() : null,
    since: filter.since,
    until: filter.until,
    sender: filter.senderId == null ? null : String(filter.senderId),
  };

  let body;
  if (rangeWrong) {
    body = <Failed title={t("list.checkDates")} message={t("list.datesWrong")} />;
  } else if ((fetching || (mine && viewerId === null)) && !data) {
    body = <Loading label={t("list.loading")} />;
  } else if (error || !data) {
    body = (
      <Failed
        title={t("list.loadFailed")}
        message={error ? describeError(error) : t("noAnswerLoad")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else if (data.emails.edges.length === 0) {
    body = filtered ? (
      <Empty title={t("list.noMatch")}>{t("list.noMatchText")}</Empty>
    ) : (
      <Empty title={t("list.none")}>{t("list.noneText")}</Empty>
    );
  } else {
    const { pageInfo } = data.emails;
    body = (
      <Stack gap="sm">
        <Table.ScrollContainer minWidth={720} visibleFrom="sm">
          <Table striped highlightOnHover aria-label={t("list.label")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("list.columns.subject")}</Table.Th>
                <Table.Th>{t("list.columns.sender")}</Table.Th>
                <Table.Th>{t("list.columns.sent")}</Table.Th>
                <Table.Th>{t("list.columns.whoOpened")}</Table.Th>
                <Table.Th>{t("list.columns.lastActivity")}</Table.Th>
                <Table.Th>{t("list.columns.tracking")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.emails.edges.map(({ node: email }) => (
                <Table.Tr key={email.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/emails/${email.id}`}>
                      {email.subject || t("noSubject")}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{email.sender.name ?? email.sender.email}</Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>{email.sentAt ? formatDateTime(email.sentAt) : t("list.notSent")}</Table.Td>
                  <Table.Td data-key-column>
                    <WhoOpened email={email} />
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>{lastActivity(email, t("list.noneYet"))}</Table.Td>
                  <Table.Td>
                    <TrackingBadges email={email} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Stack component="ul" gap="xs" p={0} m={0} hiddenFrom="sm" style={{ listStyle: "none" }} aria-label={t("list.label")}>
          {data.emails.edges.map(({ node: email }) => (
            <Card withBorder padding="sm" component="li" key={email.id}>
              <Stack gap={4}>
                <Anchor component={Link} to={`/emails/${email.id}`} fw={600} style={{ overflowWrap: "anywhere" }}>
                  {email.subject || t("noSubject")}
                </Anchor>
                <div data-key-column>
                  <WhoOpened email={email} />
                </div>
                <Text size="sm" c="dimmed">
                  {email.sender.name ?? email.sender.email} · {email.sentAt ? formatDateTime(email.sentAt) : t("list.notSent")}
                  {email.tracked && t("list.cardLastActivity", { when: lastActivity(email, t("list.noneYet")) })}
                </Text>
                <TrackingBadges email={email} />
              </Stack>
            </Card>
          ))}
        </Stack>
        <Group justify="space-between">
          <Text size="sm" c="dimmed">
            {t("list.page", { page: cursors.length })}
          </Text>
          <Group gap="xs">
            <Button variant="default" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              {t("list.previous")}
            </Button>
            <Button
              variant="default"
              disabled={!pageInfo.hasNextPage || !pageInfo.endCursor}
              onClick={() => setCursors((c) => [...c, pageInfo.endCursor ?? null])}
            >
              {t("list.next")}
            </Button>
          </Group>
        </Group>
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Group justify="space-between" align="center" gap="sm">
        <Title order={1} size="h2">
          {t("title")}
        </Title>
        {!session.isStaff && <Button onClick={() => setComposing({})}>{t("newEmail")}</Button>}
      </Group>
      <Text c="dimmed">{t("list.intro")}</Text>
      <Compose draft={composing} onClose={() => setComposing(null)} />
      <form
        role="search"
        aria-label={t("list.filter")}
        onSubmit={(event) => {
          event.preventDefault();
          setFilter("q", draft.trim());
        }}
      >
        <Group align="flex-end" gap="sm" wrap="nowrap" mb="sm">
          <TextInput
            label={t("list.search")}
            description={t("list.searchText")}
            type="search"
            value={draft}
            onChange={(event) => setDraft(event.currentTarget.value)}
            style={{ flex: 1, minWidth: 0 }}
          />
          <Button type="submit" variant="default">
            {t("list.searchButton")}
          </Button>
        </Group>
        <SimpleGrid cols={{ base: 1, xs: 2, md: 3, lg: 6 }} spacing="sm" verticalSpacing="sm">
          <Select
            label={t("list.kind")}
            data={KINDS.map((value) => ({ value, label: t(`list.kinds.${value || "ALL"}`) }))}
            value={kind}
            onChange={(value) => setFilter("kind", value ?? "")}
            allowDeselect={false}
          />
          <TextInput type="date" label={t("list.since")} value={since} onChange={(event) => setFilter("since", event.currentTarget.value)} />
          <TextInput type="date" label={t("list.until")} value={until} onChange={(event) => setFilter("until", event.currentTarget.value)} />
          <Select
            label={t("list.activity")}
            data={ACTIVITIES.map((value) => ({ value, label: t(`list.activities.${value || "ALL"}`) }))}
            value={activity}
            onChange={(value) => setFilter("activity", value ?? "")}
            allowDeselect={false}
          />
          <Select
            label={t("list.sort")}
            data={ORDERS.map((value) => ({ value, label: t(`list.orders.${value}`) }))}
            value={orderBy}
            onChange={(value) => setFilter("order", value === "LAST_ACTIVITY" ? value : "")}
            allowDeselect={false}
          />
          <Checkbox
            label={t("list.mine")}
            checked={mine}
            onChange={(event) => setFilter("mine", event.currentTarget.checked ? "1" : "")}
            mt={{ base: 0, lg: 30 }}
          />
        </SimpleGrid>
      </form>
      <Group gap="xs" aria-label={t("list.export")}>
        <Button component="a" variant="default" size="xs" href={exportUrl("/exports/emails.csv", exportFilter)} download>
          {everyone ? t("list.exportEmails") : t("list.exportMyEmails")}
        </Button>
        <Button
          component="a"
          variant="default"
          size="xs"
          href={exportUrl("/exports/engagements.csv", { since: exportFilter.since, until: exportFilter.until, sender: exportFilter.sender })}
          download
        >
          {everyone ? t("list.exportEngagements") : t("list.exportMyEngagements")}
        </Button>
      </Group>
      {body}
    </Stack>
  );
}

/** A CSV export with the page's filters (the server limits a rep to their own emails). */
function exportUrl(path: string, filter: Record<string, string | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filter)) if (value) query.set(name, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

type ListedEmail = EmailsQueryResult["emails"]["edges"][number]["node"];

// Labels are emails.list.recipientActivity.<value> (i18n).
const RECIPIENT_COLORS = { NOT_OPENED: "gray", OPENED: "blue", CLICKED: "teal", REPLIED: "green" } as const;

function lastActivity(email: ListedEmail, none: string): string {
  if (!email.tracked || !email.lastActivityAt || email.lastActivityAt === email.sentAt) return none;
  return formatDateTime(email.lastActivityAt);
}

/** "2 of 3 opened · 1 clicked · 1 replied"; a click (or tap, or Enter) shows each recipient's status. */
function WhoOpened({ email }: { email: ListedEmail }) {
  const { t } = useTranslation("emails", { keyPrefix: "list" });
  if (!email.tracked) {
    return (
      <Text size="sm" c="dimmed">
        {t("loggedOnly")}
      </Text>
    );
  }
  const total = email.recipientCount;
  // Counted as reports count (R17): an open through a pixel several recipients share names
  // nobody (R15, "Someone") and counts nowhere; the email's page lists it.
  const summary = t("summary", {
    opened: email.openedRecipients,
    total,
    clicked: email.clickedRecipients,
    replied: email.repliedRecipients,
  });
  return (
    // Focus moves into the list (its link), so Escape closes it and focus returns to the button.
    <Popover width={300} shadow="md" position="bottom-start" withArrow trapFocus returnFocus>
      <Popover.Target>
        <Anchor component="button" type="button" size="sm" c="inherit" underline="always" style={{ textAlign: "left" }}>
          {summary}
        </Anchor>
      </Popover.Target>
      <Popover.Dropdown>
        {/* The dropdown is only rendered while open: its query runs when it opens. */}
        <RecipientActivityList email={email} />
        <Anchor component={Link} to={`/emails/${email.id}`} size="sm" mt="xs" display="inline-block">
          {t("everyEngagement")}
        </Anchor>
      </Popover.Dropdown>
    </Popover>
  );
}

/** Each recipient and how far they went, fetched when the popover opens. */
function RecipientActivityList({ email }: { email: ListedEmail }) {
  const { t } = useTranslation("emails", { keyPrefix: "list" });
  const [{ data, error, fetching }] = useQuery({ query: RecipientActivityQuery, variables: { id: email.id } });
  if (fetching && !data) return <Loading label={t("loadingRecipients")} />;
  if (error || !data?.email) return <Failed title={t("recipientsFailed")} message={error ? describeError(error) : ""} />;
  return (
    <List size="sm" spacing={4} listStyleType="none" aria-label={t("recipientsOf", { subject: email.subject })}>
      {data.email.recipients.map((recipient) => {
        const status = recipient.activity ?? "NOT_OPENED";
        return (
          <List.Item key={recipient.id}>
            <Group gap="xs" wrap="nowrap" justify="space-between">
              <Text size="sm" style={{ overflowWrap: "anywhere" }}>
                {recipient.address}
              </Text>
              <Badge size="sm" variant="light" color={RECIPIENT_COLORS[status]} style={{ flexShrink: 0, overflow: "visible" }}>
                {t(`recipientActivity.${status}`)}
              </Badge>
            </Group>
          </List.Item>
        );
      })}
    </List>
  );
}

function TrackingBadges({ email }: { email: ListedEmail }) {
  const { t } = useTranslation("emails", { keyPrefix: "badges" });
  // Badges keep their whole word: a narrow cell wraps them rather than cutting them ("TRAC…").
  return (
    <Group gap={4} wrap="wrap">
      {email.tracked && (
        <Badge variant="light" style={{ flexShrink: 0, overflow: "visible" }}>
          {t("tracked")}
        </Badge>
      )}
      {email.logged && (
        <Badge variant="light" color="teal" style={{ flexShrink: 0, overflow: "visible" }}>
          {t("logged")}
        </Badge>
      )}
      {email.kind === "MARKETING" && (
        <Badge variant="outline" style={{ flexShrink: 0, overflow: "visible" }}>
          {t("marketing")}
        </Badge>
      )}
      {!email.tracked && !email.logged && <Text size="sm">—</Text>}
    </Group>
  );
}
