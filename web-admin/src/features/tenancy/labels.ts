// Words for enum values and dates, shared by the users, tokens and domains pages. Each label
// is read from i18next when it is shown, so it is in the language the page is shown in.
import type { Role, Seat, TokenScope } from "../../gql/graphql";
import i18n from "../../i18n";
import { formatDateTime as formatInLanguage } from "../../i18n/format";

/** ``keys`` as an object whose every value is ``label(key)`` when read. */
function labels<K extends string>(keys: readonly K[], label: (key: K) => string): Readonly<Record<K, string>> {
  const properties = Object.fromEntries(keys.map((key) => [key, { enumerable: true, get: () => label(key) }]));
  return Object.defineProperties({} as Record<K, string>, properties);
}

const SEATS: readonly Seat[] = ["FREE", "SALES_STARTER", "SALES_PROFESSIONAL", "SALES_ENTERPRISE"];
const ROLES: readonly Role[] = ["ADMIN", "USER"];
const SCOPES: readonly TokenScope[] = ["READ", "WRITE", "ADMIN", "SEND"];

export const SEAT_LABELS = labels(SEATS, (seat) => i18n.t(`users:seats.${seat}`));

export const ROLE_LABELS = labels(ROLES, (role) => i18n.t(`users:roles.${role}`));

export const SCOPE_LABELS = labels(SCOPES, (scope) => i18n.t(`tokens:scopes.${scope}.label`));

/** The seats as choices of a select, in the reader's language. */
export function seatOptions(): { value: Seat; label: string }[] {
  return SEATS.map((value) => ({ value, label: SEAT_LABELS[value] }));
}

/** The roles as choices of a select, in the reader's language. */
export function roleOptions(): { value: Role; label: string }[] {
  return ROLES.map((value) => ({ value, label: ROLE_LABELS[value] }));
}

/** A date and time in the reader's language, or a dash. */
export function formatDateTime(value: string | null | undefined): string {
  return formatInLanguage(value);
}
