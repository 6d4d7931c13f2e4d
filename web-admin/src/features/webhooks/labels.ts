// Words for webhook event types and delivery statuses, in the chosen language (webhooks.json);
// shared with the support console's read-only view.
import type { WebhookDeliveryStatus } from "../../gql/graphql";
import i18n from "../../i18n";

type EventKey = "opened" | "clicked" | "replied" | "reclassified";

/** The event types an endpoint can subscribe to (webhook.test comes only from "Send test event");
 * words are webhooks.events.<key>.{label,help}. */
export const EVENT_TYPES: readonly { value: string; key: EventKey }[] = [
  { value: "engagement.opened", key: "opened" },
  { value: "engagement.clicked", key: "clicked" },
  { value: "engagement.replied", key: "replied" },
  { value: "engagement.reclassified", key: "reclassified" },
];

export function eventHelp(key: EventKey): string {
  return i18n.t(`events.${key}.help`, { ns: "webhooks" });
}

export function eventLabel(type: string): string {
  if (type === "webhook.test") return i18n.t("events.test", { ns: "webhooks" });
  const event = EVENT_TYPES.find((candidate) => candidate.value === type);
  return event ? i18n.t(`events.${event.key}.label`, { ns: "webhooks" }) : type;
}

/** A status's words, read in the language shown when they are read. */
function status(key: WebhookDeliveryStatus, color: string): { readonly label: string; readonly color: string; readonly help: string } {
  return {
    color,
    get label() {
      return i18n.t(`status.${key}.label`, { ns: "webhooks" });
    },
    get help() {
      return i18n.t(`status.${key}.help`, { ns: "webhooks" });
    },
  };
}

export const STATUS: Record<WebhookDeliveryStatus, { readonly label: string; readonly color: string; readonly help: string }> = {
  PENDING: status("PENDING", "blue"),
  DELIVERED: status("DELIVERED", "green"),
  FAILED: status("FAILED", "red"),
  DISABLED: status("DISABLED", "gray"),
  SUPPRESSED: status("SUPPRESSED", "orange"),
};
