// Words for the sending enums, shared by the outbound settings, the compose window and the
// email page's delivery status.
import type { DeliveryStatus, SmtpSecurity } from "../../gql/graphql";

export const SECURITY_OPTIONS: { value: SmtpSecurity; label: string }[] = [
  { value: "STARTTLS", label: "STARTTLS (usually port 587)" },
  { value: "TLS", label: "TLS from the start (usually port 465)" },
  { value: "NONE", label: "None (a private server only)" },
];

export const IMAP_SECURITY_OPTIONS: { value: SmtpSecurity; label: string }[] = [
  { value: "TLS", label: "TLS from the start (usually port 993)" },
  { value: "STARTTLS", label: "STARTTLS (usually port 143)" },
  { value: "NONE", label: "None (a private server only)" },
];

export const SECURITY_LABELS: Record<SmtpSecurity, string> = { TLS: "TLS", STARTTLS: "STARTTLS", NONE: "no encryption" };

/** The port people expect for a security choice; filled in when they change it. */
export function defaultPort(security: SmtpSecurity, imap: boolean): number {
  if (imap) return security === "TLS" ? 993 : 143;
  return security === "TLS" ? 465 : 587;
}

export function isSecurity(value: string): value is SmtpSecurity {
  return value === "TLS" || value === "STARTTLS" || value === "NONE";
}

export const DELIVERY_LABELS: Record<DeliveryStatus, { label: string; color: string }> = {
  QUEUED: { label: "Queued", color: "gray" },
  SENT: { label: "Sent", color: "green" },
  RETRYING: { label: "Retrying", color: "orange" },
  FAILED: { label: "Failed", color: "red" },
};

/** Whether nothing more will happen to a copy. */
export function isFinal(status: DeliveryStatus): boolean {
  return status === "SENT" || status === "FAILED";
}

/** A size as people read it: 12 KB, 1.4 MB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
