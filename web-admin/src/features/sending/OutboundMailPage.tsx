// Settings → Outbound mail: the account's upstream server, Sent folder and DKIM keys (admins;
// support staff read them), "Test connection" with each step's result in words, and every
// user's own upstream login (used when the account sends with each user's own login).
import { Alert, Badge, Button, Card, Group, List, PasswordInput, SimpleGrid, Stack, Text, TextInput, ThemeIcon, Title, VisuallyHidden } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { TestOutboundMailMutation } from "../../gql/graphql";
import { ConfirmDialog } from "../../shell/ConfirmDialog";
import { Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { useSignedIn } from "../session/SessionProvider";
import { formatDateTime } from "../../i18n/format";
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
export function TestConnection({ label }: { label?: string }) {
  const { t } = useTranslation("outbound");
  const [state, run] = useMutation(TestOutbound);
  const [result, setResult] = useState<TestOutboundMailMutation["testOutboundMail"] | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function test() {
    setError(null);
    setResult(null);
    const answer = await run({});
    if (answer.error || !answer.data) {
      setError(answer.error ? describeError(answer.error) : t("noAnswer"));
      return;
    }
    setResult(answer.data.testOutboundMail);
  }

  return (
    <Stack gap="sm">
      <Group>
        <Button variant="light" onClick={test} loading={state.fetching}>
          {label ?? t("test.run")}
        </Button>
        <Text size="sm" c="dimmed">
          {t("test.what")}
        </Text>
      </Group>
      {error && (
        <Alert color="red" title={t("test.failed")} role="alert">
          {error}
        </Alert>
      )}
      {result && (
        <Alert color={result.ok ? "green" : "red"} title={result.ok ? t("test.works") : t("test.broken")} role="status">
          <Stack gap="xs">
            <Text size="sm">{result.message}</Text>
            <List size="sm" spacing={4} aria-label={t("test.steps")} center>
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
                    <VisuallyHidden>{step.ok ? t("test.passed") : t("test.stepFailed")}</VisuallyHidden>: {step.message}
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
  const { t } = useTranslation("outbound");
  const [{ data, fetching, error }, refetch] = useQuery({ query: OutboundQuery });
  const [removing, remove] = useMutation(RemoveOutbound);
  const [confirm, setConfirm] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const reload = () => refetch({ requestPolicy: "network-only" });

  if (fetching && !data) return <Loading label={t("account.loading")} />;
  if (error || !data) {
    return <Failed title={t("account.loadFailed")} message={error ? describeError(error) : t("noAnswerLoad")} onRetry={reload} />;
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
    notifications.show({ color: "green", title: t("account.removed"), message: t("account.removedText") });
    reload();
  }

  return (
    <Stack gap="lg">
      <Group gap="xs">
        <Badge color={outbound.configured ? "green" : "gray"} variant="light" size="lg">
          {outbound.configured ? t("account.configured") : t("account.notConfigured")}
        </Badge>
        <Text size="sm" c="dimmed">
          {outbound.configured
            ? t("account.lastChanged", { date: formatDateTime(outbound.updatedAt) })
            : t("account.setIt")}
        </Text>
      </Group>
      <OutboundForm key={outbound.updatedAt ?? "new"} saved={outbound} canEdit={canEdit} onSaved={reload} />
      {outbound.configured && canEdit && (
        <Card withBorder padding="md" component="section" aria-labelledby="test-connection">
          <Title order={2} size="h4" id="test-connection" mb="sm">
            {t("test.title")}
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
            {t("account.remove")}
          </Button>
        </Group>
      )}
      <ConfirmDialog
        opened={confirm}
        title={t("account.confirmTitle")}
        confirmLabel={t("account.confirmSubmit")}
        errorTitle={t("account.confirmFailed")}
        error={removeError}
        busy={removing.fetching}
        onCancel={() => setConfirm(false)}
        onConfirm={removeConfirmed}
      >
        {t("account.confirmText")}
      </ConfirmDialog>
    </Stack>
  );
}

/** The signed-in user's own upstream login: username and a write-only password. */
function MyOutboundLogin() {
  const { t } = useTranslation("outbound");
  const [{ data, fetching, error }, refetch] = useQuery({ query: MyLoginQuery });
  const [saving, save] = useMutation(UpdateLogin);
  const [removing, remove] = useMutation(RemoveLogin);
  const [username, setUsername] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const [formError, setFormError] = useState<string | null>(null);
  const reload = () => refetch({ requestPolicy: "network-only" });

  let body;
  if (fetching && !data) {
    body = <Loading label={t("mine.loading")} />;
  } else if (error || !data) {
    body = <Failed title={t("mine.loadFailed")} message={error ? describeError(error) : t("noAnswerLoad")} onRetry={reload} />;
  } else {
    const login = data.viewer.outboundLogin;
    const shownUsername = username ?? login?.username ?? data.viewer.email;

    const submit = async (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      setFormError(null);
      const result = await save({ input: { username: shownUsername.trim(), password } });
      if (result.error || !result.data) {
        setFormError(result.error ? describeError(result.error) : t("noAnswer"));
        return;
      }
      setPassword("");
      setUsername(null);
      notifications.show({ color: "green", title: t("mine.saved"), message: t("mine.savedText") });
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
      notifications.show({ color: "green", title: t("mine.removed"), message: t("mine.removedText") });
      reload();
    };

    body = (
      <form onSubmit={submit} aria-label={t("mine.title")}>
        <Stack gap="sm">
          <Text size="sm">
            {login ? t("mine.savedFor", { username: login.username, date: formatDateTime(login.updatedAt) }) : t("mine.none")}
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label={t("mine.username")} required autoComplete="off" value={shownUsername} onChange={(e) => setUsername(e.currentTarget.value)} />
            <PasswordInput
              label={login ? t("mine.newPassword") : t("mine.password")}
              description={t("mine.passwordHelp")}
              required
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
          </SimpleGrid>
          {formError && (
            <Alert color="red" title={t("mine.failed")} role="alert">
              {formError}
            </Alert>
          )}
          <Group gap="sm">
            <Button type="submit" loading={saving.fetching}>
              {login ? t("mine.replace") : t("mine.save")}
            </Button>
            {login && (
              <Button variant="default" color="red" onClick={clear} loading={removing.fetching}>
                {t("mine.remove")}
              </Button>
            )}
          </Group>
          {login && data.account.outboundMail.configured && <TestConnection label={t("test.myLogin")} />}
        </Stack>
      </form>
    );
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="my-outbound-login">
      <Title order={2} size="h4" id="my-outbound-login">
        {t("mine.title")}
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        {t("mine.intro")}
      </Text>
      {body}
    </Card>
  );
}

export function OutboundMailPage() {
  const { t } = useTranslation("outbound");
  usePageTitle(t("title"));
  const session = useSignedIn();
  const isAdmin = session.role === "ADMIN" || session.isStaff;
  const canEdit = session.role === "ADMIN" && !session.isStaff;

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        {t("title")}
      </Title>
      <Text c="dimmed">
        {t("intro")}
      </Text>
      {isAdmin ? (
        <>
          {!canEdit && (
            <Alert color="blue" title={t("readOnly")}>
              {t("staffReadOnly")}
            </Alert>
          )}
          <AccountOutbound canEdit={canEdit} />
        </>
      ) : (
        <Alert color="blue" title={t("adminsOnly")}>
          {t("adminsOnlyText")}
        </Alert>
      )}
      {!session.isStaff && <MyOutboundLogin />}
    </Stack>
  );
}
