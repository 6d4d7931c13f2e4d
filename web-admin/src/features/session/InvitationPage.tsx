// An invitation link (/invitation#token, issue 15 defect 3): who invited you to which
// account, a password typed twice, and you are signed in. The token stays in the #fragment,
// which browsers never send: it reaches the server only in a header and a JSON body, never
// in a URL that a log or a Referer could keep.
import { Alert, Anchor, Button, Center, Loader, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { type FormEvent, useEffect, useState } from "react";
import { Trans, useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate } from "react-router";

import { AuthError, type InvitationDetails, acceptInvitation, showInvitation } from "../../api/auth";
import { usePageTitle } from "../../shell/usePageTitle";
import i18n from "../../i18n";
import { formatDateTime } from "../../i18n/format";
import { useSession } from "./SessionProvider";

const MIN_PASSWORD = 10; // platform/tenancy/credentials.py
type Shown = { status: "loading" } | { status: "refused"; message: string } | { status: "ready"; details: InvitationDetails };

function message(error: unknown): string {
  return error instanceof AuthError ? error.message : i18n.t("invitation:somethingWrong");
}

function Refused({ text }: { text: string }) {
  const { t } = useTranslation("invitation");
  return (
    <Stack>
      <Alert color="red" role="alert" title={t("refused")}>
        {text}
      </Alert>
      <Anchor component={Link} to="/sign-in">
        {t("goToSignIn")}
      </Anchor>
    </Stack>
  );
}

export function InvitationPage() {
  const { t } = useTranslation("invitation");
  usePageTitle(t("title"));
  const location = useLocation();
  const navigate = useNavigate();
  const { adopt } = useSession();
  const token = decodeURIComponent(location.hash.replace(/^#/, ""));
  const [shown, setShown] = useState<Shown>(token ? { status: "loading" } : { status: "refused", message: t("noToken") });
  const [password, setPassword] = useState("");
  const [repeated, setRepeated] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    setShown({ status: "loading" }); // another link opened in this tab
    showInvitation(token).then(
      (details) => !cancelled && setShown({ status: "ready", details }),
      (caught: unknown) => !cancelled && setShown({ status: "refused", message: message(caught) }),
    );
    return () => {
      cancelled = true;
    };
  }, [token]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    if (password.length < MIN_PASSWORD) {
      setError(t("tooShort", { min: MIN_PASSWORD }));
      return;
    }
    if (password !== repeated) {
      setError(t("differ"));
      return;
    }
    setBusy(true);
    try {
      const session = await acceptInvitation(token, password);
      adopt(session);
      navigate("/", { replace: true }); // and the token leaves the address bar
    } catch (caught) {
      const status = caught instanceof AuthError ? caught.status : 0;
      // Used, expired, revoked (410), unknown (404) or not applicable (409): no retry helps.
      if ([404, 409, 410].includes(status)) setShown({ status: "refused", message: message(caught) });
      else setError(message(caught));
    } finally {
      setBusy(false);
    }
  }

  let body;
  if (shown.status === "loading") {
    body = (
      <Center>
        <Loader aria-label={t("checking")} />
      </Center>
    );
  } else if (shown.status === "refused") {
    body = <Refused text={shown.message} />;
  } else {
    const { details } = shown;
    body = (
      <form onSubmit={submit} noValidate aria-label={t("form")} aria-describedby={error ? "invitation-error" : undefined}>
        <Stack>
          <Text>
            <Trans
              t={t}
              i18nKey="invited"
              values={{ invitedBy: details.invitedBy, account: details.accountName, email: details.email }}
              components={{ strong: <strong />, email: <Text span fw={500} style={{ overflowWrap: "anywhere" }} /> }}
            />
          </Text>
          <Text size="sm" c="dimmed">
            {t("choose", { until: formatDateTime(details.expiresAt) })}
          </Text>
          {error && (
            <Alert id="invitation-error" color="red" role="alert" title={t("failed")}>
              {error}
            </Alert>
          )}
          <PasswordInput
            label={t("password")}
            description={t("passwordHint", { min: MIN_PASSWORD })}
            autoComplete="new-password"
            required
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
          />
          <PasswordInput
            label={t("repeat")}
            autoComplete="new-password"
            required
            value={repeated}
            onChange={(event) => setRepeated(event.currentTarget.value)}
          />
          <Button type="submit" loading={busy} disabled={!password || !repeated}>
            {t("submit")}
          </Button>
        </Stack>
      </form>
    );
  }

  return (
    <Center component="main" mih="100dvh" p="md">
      <Paper withBorder shadow="sm" radius="md" p="xl" w="100%" maw={460}>
        <Stack>
          <Title order={1} size="h2">
            {shown.status === "ready" ? t("join", { account: shown.details.accountName }) : t("yours")}
          </Title>
          {body}
        </Stack>
      </Paper>
    </Center>
  );
}
