// The admin's words by language and area: en/<namespace>.json is the source, de/ its German
// translation. Plain JSON so translators' tools and the browser tests read the same files; the
// compiler refuses a German catalogue that misses a key of the English one. One file per
// namespace (one area of the admin each) so that areas change apart.
import deActivity from "./de/activity.json";
import deAudit from "./de/audit.json";
import deCompose from "./de/compose.json";
import deContacts from "./de/contacts.json";
import deDomains from "./de/domains.json";
import deEmails from "./de/emails.json";
import deInvitation from "./de/invitation.json";
import deOutbound from "./de/outbound.json";
import deOverview from "./de/overview.json";
import deReport from "./de/report.json";
import deSession from "./de/session.json";
import deShell from "./de/shell.json";
import deSupport from "./de/support.json";
import deTokens from "./de/tokens.json";
import deTracking from "./de/tracking.json";
import deUsers from "./de/users.json";
import deWebhooks from "./de/webhooks.json";
import enActivity from "./en/activity.json";
import enAudit from "./en/audit.json";
import enCompose from "./en/compose.json";
import enContacts from "./en/contacts.json";
import enDomains from "./en/domains.json";
import enEmails from "./en/emails.json";
import enInvitation from "./en/invitation.json";
import enOutbound from "./en/outbound.json";
import enOverview from "./en/overview.json";
import enReport from "./en/report.json";
import enSession from "./en/session.json";
import enShell from "./en/shell.json";
import enSupport from "./en/support.json";
import enTokens from "./en/tokens.json";
import enTracking from "./en/tracking.json";
import enUsers from "./en/users.json";
import enWebhooks from "./en/webhooks.json";

/** The same keys as ``T``, every value a string (or a list of strings) in another language. */
export type Catalogue<T> = {
  [K in keyof T]: T[K] extends string ? string : T[K] extends readonly string[] ? readonly string[] : Catalogue<T[K]>;
};

export const en = {
  activity: enActivity,
  audit: enAudit,
  compose: enCompose,
  contacts: enContacts,
  domains: enDomains,
  emails: enEmails,
  invitation: enInvitation,
  outbound: enOutbound,
  overview: enOverview,
  report: enReport,
  session: enSession,
  shell: enShell,
  support: enSupport,
  tokens: enTokens,
  tracking: enTracking,
  users: enUsers,
  webhooks: enWebhooks,
};

export const de: Catalogue<typeof en> = {
  activity: deActivity,
  audit: deAudit,
  compose: deCompose,
  contacts: deContacts,
  domains: deDomains,
  emails: deEmails,
  invitation: deInvitation,
  outbound: deOutbound,
  overview: deOverview,
  report: deReport,
  session: deSession,
  shell: deShell,
  support: deSupport,
  tokens: deTokens,
  tracking: deTracking,
  users: deUsers,
  webhooks: deWebhooks,
};
