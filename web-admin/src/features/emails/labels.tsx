// Words and badges shared by the email pages and a contact's timeline.
import { Badge } from "@mantine/core";
import { useTranslation } from "react-i18next";

import type { Verdict } from "../../gql/graphql";

/** A rule's category ("mail_client", "image_proxy") as words, for the rare hit with no
 * reason sentence of its own: the codes themselves are not for people. */
export function categoryLabel(category: string): string {
  const words = category.replace(/[_:]+/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : "";
}

const VERDICT_COLORS: Record<Verdict, string> = { HUMAN: "green", MACHINE: "orange", SELF: "grape" };

export function VerdictBadge({ verdict }: { verdict: Verdict }) {
  const { t } = useTranslation("emails", { keyPrefix: "verdicts" });
  return (
    <Badge color={VERDICT_COLORS[verdict]} variant="light" title={t(`${verdict}.title`)}>
      {t(`${verdict}.label`)}
    </Badge>
  );
}
