// What every support page of an inspected account shares: staff only, the notice that the
// access is recorded, a GraphQL client of its own that names the account in the
// X-Sendtrail-Account header (nothing cached for one account shows for another), and the
// account's paths (AccountScope) so that its links stay in the console.
import { Alert } from "@mantine/core";
import { type ReactNode, useMemo } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { Provider } from "urql";

import { createGraphQLClient } from "../../api/client";
import { SupportScope } from "../../shell/AccountScope";
import { useSession, useSignedIn } from "../session/SessionProvider";

export function StaffOnly() {
  const { t } = useTranslation("support");
  return (
    <Alert color="blue" title={t("frame.staffOnly")}>
      {t("frame.staffOnlyText")}
    </Alert>
  );
}

/** The account read is the route's `:accountId`. */
export function SupportAccountFrame({ children }: { children: ReactNode }) {
  const { t } = useTranslation("support");
  const session = useSignedIn();
  const { retry } = useSession();
  const { accountId = "" } = useParams();
  const client = useMemo(() => createGraphQLClient(retry, accountId), [retry, accountId]);
  if (!session.isStaff) return <StaffOnly />;
  return (
    <>
      <Alert color="yellow" title={t("frame.recorded")} role="note">
        {t("frame.recordedText")}
      </Alert>
      <Provider value={client}>
        <SupportScope accountId={accountId}>{children}</SupportScope>
      </Provider>
    </>
  );
}
