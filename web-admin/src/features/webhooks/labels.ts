// Words for webhook event types and delivery statuses.
import type { WebhookDeliveryStatus } from "../../gql/graphql";

/** The event types an endpoint can subscribe to (webhook.test comes only from "Send test event"). */
export const EVENT_TYPES = [
  { value: "engagement.opened", label: "Opened", help: "A recipient opened an email." },
  { value: "engagement.clicked", label: "Clicked", help: "A recipient clicked a tracked link." },
  { value: "engagement.replied", label: "Replied", help: "A recipient replied." },
] as const;

export function eventLabel(type: string): string {
  if (type === "webhook.test") return "Test";
  return EVENT_TYPES.find((event) => event.value === type)?.label ?? type;
}

export const STATUS: Record<WebhookDeliveryStatus, { label: string; color: string; help: string }> = {
  PENDING: { label: "Pending", color: "blue", help: "Waiting for its next attempt" },
  DELIVERED: { label: "Delivered", color: "green", help: "The endpoint answered 2xx" },
  FAILED: { label: "Failed", color: "red", help: "Every attempt failed; replay it" },
  DISABLED: { label: "Held", color: "gray", help: "Held while the endpoint is paused or disabled" },
  SUPPRESSED: { label: "Suppressed", color: "orange", help: "Not sent, and never will be" },
};
