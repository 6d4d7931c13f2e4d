// "3 minutes ago", with the exact time on hover, focus or touch: recent activity reads at
// a glance, and the moment itself is one gesture away.
import { Text, Tooltip } from "@mantine/core";
import { useSyncExternalStore } from "react";

import { currentLanguage } from "../i18n";
import { formatDateTime } from "../i18n/format";

const relatives = new Map<string, Intl.RelativeTimeFormat>();

/** "3 minutes ago" / "vor 3 Minuten": one formatter per language, the page's language now. */
function relative(): Intl.RelativeTimeFormat {
  const language = currentLanguage();
  let format = relatives.get(language);
  if (!format) {
    format = new Intl.RelativeTimeFormat(language, { numeric: "auto" });
    relatives.set(language, format);
  }
  return format;
}
const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 7],
  ["week", 4.35],
  ["month", 12],
  ["year", Number.POSITIVE_INFINITY],
];

/** How long ago `iso` was, in words ("3 minutes ago", "yesterday"), as of `now`. */
export function formatAgo(iso: string, now: number): string {
  const at = new Date(iso).getTime();
  if (Number.isNaN(at)) return iso;
  // A clock a little ahead of this one's is not "in 2 seconds".
  let amount = Math.min(0, (at - now) / 1000);
  for (const [unit, size] of STEPS) {
    if (Math.abs(amount) < size) return relative().format(Math.round(amount), unit);
    amount /= size;
  }
  return formatDateTime(iso);
}

const TICK_MS = 30_000;

/** One clock for every time on the page (a feed shows dozens), ticking while one is shown. */
const clock = {
  now: Date.now(),
  listeners: new Set<() => void>(),
  timer: 0,
  subscribe(listener: () => void): () => void {
    clock.listeners.add(listener);
    if (clock.listeners.size === 1) {
      clock.now = Date.now();
      clock.timer = window.setInterval(() => {
        clock.now = Date.now();
        for (const notify of clock.listeners) notify();
      }, TICK_MS);
    }
    return () => {
      clock.listeners.delete(listener);
      if (clock.listeners.size === 0) window.clearInterval(clock.timer);
    };
  },
};

function useNow(): number {
  return useSyncExternalStore(clock.subscribe, () => clock.now);
}

export function RelativeTime({ iso }: { iso: string }) {
  const now = useNow();
  const exact = formatDateTime(iso);
  return (
    <Tooltip label={exact} events={{ hover: true, focus: true, touch: true }} withArrow>
      <Text size="sm" c="dimmed" component="time" dateTime={iso} tabIndex={0} style={{ whiteSpace: "nowrap" }}>
        {formatAgo(iso, now)}
      </Text>
    </Tooltip>
  );
}
