import { Anchor, Button, Center, Stack, Text, Title } from "@mantine/core";
import { type ComponentType, type ReactNode, lazy } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, Route, Routes, useLocation } from "react-router";

import { LiveActivity } from "./features/activity/LiveActivity";
import { InvitationPage } from "./features/session/InvitationPage";
import { SignInPage } from "./features/session/SignInPage";
import { useSession, useSignedIn } from "./features/session/SessionProvider";
import { Shell } from "./shell/Shell";
import { Failed, Loading } from "./shell/States";
import { usePageTitle } from "./shell/usePageTitle";

/** A page in a chunk of its own, loaded when its route is first shown (Shell's <Suspense>). */
function page<Name extends string>(load: () => Promise<Record<Name, ComponentType>>, name: Name) {
  return lazy(() => load().then((module) => ({ default: module[name] })));
}

const OverviewPage = page(() => import("./features/overview/OverviewPage"), "OverviewPage");
const ActivityPage = page(() => import("./features/activity/ActivityPage"), "ActivityPage");
const EmailsPage = page(() => import("./features/emails/EmailsPage"), "EmailsPage");
const EmailPage = page(() => import("./features/emails/EmailPage"), "EmailPage");
const ContactsPage = page(() => import("./features/contacts/ContactsPage"), "ContactsPage");
const ContactPage = page(() => import("./features/contacts/ContactPage"), "ContactPage");
const TrackingSettingsPage = page(() => import("./features/tracking/TrackingSettingsPage"), "TrackingSettingsPage");
const UsersPage = page(() => import("./features/tenancy/UsersPage"), "UsersPage");
const TokensPage = page(() => import("./features/tenancy/TokensPage"), "TokensPage");
const DomainsPage = page(() => import("./features/domains/DomainsPage"), "DomainsPage");
const OutboundMailPage = page(() => import("./features/sending/OutboundMailPage"), "OutboundMailPage");
const WebhooksPage = page(() => import("./features/webhooks/WebhooksPage"), "WebhooksPage");
const AuditLogPage = page(() => import("./features/audit/AuditLogPage"), "AuditLogPage");
const SupportAccountsPage = page(() => import("./features/support/SupportConsolePage"), "SupportAccountsPage");
const SupportAccountPage = page(() => import("./features/support/SupportConsolePage"), "SupportAccountPage");
const SupportEmailPage = page(() => import("./features/support/SupportEmailPage"), "SupportEmailPage");

function RequireSession({ children }: { children: ReactNode }) {
  const { t } = useTranslation("shell");
  const { state, retry } = useSession();
  const location = useLocation();
  if (state.status === "checking") return <Loading label={t("app.checkingSession")} />;
  if (state.status === "failed") {
    return (
      <Center p="md" mih="50dvh">
        <Failed title={t("app.unreachable")} message={state.message} onRetry={retry} />
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
  const { t } = useTranslation("shell");
  usePageTitle(t("app.notFound"));
  return (
    <Stack gap="sm" align="flex-start">
      <Title order={1} size="h2">
        {t("app.notFound")}
      </Title>
      <Text>{t("app.notFoundText")}</Text>
      <Anchor component={Link} to="/">
        {t("app.toOverview")}
      </Anchor>
    </Stack>
  );
}

/** Staff belong to no account, so the overview has nothing to show them: the console does
 * (also where signing in without a ?next= ends). */
function Home() {
  return useSignedIn().isStaff ? <Navigate to="/support" replace /> : <OverviewPage />;
}

function SignInGate() {
  const { t } = useTranslation("shell");
  const { state, retry } = useSession();
  if (state.status === "checking") return <Loading label={t("app.checkingSession")} />;
  if (state.status === "failed") {
    return (
      <Center p="md" mih="50dvh">
        <Stack>
          <Failed title={t("app.unreachable")} message={state.message} />
          <Button onClick={retry}>{t("states.retry")}</Button>
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
      <Route path="/invitation" element={<InvitationPage />} />
      <Route
        element={
          <RequireSession>
            <LiveActivity>
              <Shell />
            </LiveActivity>
          </RequireSession>
        }
      >
        <Route index element={<Home />} />
        <Route path="settings/tracking" element={<TrackingSettingsPage />} />
        <Route path="settings/users" element={<UsersPage />} />
        <Route path="settings/tokens" element={<TokensPage />} />
        <Route path="settings/domains" element={<DomainsPage />} />
        <Route path="settings/webhooks" element={<WebhooksPage />} />
        <Route path="settings/outbound" element={<OutboundMailPage />} />
        <Route path="support" element={<SupportAccountsPage />} />
        <Route path="support/:accountId" element={<SupportAccountPage />} />
        <Route path="support/:accountId/emails/:id" element={<SupportEmailPage />} />
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
