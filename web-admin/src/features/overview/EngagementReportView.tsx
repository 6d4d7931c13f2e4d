// The engagement report (R10, R17): opens and clicks over time with people beside machines,
// as a chart or a table, and the emails and links people engaged with most. Shown on the
// Overview (the viewer's emails, or the account's for admins) and in the support console.
import { Anchor, Card, Group, SegmentedControl, SimpleGrid, Stack, Switch, Table, Text, Title } from "@mantine/core";
import { type ReactNode, useId, useMemo, useState } from "react";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { EngagementReportQuery, ReportInterval, ReportScope } from "../../gql/graphql";
import { useAccountScope } from "../../shell/AccountScope";
import { Empty, Failed, Loading } from "../../shell/States";
import { type Counts, EngagementChart, EngagementTable, type Point } from "./EngagementChart";
import i18n, { currentLanguage } from "../../i18n";

const ReportDocument = graphql(`
  query EngagementReport($report: EngagementReportInput!) {
    engagementReport(input: $report) {
      since
      until
      timeZone
      interval
      totals {
        humanOpens
        humanClicks
        machineOpens
        machineClicks
      }
      buckets {
        start
        counts {
          humanOpens
          humanClicks
          machineOpens
          machineClicks
        }
      }
      topEmails {
        email {
          id
          subject
        }
        opens
        clicks
        recipientsOpened
      }
      topLinks {
        url
        clicks
        emails
      }
    }
  }
`);

const HOUR_MS = 3_600_000;
// Each range's label is report.ranges.<key> (i18n).
const RANGES = {
  day: { interval: "HOUR", hours: 24 },
  week: { interval: "DAY", hours: 24 * 7 },
  month: { interval: "DAY", hours: 24 * 30 },
  quarter: { interval: "DAY", hours: 24 * 90 },
} as const satisfies Record<string, { interval: ReportInterval; hours: number }>;
type Range = keyof typeof RANGES;

function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function bucketLabel(start: string, interval: ReportInterval, timeZone: string): string {
  const options: Intl.DateTimeFormatOptions =
    interval === "HOUR" ? { hour: "2-digit", minute: "2-digit" } : { day: "numeric", month: "short" };
  const text = new Intl.DateTimeFormat(currentLanguage(), { ...options, timeZone }).format(new Date(start));
  return interval === "WEEK" ? i18n.t("report:weekOf", { date: text }) : text;
}

/** A labelled group, so that screen readers say what the number counts. */
function Stat({ label, value, hint }: { label: string; value: number; hint: string }) {
  const labelId = useId();
  return (
    <Card withBorder padding="md" role="group" aria-labelledby={labelId}>
      <Text size="sm" c="dimmed" id={labelId}>
        {label}
      </Text>
      <Text fz={28} fw={700} data-stat-value>
        {value}
      </Text>
      <Text size="xs" c="dimmed">
        {hint}
      </Text>
    </Card>
  );
}

function Totals({ totals }: { totals: Counts }) {
  const { t } = useTranslation("report");
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }}>
      <Stat label={t("humanOpens")} value={totals.humanOpens} hint={t("countedHint")} />
      <Stat label={t("humanClicks")} value={totals.humanClicks} hint={t("countedHint")} />
      <Stat label={t("machineOpens")} value={totals.machineOpens} hint={t("machineOpensHint")} />
      <Stat label={t("machineClicks")} value={totals.machineClicks} hint={t("machineClicksHint")} />
    </SimpleGrid>
  );
}

interface ReportViewProps {
  accountName: string;
  /** Admins choose between their own emails and the account's; others see `scope`. */
  chooseScope: boolean;
  scope: ReportScope;
}

