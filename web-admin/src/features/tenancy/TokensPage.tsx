// API tokens: list, create (the secret is shown once, with a copy button) and revoke.
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  Group,
  NativeSelect,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { ApiTokensQuery, TokenScope } from "../../gql/graphql";
import { Empty, Failed, Loading } from "../../shell/States";
import { ConfirmDialog } from "../../shell/ConfirmDialog";
import { SecretOnce } from "../../shell/SecretOnce";
import { usePageTitle } from "../../shell/usePageTitle";
import { SCOPE_LABELS, formatDateTime } from "./labels";

const TokensQuery = graphql(`
  query ApiTokens {
    apiTokens {
      id
      name
      scopes
      prefix
      createdAt
      lastUsedAt
      expiresAt
      revoked
      revokedAt
    }
  }
`);

const CreateToken = graphql(`
  mutation CreateApiToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      secret
      apiToken {
        id
        name
        scopes
        prefix
        createdAt
        lastUsedAt
        expiresAt
        revoked
        revokedAt
      }
    }
  }
`);

const RevokeToken = graphql(`
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) {
      id
      revoked
      revokedAt
    }
  }
`);

const EXPIRY_CHOICES = ["30", "90", "365", "never"] as const;

function expiresAt(choice: string): string | null {
  const days = Number(choice);
  return Number.isFinite(days) ? new Date(Date.now() + days * 86_400_000).toISOString() : null;
}

