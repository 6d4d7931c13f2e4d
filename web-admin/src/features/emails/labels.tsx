// Words and badges shared by the activity feed and the email pages.
import { Badge } from "@mantine/core";

import type { EngagementType, Verdict } from "../../gql/graphql";
import { currentLanguage } from "../../i18n";

const WHEN = new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "medium", timeStyle: "short" });

/** A time as people read it, in their own time zone. */
export function formatWhen(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : WHEN.format(date);
}

/** A rule's category ("mail_client", "image_proxy") as words, for the rare hit with no
 * reason sentence of its own: the codes themselves are not for people. */
export function categoryLabel(category: string): string {
  const words = category.replace(/[_:]+/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : "";
}

const VERBS: Record<EngagementType, string> = {
  OPEN: "opened",
  CLICK: "clicked a link in",
  REPLY: "replied to",
};

export function verbOf(type: EngagementType): string {
  return VERBS[type];
}

export const TYPE_LABELS: Record<EngagementType, string> = { OPEN: "Open", CLICK: "Click", REPLY: "Reply" };

const VERDICTS: Record<Verdict, { color: string; title: string }> = {
  HUMAN: { color: "green", title: "A person" },
  MACHINE: { color: "orange", title: "A machine (scanner, proxy or crawler): not reported as an open or click" },
  SELF: { color: "grape", title: "The sender themselves: not reported as an open or click" },
};

export function VerdictBadge({ verdict }: { verdict: Verdict }) {
  const { color, title } = VERDICTS[verdict];
  return (
    <Badge color={color} variant="light" title={title}>
      {verdict}
    </Badge>
  );
}
