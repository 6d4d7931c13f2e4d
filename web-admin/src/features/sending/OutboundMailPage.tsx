// Settings → Outbound mail: the account's upstream server, Sent folder and DKIM keys (admins;
// support staff read them), "Test connection" with each step's result in words, and every
// user's own upstream login (used when the account sends with each user's own login).
import { Alert, Badge, Button, Card, Group, List, PasswordInput, SimpleGrid, Stack, Text, TextInput, ThemeIcon, Title, VisuallyHidden } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { TestOutboundMailMutation } from "../../gql/graphql";
import { ConfirmDialog } from "../../shell/ConfirmDialog";
import { Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { useSignedIn } from "../session/SessionProvider";
import { formatDateTime } from "../tenancy/labels";
import { DkimKeys } from "./DkimKeys";
import { OutboundForm } from "./OutboundForm";

const OutboundQuery = graphql(`
  query OutboundMailSettings {
    account {
      id
      name
      outboundMail {
        ...OutboundMailFields
      }
    }
  }
`);

const MyLoginQuery = graphql(`
  query MyOutboundLogin {
    viewer {
      id
      email
      outboundLogin {
        username
        updatedAt
      }
    }
    account {
      id
      outboundMail {
        configured
      }
    }
  }
`);

const TestOutbound = graphql(`
  mutation TestOutboundMail {
    testOutboundMail {
      ok
      message
      steps {
        name
        ok
        message
      }
    }
  }
`);

const RemoveOutbound = graphql(`
  mutation RemoveOutboundMail {
    removeOutboundMail
  }
`);

const UpdateLogin = graphql(`
  mutation UpdateOutboundLogin($input: OutboundLoginInput!) {
    updateOutboundLogin(input: $input) {
      username
      updatedAt
    }
  }
`);

const RemoveLogin = graphql(`
  mutation RemoveOutboundLogin {
    removeOutboundLogin
  }
`);

/** "Test connection": tries the saved settings on the real servers; each step in words. */
export function TestConnection({ label = "Test connection" }: { label?: string }) {
  const [state, run] = useMutation(TestOutbound);
  const [result, setResult] = useState<TestOutboundMailMutation["testOutboundMail"] | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function test() {
    setError(null);
    setResult(null);
    const answer = await run({});
    if (answer.error || !answer.data) {
      setError(answer.error ? describeError(answer.error) : "The server did not answer.");
      return;
    }
    setResult(answer.data.testOutboundMail);
  }

  return (
    <Stack gap="sm">
      <Group>
        <Button variant="light" onClick={test} loading={state.fetching}>
          {label}
        </Button>
        <Text size="sm" c="dimmed">
          Connects, logs in and checks the sender without sending anything.
        </Text>
      </Group>
      {error && (
        <Alert color="red" title="Couldn't run the test" role="alert">
          {error}
        </Alert>
      )}
      {result && (
        <Alert color={result.ok ? "green" : "red"} title={result.ok ? "The connection works" : "The connection failed"} role="status">
          <Stack gap="xs">
            <Text size="sm">{result.message}</Text>
            <List size="sm" spacing={4} aria-label="Steps" center>
              {result.steps.map((step, index) => (
                <List.Item
                  key={`${index}-${step.name}`}
                  icon={
                    <ThemeIcon size={18} radius="xl" color={step.ok ? "green" : "red"} aria-hidden>
                      <Text size="xs" c="white" fw={700} lh={1}>
                        {step.ok ? "✓" : "✗"}
                      </Text>
                    </ThemeIcon>
                  }
                >
                  <Text size="sm">
                    <Text span size="sm" fw={600}>
                      {step.name.charAt(0).toUpperCase() + step.name.slice(1)}
                    </Text>
                    <VisuallyHidden>{step.ok ? " (passed)" : " (failed)"}</VisuallyHidden>: {step.message}
                  </Text>
                </List.Item>
              ))}
            </List>
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}

function AccountOutbound({ canEdit }: { canEdit: boolean }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: OutboundQuery });
  const [removing, remove] = useMutation(RemoveOutbound);
  const [confirm, setConfirm] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const reload = () => refetch({ requestPolicy: "network-only" });

  if (fetching && !data) return <Loading label="Loading the outbound mail settings…" />;
  if (error || !data) {
    return <Failed title="Couldn't load the outbound mail settings" message={error ? describeError(error) : "No answer from the server."} onRetry={reload} />;
  }
  const outbound = data.account.outboundMail;

  async function removeConfirmed() {
    setRemoveError(null);
    const result = await remove({});
    if (result.error) {
      setRemoveError(describeError(result.error));
      return;
    }
    setConfirm(false);
    notifications.show({ color: "green", title: "Outbound server removed", message: "Nothing can be sent until a server is set again." });
    reload();
  }

  return (
    <Stack gap="lg">
      <Group gap="xs">
        <Badge color={outbound.configured ? "green" : "gray"} variant="light" size="lg">
          {outbound.configured ? "Configured" : "Not configured"}
        </Badge>
        <Text size="sm" c="dimmed">
          {outbound.configured
            ? `Last changed ${formatDateTime(outbound.updatedAt)}.`
            : "Set the server your mail should leave through; until then nothing can be sent."}
        </Text>
      </Group>
      <OutboundForm key={outbound.updatedAt ?? "new"} saved={outbound} canEdit={canEdit} onSaved={reload} />
      {outbound.configured && canEdit && (
        <Card withBorder padding="md" component="section" aria-labelledby="test-connection">
          <Title order={2} size="h4" id="test-connection" mb="sm">
            Test the connection
          </Title>
          <TestConnection />
        </Card>
      )}
      <DkimKeys keys={outbound.dkimKeys} canEdit={canEdit} onChanged={reload} />
      {outbound.configured && canEdit && (
        <Group>
          <Button
            color="red"
            variant="outline"
            onClick={() => {
              setRemoveError(null);
              setConfirm(true);
            }}
          >
            Remove the outbound server
          </Button>
        </Group>
      )}
      <ConfirmDialog
        opened={confirm}
        title="Remove the outbound server?"
        confirmLabel="Remove server"
        errorTitle="Couldn't remove the server"
        error={removeError}
        busy={removing.fetching}
        onCancel={() => setConfirm(false)}
        onConfirm={removeConfirmed}
      >
        Nothing can be sent, from the web admin or through the relay, until a server is set again. Users' own logins and
        DKIM keys stay.
      </ConfirmDialog>
    </Stack>
  );
}

/** The signed-in user's own upstream login: username and a write-only password. */
function MyOutboundLogin() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: MyLoginQuery });
  const [saving, save] = useMutation(UpdateLogin);
  const [removing, remove] = useMutation(RemoveLogin);
  const [username, setUsername] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const [formError, setFormError] = useState<string | null>(null);
  const reload = () => refetch({ requestPolicy: "network-only" });

  let body;
  if (fetching && !data) {
    body = <Loading label="Loading your login…" />;
  } else if (error || !data) {
    body = <Failed title="Couldn't load your login" message={error ? describeError(error) : "No answer from the server."} onRetry={reload} />;
  } else {
    const login = data.viewer.outboundLogin;
    const shownUsername = username ?? login?.username ?? data.viewer.email;

    const submit = async (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      setFormError(null);
      const result = await save({ input: { username: shownUsername.trim(), password } });
      if (result.error || !result.data) {
        setFormError(result.error ? describeError(result.error) : "The server did not answer.");
        return;
      }
      setPassword("");
      setUsername(null);
      notifications.show({ color: "green", title: "Your login is saved", message: "Mail you send goes out with it." });
      reload();
    };

    const clear = async () => {
      setFormError(null);
      const result = await remove({});
      if (result.error) {
        setFormError(describeError(result.error));
        return;
      }
      setUsername(null);
      notifications.show({ color: "green", title: "Your login is removed", message: "The account's login is used for your mail." });
      reload();
    };

    body = (
      <form onSubmit={submit} aria-label="Your own login">
        <Stack gap="sm">
          <Text size="sm">
            {login ? `Saved for ${login.username} on ${formatDateTime(login.updatedAt)}. The password is never shown.` : "You have no login of your own yet."}
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Username" required autoComplete="off" value={shownUsername} onChange={(e) => setUsername(e.currentTarget.value)} />
            <PasswordInput
              label={login ? "New password" : "Password"}
              description="Your mailbox's password (or an app password); stored encrypted."
              required
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
          </SimpleGrid>
          {formError && (
            <Alert color="red" title="Couldn't change your login" role="alert">
              {formError}
            </Alert>
          )}
          <Group gap="sm">
            <Button type="submit" loading={saving.fetching}>
              {login ? "Replace my login" : "Save my login"}
            </Button>
            {login && (
              <Button variant="default" color="red" onClick={clear} loading={removing.fetching}>
                Remove my login
              </Button>
            )}
          </Group>
          {login && data.account.outboundMail.configured && <TestConnection label="Test my login" />}
        </Stack>
      </form>
    );
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="my-outbound-login">
      <Title order={2} size="h4" id="my-outbound-login">
        Your own login
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        When your account sends with each user's own login, mail you send leaves through your own mailbox on the account's server.
      </Text>
      {body}
    </Card>
  );
}

export function OutboundMailPage() {
  usePageTitle("Outbound mail");
  const session = useSignedIn();
  const isAdmin = session.role === "ADMIN" || session.isStaff;
  const canEdit = session.role === "ADMIN" && !session.isStaff;

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        Outbound mail
      </Title>
      <Text c="dimmed">
        Mail sent from Sendtrail, and through its SMTP relay from your mail client, leaves through your own mail server.
      </Text>
      {isAdmin ? (
        <>
          {!canEdit && (
            <Alert color="blue" title="Read only">
              Support staff can read these settings but not change them.
            </Alert>
          )}
          <AccountOutbound canEdit={canEdit} />
        </>
      ) : (
        <Alert color="blue" title="Only admins set the outbound server">
          Ask an admin of your account to set or change the server mail leaves through.
        </Alert>
      )}
      {!session.isStaff && <MyOutboundLogin />}
    </Stack>
  );
}
