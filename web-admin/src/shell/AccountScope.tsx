// Where the pages of the account being read live. Its own users read /emails/<id>; support
// staff, members of no account, read it under /support/<account>/… (where /emails/<id> would
// find nothing for them), and the download and frame links of those pages name the account
// with ?account=<id>, since a link carries no X-Sendtrail-Account header.
import { type ReactNode, createContext, useContext, useMemo } from "react";

import i18n from "../i18n";

export interface AccountScope {
  /** The page of one email. */
  emailPath: (id: string) => string;
  /** Where an email's page goes back to, and what that link says. */
  back: { to: string; label: string };
  /** A same-origin API link (attachment, logged HTML, export) as this reader must follow it. */
  link: (path: string) => string;
}

const OWN_ACCOUNT: AccountScope = {
  emailPath: (id) => `/emails/${id}`,
  back: {
    to: "/emails",
    get label() {
      return i18n.t("shell:back.emails"); // in the language the page is shown in
    },
  },
  link: (path) => path,
};

const Scope = createContext<AccountScope>(OWN_ACCOUNT);

export function useAccountScope(): AccountScope {
  return useContext(Scope);
}

/** The support console's path for a tab of an inspected account. */
export function supportPath(accountId: string, tab?: string): string {
  return `/support/${accountId}${tab ? `?tab=${tab}` : ""}`;
}

/** Support staff reading ``accountId`` (read-only, every read audited by the server). */
export function SupportScope({ accountId, children }: { accountId: string; children: ReactNode }) {
  const scope = useMemo<AccountScope>(
    () => ({
      emailPath: (id) => `/support/${accountId}/emails/${id}`,
      back: {
        to: supportPath(accountId, "emails"),
        get label() {
          return i18n.t("shell:back.accountEmails");
        },
      },
      link(path) {
        const url = new URL(path, window.location.origin);
        url.searchParams.set("account", accountId);
        return `${url.pathname}${url.search}${url.hash}`;
      },
    }),
    [accountId],
  );
  return <Scope.Provider value={scope}>{children}</Scope.Provider>;
}
