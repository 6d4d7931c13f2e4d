// The engagement report (R10, R17): opens and clicks over time with people beside machines,
// as a chart or a table, and the emails and links people engaged with most. Shown on the
// Overview (the viewer's emails, or the account's for admins) and in the support console.
import { Anchor, Card, Group, SegmentedControl, SimpleGrid, Stack, Switch, Table, Text, Title } from "@mantine/core";
import { type ReactNode, useId, useMemo, useState } from "react";
import { Link } from "react-router";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { EngagementReportQuery, ReportInterval, ReportScope } from "../../gql/graphql";
import { useAccountScope } from "../../shell/AccountScope";
import { Empty, Failed, Loading } from "../../shell/States";
import { type Counts, EngagementChart, EngagementTable, type Point } from "./EngagementChart";

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
const RANGES = {
  day: { label: "24 hours", interval: "HOUR", hours: 24 },
  week: { label: "7 days", interval: "DAY", hours: 24 * 7 },
  month: { label: "30 days", interval: "DAY", hours: 24 * 30 },
  quarter: { label: "90 days", interval: "DAY", hours: 24 * 90 },
} as const satisfies Record<string, { label: string; interval: ReportInterval; hours: number }>;
type Range = keyof typeof RANGES;

function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function bucketLabel(start: string, interval: ReportInterval, timeZone: string): string {
  const options: Intl.DateTimeFormatOptions =
    interval === "HOUR" ? { hour: "2-digit", minute: "2-digit" } : { day: "numeric", month: "short" };
  const text = new Intl.DateTimeFormat(undefined, { ...options, timeZone }).format(new Date(start));
  return interval === "WEEK" ? `Week of ${text}` : text;
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
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }}>
      <Stat label="Human opens" value={totals.humanOpens} hint="Counted in reports" />
      <Stat label="Human clicks" value={totals.humanClicks} hint="Counted in reports" />
      <Stat label="Machine opens" value={totals.machineOpens} hint="Scanners and proxies, not counted" />
      <Stat label="Machine clicks" value={totals.machineClicks} hint="Link checkers, not counted" />
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
          aria-label="Whose emails"
          value={scope}
          onChange={(value) => setScope(value as ReportScope)}
          data={[
            { value: "MINE", label: "My emails" },
            { value: "ACCOUNT", label: "Whole account" },
          ]}
        />
      )}
      <SegmentedControl
        aria-label="Period"
        value={range}
        onChange={(value) => setRange(value as Range)}
        data={Object.entries(RANGES).map(([value, { label }]) => ({ value, label }))}
      />
    </Group>
  );

  let body;
  if (fetching && !data) {
    body = <Loading label="Loading opens and clicks…" />;
  } else if (error || !data) {
    body = (
      <Failed
        title="Couldn't load opens and clicks"
        message={error ? describeError(error) : "No answer from the server."}
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
    const whose = scope === "ACCOUNT" ? `everyone at ${props.accountName}` : "you";
    const title = `Opens and clicks on emails sent by ${whose}, last ${RANGES[range].label} (${shown.timeZone})`;
    const any = Object.values(shown.totals).some((value) => value > 0);
    body = (
      <Stack gap="lg" aria-busy={fetching}>
        <Totals totals={shown.totals} />
        <Card withBorder padding="md" component="section" aria-labelledby="activity-chart">
          <Group justify="space-between" mb="xs">
            <Title order={2} size="h4" id="activity-chart">
              Activity over time
            </Title>
            <Switch label="Show as a table" checked={asTable} onChange={(event) => setAsTable(event.currentTarget.checked)} />
          </Group>
          <Text size="sm" c="dimmed" mb="sm">
            {title}. People are shown beside machines (security scanners, link checkers, image proxies), which
            are never notified or counted. Activity by “Someone” (a shared pixel) and senders' own opens are in
            neither.
          </Text>
          {!any ? (
            <Empty title="No opens or clicks in this period">
              Tracked emails' opens and clicks appear here once recipients read them.
            </Empty>
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
  const { emailPath } = useAccountScope(); // support staff open it in the console
  return (
    <RankedCard
      id="top-emails"
      title="Top emails"
      columns={["Subject", "Opens", "Clicks", "Opened by"]}
      empty={["No opened emails in this period", "Emails people opened or clicked will be ranked here."]}
      rows={report.topEmails.map((top) => ({
        key: top.email.id,
        name: (
          <Anchor component={Link} to={emailPath(top.email.id)}>
            {top.email.subject}
          </Anchor>
        ),
        numbers: [top.opens, top.clicks, `${top.recipientsOpened} ${top.recipientsOpened === 1 ? "recipient" : "recipients"}`],
      }))}
    />
  );
}

function TopLinks({ report }: { report: Report }) {
  return (
    <RankedCard
      id="top-links"
      title="Top links"
      columns={["Link", "Clicks", "In emails"]}
      empty={["No clicked links in this period", "Links people clicked will be ranked here."]}
      rows={report.topLinks.map((link) => ({ key: link.url, name: link.url, numbers: [link.clicks, link.emails] }))}
    />
  );
}