function CreateForm({ onCreated }: { onCreated: (name: string, secret: string) => void }) {
  const { t } = useTranslation("tokens");
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(["READ"]);
  const [expiry, setExpiry] = useState("90");
  const [error, setError] = useState<string | null>(null);
  const [state, create] = useMutation(CreateToken);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    if (scopes.length === 0) {
      setError(t("create.noScope"));
      return;
    }
    const result = await create({
      input: { name: name.trim(), scopes: scopes as TokenScope[], expiresAt: expiresAt(expiry) },
    });
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error) : t("noAnswer"));
      return;
    }
    setName("");
    onCreated(result.data.createApiToken.apiToken.name, result.data.createApiToken.secret);
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="create-token-title">
      <Title order={2} size="h4" mb="sm" id="create-token-title">
        {t("create.title")}
      </Title>
      <form onSubmit={submit} aria-label={t("create.title")}>
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput
              label={t("create.name")}
              description={t("create.nameHint")}
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
            />
            <NativeSelect
              label={t("create.expires")}
              data={EXPIRY_CHOICES.map((value) => ({ value, label: t(`expiry.${value}`) }))}
              value={expiry}
              onChange={(e) => setExpiry(e.currentTarget.value)}
            />
          </SimpleGrid>
          <Checkbox.Group label={t("create.scopes")} value={scopes} onChange={setScopes}>
            <Stack gap={6} mt={6}>
              {(Object.keys(SCOPE_LABELS) as TokenScope[]).map((scope) => (
                <Checkbox key={scope} value={scope} label={SCOPE_LABELS[scope]} description={t(`scopes.${scope}.help`)} />
              ))}
            </Stack>
          </Checkbox.Group>
          {error && (
            <Alert color="red" title={t("create.failed")} role="alert">
              {error}
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={state.fetching}>
              {t("create.submit")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

type Token = ApiTokensQuery["apiTokens"][number];

function TokenStatus({ token, onRevoke }: { token: Token; onRevoke: (token: Token) => void }) {
  const { t } = useTranslation("tokens");
  return token.revoked ? (
    <Badge color="gray" variant="light">
      {t("revoked")}
    </Badge>
  ) : (
    <Button size="xs" variant="default" color="red" aria-label={t("revokeLabel", { name: token.name })} onClick={() => onRevoke(token)}>
      {t("revoke")}
    </Button>
  );
}

export function TokensPage() {
  const { t } = useTranslation("tokens");
  usePageTitle(t("title"));
  const [{ data, fetching, error }, refetch] = useQuery({ query: TokensQuery });
  const [revoking, revoke] = useMutation(RevokeToken);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [confirm, setConfirm] = useState<{ id: string; name: string } | null>(null);
  const [revokeError, setRevokeError] = useState<string | null>(null);

  const reload = () => refetch({ requestPolicy: "network-only" });
  const askToRevoke = (token: Token) => {
    setRevokeError(null);
    setConfirm({ id: token.id, name: token.name });
  };

  async function revokeConfirmed() {
    if (!confirm) return;
    setRevokeError(null);
    const result = await revoke({ id: confirm.id });
    if (result.error) {
      setRevokeError(describeError(result.error));
      return;
    }
    notifications.show({ color: "green", title: t("revokedToast"), message: t("revokedToastText", { name: confirm.name }) });
    setConfirm(null);
  }

  let body;
  if (fetching && !data) {
    body = <Loading label={t("loading")} />;
  } else if (error || !data) {
    body = (
      <Failed title={t("loadFailed")} message={error ? describeError(error) : t("noAnswerLoad")} onRetry={reload} />
    );
  } else if (data.apiTokens.length === 0) {
    body = <Empty title={t("none")}>{t("noneText")}</Empty>;
  } else {
    body = (
      <>
      <Table.ScrollContainer minWidth={720} visibleFrom="sm">
        <Table striped aria-labelledby="token-list">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("columns.name")}</Table.Th>
              <Table.Th>{t("columns.prefix")}</Table.Th>
              <Table.Th>{t("columns.scopes")}</Table.Th>
              <Table.Th>{t("columns.created")}</Table.Th>
              <Table.Th>{t("columns.lastUsed")}</Table.Th>
              <Table.Th>{t("columns.expires")}</Table.Th>
              <Table.Th>{t("columns.status")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.apiTokens.map((token) => (
              <Table.Tr key={token.id}>
                <Table.Td>{token.name}</Table.Td>
                <Table.Td>
                  <Code>{token.prefix}…</Code>
                </Table.Td>
                <Table.Td>{token.scopes.map((scope) => SCOPE_LABELS[scope]).join(", ")}</Table.Td>
                <Table.Td>{formatDateTime(token.createdAt)}</Table.Td>
                <Table.Td>{token.lastUsedAt ? formatDateTime(token.lastUsedAt) : t("never")}</Table.Td>
                <Table.Td>{token.expiresAt ? formatDateTime(token.expiresAt) : t("never")}</Table.Td>
                <Table.Td data-key-column>
                  <TokenStatus token={token} onRevoke={askToRevoke} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {/* A card per token on a phone: its scopes and status stay on screen (issue 15, item 9). */}
      <Stack component="ul" gap="xs" p={0} m={0} hiddenFrom="sm" style={{ listStyle: "none" }} aria-labelledby="token-list">
        {data.apiTokens.map((token) => (
          <Card component="li" key={token.id} withBorder padding="sm">
            <Group justify="space-between" align="flex-start" gap="xs" wrap="nowrap">
              <Text size="sm" fw={500} style={{ overflowWrap: "anywhere" }}>
                {token.name} <Code>{token.prefix}…</Code>
              </Text>
              <div data-key-column>
                <TokenStatus token={token} onRevoke={askToRevoke} />
              </div>
            </Group>
            <Text size="sm" mt={4}>
              {token.scopes.map((scope) => SCOPE_LABELS[scope]).join(", ")}
            </Text>
            <Text size="xs" c="dimmed">
              {t("card", {
                created: formatDateTime(token.createdAt),
                lastUsed: token.lastUsedAt ? formatDateTime(token.lastUsedAt) : t("cardNever"),
                expires: token.expiresAt ? formatDateTime(token.expiresAt) : t("cardNever"),
              })}
            </Text>
          </Card>
        ))}
      </Stack>
      </>
    );
  }

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        {t("title")}
      </Title>
      <Text c="dimmed">{t("intro")}</Text>
      {created && (
        <SecretOnce
          title={t("secret.title", { name: created.name })}
          secret={created.secret}
          label={t("secret.label")}
          copyLabel={t("secret.copy")}
          onDone={() => setCreated(null)}
        >
          {t("secret.text")}
        </SecretOnce>
      )}
      <CreateForm
        onCreated={(name, secret) => {
          setCreated({ name, secret });
          reload();
        }}
      />
      <section aria-labelledby="token-list">
        <Title order={2} size="h4" mb="sm" id="token-list">
          {t("list")}
        </Title>
        {body}
      </section>
      <ConfirmDialog
        opened={confirm !== null}
        title={t("confirm.title")}
        confirmLabel={t("confirm.submit")}
        errorTitle={t("confirm.failed")}
        error={revokeError}
        busy={revoking.fetching}
        onCancel={() => setConfirm(null)}
        onConfirm={revokeConfirmed}
      >
        {t("confirm.text", { name: confirm?.name ?? "" })}
      </ConfirmDialog>
    </Stack>
  );
}
