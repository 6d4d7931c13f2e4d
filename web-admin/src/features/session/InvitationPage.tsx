// An invitation link (/invitation#token, issue 15 defect 3): who invited you to which
// account, a password typed twice, and you are signed in. The token stays in the #fragment,
// which browsers never send: it reaches the server only in a header and a JSON body, never
// in a URL that a log or a Referer could keep.
import { Alert, Anchor, Button, Center, Loader, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { type FormEvent, useEffect, useState } from "react";
import { Link, useLocation, useNavigate } from "react-router";

import { AuthError, type InvitationDetails, acceptInvitation, showInvitation } from "../../api/auth";
import { usePageTitle } from "../../shell/usePageTitle";
import { useSession } from "./SessionProvider";
import { currentLanguage } from "../../i18n";

const MIN_PASSWORD = 10; // platform/tenancy/credentials.py
const NO_TOKEN = "This page needs the whole link from your invitation email; open it from there again.";

type Shown = { status: "loading" } | { status: "refused"; message: string } | { status: "ready"; details: InvitationDetails };

function message(error: unknown): string {
  return error instanceof AuthError ? error.message : "Something went wrong. Try again.";
}

function Refused({ text }: { text: string }) {
  return (
    <Stack>
      <Alert color="red" role="alert" title="This invitation can't be used">
        {text}
      </Alert>
      <Anchor component={Link} to="/sign-in">
        Go to sign-in
      </Anchor>
    </Stack>
  );
}

export function InvitationPage() {
  usePageTitle("Accept your invitation");
  const location = useLocation();
  const navigate = useNavigate();
  const { adopt } = useSession();
  const token = decodeURIComponent(location.hash.replace(/^#/, ""));
  const [shown, setShown] = useState<Shown>(token ? { status: "loading" } : { status: "refused", message: NO_TOKEN });
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
      setError(`Choose a password of at least ${MIN_PASSWORD} characters.`);
      return;
    }
    if (password !== repeated) {
      setError("The two passwords differ; type the same password twice.");
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
        <Loader aria-label="Checking your invitation…" />
      </Center>
    );
  } else if (shown.status === "refused") {
    body = <Refused text={shown.message} />;
  } else {
    const { details } = shown;
    body = (
      <form onSubmit={submit} noValidate aria-label="Choose your password" aria-describedby={error ? "invitation-error" : undefined}>
        <Stack>
          <Text>
            {details.invitedBy} invited you to join <strong>{details.accountName}</strong> as{" "}
            <Text span fw={500} style={{ overflowWrap: "anywhere" }}>
              {details.email}
            </Text>
            .
          </Text>
          <Text size="sm" c="dimmed">
            Choose a password to sign in with from now on. This link works once, until {new Date(details.expiresAt).toLocaleString(currentLanguage())}.
          </Text>
          {error && (
            <Alert id="invitation-error" color="red" role="alert" title="Couldn't set your password">
              {error}
            </Alert>
          )}
          <PasswordInput
            label="Password"
            description={`At least ${MIN_PASSWORD} characters.`}
            autoComplete="new-password"
            required
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
          />
          <PasswordInput
            label="Repeat the password"
            autoComplete="new-password"
            required
            value={repeated}
            onChange={(event) => setRepeated(event.currentTarget.value)}
          />
          <Button type="submit" loading={busy} disabled={!password || !repeated}>
            Set password and sign in
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
            {shown.status === "ready" ? `Join ${shown.details.accountName} on Sendtrail` : "Your invitation to Sendtrail"}
          </Title>
          {body}
        </Stack>
      </Paper>
    </Center>
  );
}
