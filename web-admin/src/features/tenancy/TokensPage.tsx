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

const EXPIRY_OPTIONS = [
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In a year" },
  { value: "never", label: "Never" },
];

const SCOPE_HELP: Record<TokenScope, string> = {
  READ: "Read emails, engagements and contacts",
  WRITE: "Prepare and log emails, change contacts",
  ADMIN: "Manage users, settings and domains (admins only)",
  SEND: "Send email through Sendtrail: for the SMTP relay in your mail client (use it as the relay's password, with your email address as the username). It reads and changes nothing else.",
};

function expiresAt(choice: string): string | null {
  const days = Number(choice);
  return Number.isFinite(days) ? new Date(Date.now() + days * 86_400_000).toISOString() : null;
}

function CreateForm({ onCreated }: { onCreated: (name: string, secret: string) => void }) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(["READ"]);
  const [expiry, setExpiry] = useState("90");
  const [error, setError] = useState<string | null>(null);
  const [state, create] = useMutation(CreateToken);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    if (scopes.length === 0) {
      setError("Choose at least one scope.");
      return;
    }
    const result = await create({
      input: { name: name.trim(), scopes: scopes as TokenScope[], expiresAt: expiresAt(expiry) },
    });
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error) : "The server did not answer.");
      return;
    }
    setName("");
    onCreated(result.data.createApiToken.apiToken.name, result.data.createApiToken.secret);
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="create-token-title">
      <Title order={2} size="h4" mb="sm" id="create-token-title">
        Create a token
      </Title>
      <form onSubmit={submit} aria-label="Create a token">
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput
              label="Token name"
              description="Say what uses it, e.g. the CRM sync."
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
            />
            <NativeSelect label="Expires" data={EXPIRY_OPTIONS} value={expiry} onChange={(e) => setExpiry(e.currentTarget.value)} />
          </SimpleGrid>
          <Checkbox.Group label="Scopes" value={scopes} onChange={setScopes}>
            <Stack gap={6} mt={6}>
              {(Object.keys(SCOPE_LABELS) as TokenScope[]).map((scope) => (
                <Checkbox key={scope} value={scope} label={SCOPE_LABELS[scope]} description={SCOPE_HELP[scope]} />
              ))}
            </Stack>
          </Checkbox.Group>
          {error && (
            <Alert color="red" title="Couldn't create the token" role="alert">
              {error}
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={state.fetching}>
              Create token
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

type Token = ApiTokensQuery["apiTokens"][number];

function TokenStatus({ token, onRevoke }: { token: Token; onRevoke: (token: Token) => void }) {
  return token.revoked ? (
    <Badge color="gray" variant="light">
      Revoked
    </Badge>
  ) : (
    <Button size="xs" variant="default" color="red" aria-label={`Revoke ${token.name}`} onClick={() => onRevoke(token)}>
      Revoke
    </Button>
  );
}

export function TokensPage() {
  usePageTitle("API tokens");
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
    notifications.show({ color: "green", title: "Token revoked", message: `"${confirm.name}" no longer works.` });
    setConfirm(null);
  }

  let body;
  if (fetching && !data) {
    body = <Loading label="Loading tokens…" />;
  } else if (error || !data) {
    body = (
      <Failed title="Couldn't load the tokens" message={error ? describeError(error) : "No answer from the server."} onRetry={reload} />
    );
  } else if (data.apiTokens.length === 0) {
    body = <Empty title="No API tokens yet">Create one for each system that calls the Sendtrail API.</Empty>;
  } else {
    body = (
      <>
      <Table.ScrollContainer minWidth={720} visibleFrom="sm">
        <Table striped aria-labelledby="token-list">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Starts with</Table.Th>
              <Table.Th>Scopes</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Last used</Table.Th>
              <Table.Th>Expires</Table.Th>
              <Table.Th>Status</Table.Th>
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
                <Table.Td>{token.lastUsedAt ? formatDateTime(token.lastUsedAt) : "Never"}</Table.Td>
                <Table.Td>{token.expiresAt ? formatDateTime(token.expiresAt) : "Never"}</Table.Td>
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
              Created {formatDateTime(token.createdAt)} · last used {token.lastUsedAt ? formatDateTime(token.lastUsedAt) : "never"} · expires{" "}
              {token.expiresAt ? formatDateTime(token.expiresAt) : "never"}
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
        API tokens
      </Title>
      <Text c="dimmed">Tokens let integrations call the GraphQL API as a user of this account.</Text>
      {created && (
        <SecretOnce
          title={`Copy the token "${created.name}" now`}
          secret={created.secret}
          label="New token"
          copyLabel="Copy token"
          onDone={() => setCreated(null)}
        >
          It can't be shown again: store it somewhere safe before you leave this page.
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
          Tokens
        </Title>
        {body}
      </section>
      <ConfirmDialog
        opened={confirm !== null}
        title="Revoke this token?"
        confirmLabel="Revoke token"
        errorTitle="Couldn't revoke the token"
        error={revokeError}
        busy={revoking.fetching}
        onCancel={() => setConfirm(null)}
        onConfirm={revokeConfirmed}
      >
        &ldquo;{confirm?.name}&rdquo; stops working at once; whatever uses it will get errors until it gets a new
        token. This can't be undone.
      </ConfirmDialog>
    </Stack>
  );
}
