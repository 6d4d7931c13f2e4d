import { Table } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface Counts {
  humanOpens: number;
  humanClicks: number;
  machineOpens: number;
  machineClicks: number;
}

export interface Point {
  start: string;
  label: string;
  counts: Counts;
}

// Two stacks per bucket, side by side: people (what reports count) and machines (R10).
// Names are report.<key> (i18n).
export const SERIES = [
  { key: "humanOpens", stack: "human", color: "var(--mantine-color-blue-6)" },
  { key: "humanClicks", stack: "human", color: "var(--mantine-color-teal-7)" },
  { key: "machineOpens", stack: "machine", color: "var(--mantine-color-gray-5)" },
  { key: "machineClicks", stack: "machine", color: "var(--mantine-color-gray-8)" },
] as const;

export function EngagementChart({ points, title }: { points: Point[]; title: string }) {
  const { t } = useTranslation("report");
  const data = points.map((point) => ({ label: point.label, ...point.counts }));
  return (
    <ResponsiveContainer width="100%" height={280}>
      <BarChart data={data} title={title} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="label" tick={{ fontSize: 12 }} minTickGap={12} />
        <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
        <Tooltip />
        {/* People first, then machines: the order of SERIES, not alphabetical. */}
        <Legend itemSorter={(item) => SERIES.findIndex((series) => t(series.key) === item.value)} />
        {SERIES.map((series) => (
          <Bar
            key={series.key}
            dataKey={series.key}
            name={t(series.key)}
            stackId={series.stack}
            fill={series.color}
            isAnimationActive={false}
          />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}

/** The chart's numbers, for screen readers and for anyone who prefers a table. */
export function EngagementTable({ points, caption }: { points: Point[]; caption: string }) {
  const { t } = useTranslation("report");
  return (
    <Table.ScrollContainer minWidth={520}>
      <Table striped captionSide="top">
        <Table.Caption>{caption}</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">{t("periodColumn")}</Table.Th>
            {SERIES.map((series) => (
              <Table.Th scope="col" key={series.key} ta="right">
                {t(series.key)}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {points.map((point) => (
            <Table.Tr key={point.start}>
              <Table.Th scope="row" fw={400}>
                {point.label}
              </Table.Th>
              {SERIES.map((series) => (
                <Table.Td key={series.key} ta="right">
                  {point.counts[series.key]}
                </Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