export function EngagementReportView(props: ReportViewProps) {
  const { t } = useTranslation("report");
  const [range, setRange] = useState<Range>("week");
  const [scope, setScope] = useState<ReportScope>(props.scope);
  const [asTable, setAsTable] = useState(false);
  const timeZone = useMemo(browserTimeZone, []);
  // The range is fixed when it is chosen, so that re-rendering never starts a new query.
  const report = useMemo(
    () => ({
      scope,
      timeZone,
      interval: RANGES[range].interval,
      since: new Date(Date.now() - RANGES[range].hours * HOUR_MS).toISOString(),
    }),
    [range, scope, timeZone],
  );
  const [{ data, fetching, error }, refetch] = useQuery({ query: ReportDocument, variables: { report } });

  const controls = (
    <Group gap="sm" justify="flex-end">
      {props.chooseScope && (
        <SegmentedControl
          aria-label={t("whose")}
          value={scope}
          onChange={(value) => setScope(value as ReportScope)}
          data={[
            { value: "MINE", label: t("mine") },
            { value: "ACCOUNT", label: t("account") },
          ]}
        />
      )}
      <SegmentedControl
        aria-label={t("period")}
        value={range}
        onChange={(value) => setRange(value as Range)}
        data={(Object.keys(RANGES) as Range[]).map((value) => ({ value, label: t(`ranges.${value}`) }))}
      />
    </Group>
  );

  let body;
  if (fetching && !data) {
    body = <Loading label={t("loading")} />;
  } else if (error || !data) {
    body = (
      <Failed
        title={t("failed")}
        message={error ? describeError(error) : t("noAnswer")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else {
    const shown = data.engagementReport;
    const points: Point[] = shown.buckets.map((bucket) => ({
      start: bucket.start,
      label: bucketLabel(bucket.start, shown.interval, shown.timeZone),
      counts: bucket.counts,
    }));
    const whose = scope === "ACCOUNT" ? t("everyoneAt", { account: props.accountName }) : t("you");
    const title = t("title", { whose, range: t(`ranges.${range}`), timeZone: shown.timeZone });
    const any = Object.values(shown.totals).some((value) => value > 0);
    body = (
      <Stack gap="lg" aria-busy={fetching}>
        <Totals totals={shown.totals} />
        <Card withBorder padding="md" component="section" aria-labelledby="activity-chart">
          <Group justify="space-between" mb="xs">
            <Title order={2} size="h4" id="activity-chart">
              {t("activity")}
            </Title>
            <Switch label={t("asTable")} checked={asTable} onChange={(event) => setAsTable(event.currentTarget.checked)} />
          </Group>
          <Text size="sm" c="dimmed" mb="sm">
            {t("explain", { title })}
          </Text>
          {!any ? (
            <Empty title={t("emptyTitle")}>{t("emptyText")}</Empty>
          ) : asTable ? (
            <EngagementTable points={points} caption={title} />
          ) : (
            <figure aria-label={title} style={{ margin: 0 }}>
              <EngagementChart points={points} title={title} />
            </figure>
          )}
        </Card>
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <TopEmails report={shown} />
          <TopLinks report={shown} />
        </SimpleGrid>
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      {controls}
      {body}
    </Stack>
  );
}

type Report = EngagementReportQuery["engagementReport"];

interface Ranked {
  key: string;
  name: ReactNode;
  numbers: (string | number)[];
}

/** A card ranking what people engaged with most: a name, then right-aligned numbers. */
function RankedCard(props: { id: string; title: string; columns: string[]; rows: Ranked[]; empty: [string, string] }) {
  const [name, ...numbers] = props.columns;
  return (
    <Card withBorder padding="md" component="section" aria-labelledby={props.id}>
      <Title order={2} size="h4" id={props.id} mb="sm">
        {props.title}
      </Title>
      {props.rows.length === 0 ? (
        <Empty title={props.empty[0]}>{props.empty[1]}</Empty>
      ) : (
        <Table.ScrollContainer minWidth={300}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">{name}</Table.Th>
                {numbers.map((column) => (
                  <Table.Th scope="col" ta="right" key={column}>
                    {column}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {props.rows.map((row) => (
                <Table.Tr key={row.key}>
                  <Table.Td style={{ overflowWrap: "anywhere" }}>{row.name}</Table.Td>
                  {row.numbers.map((value, index) => (
                    <Table.Td ta="right" key={numbers[index]}>
                      {value}
                    </Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}

function TopEmails({ report }: { report: Report }) {
  const { t } = useTranslation("report");
  const { emailPath } = useAccountScope(); // support staff open it in the console
  return (
    <RankedCard
      id="top-emails"
      title={t("topEmails")}
      columns={[t("subject"), t("opens"), t("clicks"), t("openedBy")]}
      empty={[t("noTopEmails"), t("noTopEmailsText")]}
      rows={report.topEmails.map((top) => ({
        key: top.email.id,
        name: (
          <Anchor component={Link} to={emailPath(top.email.id)}>
            {top.email.subject}
          </Anchor>
        ),
        numbers: [top.opens, top.clicks, t("recipients", { count: top.recipientsOpened })],
      }))}
    />
  );
}

function TopLinks({ report }: { report: Report }) {
  const { t } = useTranslation("report");
  return (
    <RankedCard
      id="top-links"
      title={t("topLinks")}
      columns={[t("link"), t("clicks"), t("inEmails")]}
      empty={[t("noTopLinks"), t("noTopLinksText")]}
      rows={report.topLinks.map((link) => ({ key: link.url, name: link.url, numbers: [link.clicks, link.emails] }))}
    />
  );
}
