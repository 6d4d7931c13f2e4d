// Words for enum values and dates, shared by the users, tokens and domains pages.
import type { Role, Seat, TokenScope } from "../../gql/graphql";
import { currentLanguage } from "../../i18n";

export const SEAT_LABELS: Record<Seat, string> = {
  FREE: "Free",
  SALES_STARTER: "Sales Starter",
  SALES_PROFESSIONAL: "Sales Professional",
  SALES_ENTERPRISE: "Sales Enterprise",
};

export const ROLE_LABELS: Record<Role, string> = { ADMIN: "Admin", USER: "User" };

export const SCOPE_LABELS: Record<TokenScope, string> = {
  READ: "Read",
  WRITE: "Write",
  ADMIN: "Admin",
  SEND: "Send",
};

export const SEAT_OPTIONS = (Object.keys(SEAT_LABELS) as Seat[]).map((value) => ({ value, label: SEAT_LABELS[value] }));
export const ROLE_OPTIONS = (Object.keys(ROLE_LABELS) as Role[]).map((value) => ({ value, label: ROLE_LABELS[value] }));

/** A date and time in the reader's locale, or a dash. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString(currentLanguage(), { dateStyle: "medium", timeStyle: "short" });
}
