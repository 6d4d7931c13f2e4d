import { Alert, Button, Center, Group, Paper, PasswordInput, Stack, TextInput, Title, Text } from "@mantine/core";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { Navigate, useLocation } from "react-router";

import { AuthError } from "../../api/auth";
import { LanguagePicker } from "../../shell/LanguagePicker";
import { usePageTitle } from "../../shell/usePageTitle";
import { useSession } from "./SessionProvider";

export function SignInPage() {
  const { t } = useTranslation("session");
  usePageTitle(t("title"));
  const { state, signIn } = useSession();
  const location = useLocation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (state.status === "signedIn") {
    const asked = new URLSearchParams(location.search).get("next");
    // Only same-site paths: a crafted ?next= must not send people elsewhere. Support staff
    // read nothing before choosing an account, so they always start in the console.
    const sameSite = asked?.startsWith("/") && !asked.startsWith("//") ? asked : "/";
    const staff = state.session.isStaff;
    const next = staff && !sameSite.startsWith("/support") ? "/support" : sameSite;
    return <Navigate to={next} replace />;
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await signIn(email.trim(), password);
    } catch (caught) {
      setError(caught instanceof AuthError ? caught.message : t("somethingWrong"));
      setPassword("");
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center component="main" mih="100dvh" p="md">
      <Paper withBorder shadow="sm" radius="md" p="xl" w="100%" maw={420}>
        <form onSubmit={submit} noValidate aria-describedby={error ? "sign-in-error" : undefined}>
          <Stack>
            <Group justify="space-between" align="flex-start" wrap="nowrap" gap="xs">
              <div>
                <Title order={1} size="h2">
                  {t("heading")}
                </Title>
                <Text c="dimmed" size="sm">
                  {t("intro")}
                </Text>
              </div>
              <LanguagePicker />
            </Group>
            {error && (
              <Alert id="sign-in-error" color="red" role="alert" title={t("failed")}>
                {error}
              </Alert>
            )}
            <TextInput
              label={t("email")}
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(event) => setEmail(event.currentTarget.value)}
            />
            <PasswordInput
              label={t("password")}
              autoComplete="current-password"
              required
              value={password}
              onChange={(event) => setPassword(event.currentTarget.value)}
            />
            <Button type="submit" loading={busy} disabled={!email.trim() || !password}>
              {t("submit")}
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
