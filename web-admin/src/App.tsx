import { Anchor, Button, Center, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { Link, Navigate, Route, Routes, useLocation } from "react-router";

import { OverviewPage } from "./features/overview/OverviewPage";
import { SignInPage } from "./features/session/SignInPage";
import { useSession } from "./features/session/SessionProvider";
import { TrackingSettingsPage } from "./features/tracking/TrackingSettingsPage";
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
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
