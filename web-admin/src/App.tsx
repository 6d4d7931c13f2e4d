import { Anchor, Button, Center, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { Link, Navigate, Route, Routes, useLocation } from "react-router";

import { DomainsPage } from "./features/domains/DomainsPage";
import { ActivityPage } from "./features/activity/ActivityPage";
import { AuditLogPage } from "./features/audit/AuditLogPage";
import { ContactPage } from "./features/contacts/ContactPage";
import { ContactsPage } from "./features/contacts/ContactsPage";
import { EmailPage } from "./features/emails/EmailPage";
import { EmailsPage } from "./features/emails/EmailsPage";
import { OverviewPage } from "./features/overview/OverviewPage";
import { SignInPage } from "./features/session/SignInPage";
import { useSession } from "./features/session/SessionProvider";
import { SupportAccountPage, SupportAccountsPage } from "./features/support/SupportConsolePage";
import { TokensPage } from "./features/tenancy/TokensPage";
import { UsersPage } from "./features/tenancy/UsersPage";
import { TrackingSettingsPage } from "./features/tracking/TrackingSettingsPage";
import { WebhooksPage } from "./features/webhooks/WebhooksPage";
import { Shell } from "./shell/Shell";
import { Failed, Loading } from "./shell/States";
import { usePageTitle } from "./shell/usePageTitle";

function RequireSession({ children }: { children: ReactNode }) {
  const { state, retry } = useSession();
  const location = useLocation();
  if (state.status === "checking") return <Loading label="Checking your session…" />;
  if (state.status === "failed") {
    return (
      <Center p="md" mih="50dvh">
        <Failed title="Couldn't reach Sendtrail" message={state.message} onRetry={retry} />
      </Center>
    );
  }
  if (state.status === "signedOut") {
    const next = location.pathname === "/" ? "" : `?next=${encodeURIComponent(location.pathname + location.search)}`;
    return <Navigate to={`/sign-in${next}`} replace />;
  }
  return children;
}

function NotFoundPage() {
  usePageTitle("Page not found");
  return (
    <Stack gap="sm" align="flex-start">
      <Title order={1} size="h2">
        Page not found
      </Title>
      <Text>There is no page at this address.</Text>
      <Anchor component={Link} to="/">
        Go to the overview
      </Anchor>
    </Stack>
  );
}

function SignInGate() {
  const { state, retry } = useSession();
  if (state.status === "checking") return <Loading label="Checking your session…" />;
  if (state.status === "failed") {
    return (
      <Center p="md" mih="50dvh">
        <Stack>
          <Failed title="Couldn't reach Sendtrail" message={state.message} />
          <Button onClick={retry}>Try again</Button>
        </Stack>
      </Center>
    );
  }
  return <SignInPage />;
}

export function App() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignInGate />} />
      <Route
        element={
          <RequireSession>
            <Shell />
          </RequireSession>
        }
      >
        <Route index element={<OverviewPage />} />
        <Route path="settings/tracking" element={<TrackingSettingsPage />} />
        <Route path="settings/users" element={<UsersPage />} />
        <Route path="settings/tokens" element={<TokensPage />} />
        <Route path="settings/domains" element={<DomainsPage />} />
        <Route path="settings/webhooks" element={<WebhooksPage />} />
        <Route path="support" element={<SupportAccountsPage />} />
        <Route path="support/:accountId" element={<SupportAccountPage />} />
        <Route path="activity" element={<ActivityPage />} />
        <Route path="emails" element={<EmailsPage />} />
        <Route path="emails/:id" element={<EmailPage />} />
        <Route path="contacts" element={<ContactsPage />} />
        <Route path="contacts/:id" element={<ContactPage />} />
        <Route path="settings/audit" element={<AuditLogPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
