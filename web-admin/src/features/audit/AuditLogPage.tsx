// The audit log for people (issue 15, defect 5): each entry a sentence naming who did what,
// a support visit one entry whose reads unfold, filters by person, kind and dates.
import { Alert, Button, Card, Collapse, Group, Select, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { AuditKind, AuditLogFilter } from "../../gql/graphql";
import { currentLanguage } from "../../i18n";
import { formatDateTime, formatNumber } from "../../i18n/format";
import { Empty, Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { useSignedIn } from "../session/SessionProvider";
import { Pager, useCursorPages } from "../contacts/paging";

const PAGE_SIZE = 25;

const AuditLogQuery = graphql(`
  query AuditLog($first: Int!, $after: String, $filter: AuditLogFilter) {
    auditLog(first: $first, after: $after, filter: $filter) {
      edges {
        node {
          id
          at
          startedAt
          kind
          summary
          readCount
          actorDetails {
            name
            kind
          }
          reads {
            at
            summary
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

const AuditActorsQuery = graphql(`
  query AuditActors {
    auditActors {
      label
      name
    }
  }
`);

const KINDS: readonly AuditKind[] = ["SETTINGS", "USERS", "TOKENS", "DOMAINS", "WEBHOOKS", "SENDING", "CONTACTS", "SUPPORT", "ACCOUNT", "OTHER"];

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The start of a local calendar day (YYYY-MM-DD), plus `days`, as an ISO time. */
function startOfDay(day: string, days = 0): string | null {
  if (!DAY.test(day)) return null;
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  const start = new Date(year, month - 1, date + days);
  return Number.isNaN(start.getTime()) ? null : start.toISOString();
}

const times = new Map<string, Intl.DateTimeFormat>();

/** A time of day as the chosen language writes it ("7:35 AM" / "07:35"). */
function formatTime(date: Date): string {
  const language = currentLanguage();
  let format = times.get(language);
  if (!format) {
    format = new Intl.DateTimeFormat(language, { timeStyle: "short" });
    times.set(language, format);
  }
  return format.format(date);
}

/** When an entry happened; a visit as its first and last read. */
function period(startedAt: string, at: string): string {
  const start = new Date(startedAt);
  const end = new Date(at);
  const sameDay = start.toDateString() === end.toDateString();
  if (formatDateTime(startedAt) === formatDateTime(at)) return formatDateTime(at);
  return `${formatDateTime(startedAt)} – ${sameDay ? formatTime(end) : formatDateTime(at)}`;
}

interface Entry {
  id: string;
  at: string;
  startedAt: string;
  summary: string;
  readCount: number;
  reads: { at: string; summary: string }[];
}

function EntryItem({ entry }: { entry: Entry }) {
  const { t } = useTranslation("audit");
  const [open, setOpen] = useState(false);
  const readsId = useId();
  const visit = entry.readCount > 0;
  return (
    <Card withBorder padding="sm" component="li" data-audit-entry>
      <Stack gap={4}>
        <Text style={{ overflowWrap: "anywhere" }}>{entry.summary}</Text>
        <Group justify="space-between" gap="xs" wrap="wrap">
          <Text size="sm" c="dimmed">
            {period(entry.startedAt, entry.at)}
          </Text>
          {visit && (
            <Button variant="subtle" size="compact-sm" aria-expanded={open} aria-controls={readsId} onClick={() => setOpen((was) => !was)}>
              {open ? t("visit.hide") : t("visit.show", { number: formatNumber(entry.readCount) })}
            </Button>
          )}
        </Group>
        {visit && (
          <Collapse expanded={open} id={readsId}>
            <Stack gap={2}>
              <Text size="sm" fw={600}>
                {t("visit.viewed", { count: entry.readCount })}
              </Text>
              <Stack component="ol" gap={2} m={0} pl="md" aria-label={t("visit.list")}>
                {entry.reads.map((read, index) => (
                  <Text component="li" size="sm" key={`${read.at}-${index}`} style={{ overflowWrap: "anywhere" }}>
                    <Text component="span" size="sm" c="dimmed">
                      {formatTime(new Date(read.at))}
                    </Text>{" "}
                    {read.summary}
                  </Text>
                ))}
              </Stack>
            </Stack>
          </Collapse>
        )}
      </Stack>
    </Card>
  );
}

export function AuditLogPage() {
  const { t } = useTranslation("audit");
  usePageTitle(t("title"));
  const session = useSignedIn();
  const allowed = session.role === "ADMIN" || session.isStaff;
  const pages = useCursorPages();
  const [params, setParams] = useSearchParams();
  const actor = params.get("actor") ?? "";
  const kindParam = params.get("kind") ?? "";
  const kind = KINDS.find((k) => k === kindParam) ?? null;
  const since = params.get("since") ?? "";
  const until = params.get("until") ?? "";
  const rangeWrong = since !== "" && until !== "" && since > until;
  const filter: AuditLogFilter = {
    actor: actor || null,
    kind,
    since: startOfDay(since),
    until: startOfDay(until, 1),
  };
  const [{ data, fetching, error }, refetch] = useQuery({
    query: AuditLogQuery,
    variables: { first: PAGE_SIZE, after: pages.after, filter },
    requestPolicy: "cache-and-network",
    pause: !allowed || rangeWrong,
  });
  const [{ data: actors }] = useQuery({ query: AuditActorsQuery, pause: !allowed });

  function setFilter(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
    pages.reset();
  }

  const filtered = actor !== "" || kind !== null || since !== "" || until !== "";
  let body;
  if (!allowed) {
    body = (
      <Alert color="blue" title={t("adminsOnly")}>
        {t("adminsOnlyText")}
      </Alert>
    );
  } else if (rangeWrong) {
    body = (
      <Alert color="yellow" title={t("checkDates")}>
        {t("checkDatesText")}
      </Alert>
    );
  } else if (fetching && !data) {
    body = <Loading label={t("loading")} />;
  } else if (error || !data) {
    body = (
      <Failed
        title={t("loadFailed")}
        message={error ? describeError(error) : t("noAnswer")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else if (data.auditLog.edges.length === 0) {
    body = filtered ? (
      <Empty title={t("noMatch")}>{t("noMatchText")}</Empty>
    ) : (
      <Empty title={t("empty")}>{t("emptyText")}</Empty>
    );
  } else {
    const { edges, pageInfo } = data.auditLog;
    body = (
      <Stack gap="sm">
        <Stack component="ul" gap="xs" p={0} m={0} style={{ listStyle: "none" }} aria-label={t("entries")}>
          {edges.map(({ node }) => (
            <EntryItem key={node.id} entry={node} />
          ))}
        </Stack>
        <Pager pages={pages} hasNextPage={pageInfo.hasNextPage} endCursor={pageInfo.endCursor} label={t("pages")} />
      </Stack>
    );
  }

  const actorChoices = (actors?.auditActors ?? []).map((a) => ({ value: a.label, label: a.name }));
  if (actor && !actorChoices.some((choice) => choice.value === actor)) actorChoices.push({ value: actor, label: actor });

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        {t("title")}
      </Title>
      <Text c="dimmed">{t("intro")}</Text>
      {allowed && (
        <form role="search" aria-label={t("filters.label")} onSubmit={(event) => event.preventDefault()}>
          <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="sm" verticalSpacing="sm">
            <Select
              label={t("filters.who")}
              placeholder={t("filters.everyone")}
              data={actorChoices}
              value={actor || null}
              onChange={(value) => setFilter("actor", value ?? "")}
              clearable
              searchable
              nothingFoundMessage={t("filters.nobody")}
            />
            <Select
              label={t("filters.what")}
              placeholder={t("filters.everything")}
              data={KINDS.map((value) => ({ value, label: t(`kinds.${value}`) }))}
              value={kind}
              onChange={(value) => setFilter("kind", value ?? "")}
              clearable
            />
            <TextInput type="date" label={t("filters.from")} value={since} onChange={(event) => setFilter("since", event.currentTarget.value)} />
            <TextInput type="date" label={t("filters.to")} value={until} onChange={(event) => setFilter("until", event.currentTarget.value)} />
          </SimpleGrid>
        </form>
      )}
      {body}
    </Stack>
  );
}
