// Words for the sending enums, shared by the outbound settings, the compose window and the
// email page's delivery status.
import type { DeliveryStatus, SmtpSecurity } from "../../gql/graphql";
import { currentLanguage } from "../../i18n";

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

/** Each status's colour; its words are compose.delivery.status.<status> (i18n). */
export const DELIVERY_COLORS: Record<DeliveryStatus, string> = {
  QUEUED: "gray",
  SENT: "green",
  RETRYING: "orange",
  FAILED: "red",
};

/** Whether nothing more will happen to a copy. */
export function isFinal(status: DeliveryStatus): boolean {
  return status === "SENT" || status === "FAILED";
}

/** A size as people read it: 12 KB, 1.4 MB (1,4 MB in German). */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${sizeNumber(bytes / (1024 * 1024))} MB`;
}

const sizeNumbers = new Map<string, Intl.NumberFormat>();

function sizeNumber(value: number): string {
  const language = currentLanguage();
  let format = sizeNumbers.get(language);
  if (!format) {
    format = new Intl.NumberFormat(language, { minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: false });
    sizeNumbers.set(language, format);
  }
  return format.format(value);
}
