// The account's upstream server (admins): SMTP host, port, security and login, the optional
// Sent folder over IMAP, and whether each user sends with their own login. Passwords are
// write-only: the form says whether one is set and lets the admin replace or clear it.
import { Alert, Button, Card, Group, NativeSelect, NumberInput, PasswordInput, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { useMutation } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { OutboundMailFieldsFragment, OutboundMailInput, SmtpSecurity } from "../../gql/graphql";
import { IMAP_SECURITY_OPTIONS, SECURITY_OPTIONS, defaultPort, isSecurity } from "./labels";
import { SettingSwitch } from "../../shell/SettingSwitch";
import { UnsavedChanges } from "../../shell/UnsavedChanges";

graphql(`
  fragment OutboundMailFields on OutboundMail {
    configured
    host
    port
    security
    username
    passwordSet
    imapHost
    imapPort
    imapSecurity
    imapUsername
    imapPasswordSet
    sentFolder
    upstreamFilesSent
    perUserLogins
    updatedAt
    dkimKeys {
      domain
      selector
      dnsName
      dnsRecord
      createdAt
    }
  }
`);

const UpdateOutboundMail = graphql(`
  mutation UpdateOutboundMail($input: OutboundMailInput!) {
    updateOutboundMail(input: $input) {
      ...OutboundMailFields
    }
  }
`);

/** keep: leave the stored password; replace: the typed one; clear: remove it. */
type SecretMode = "keep" | "replace" | "clear";

interface Secret {
  mode: SecretMode;
  value: string;
}

/** What the input says about a password: left out (kept), a new one, or "" (cleared). */
function secretInput(secret: Secret): string | undefined {
  if (secret.mode === "clear") return "";
  if (secret.mode === "replace" && secret.value !== "") return secret.value;
  return undefined;
}

/** A write-only password: "set" with Replace and Clear, or a field to type a new one. */
export function SecretField({
  label,
  isSet,
  secret,
  onChange,
  disabled,
}: {
  label: string;
  isSet: boolean;
  secret: Secret;
  onChange: (secret: Secret) => void;
  disabled?: boolean;
}) {
  if (isSet && secret.mode === "keep") {
    return (
      <Stack gap={4}>
        <Text size="sm" fw={500}>
          {label}
        </Text>
        <Group gap="xs">
          <Text size="sm" c="dimmed" aria-label={`${label}: set`}>
            Set (never shown)
          </Text>
          <Button size="compact-xs" variant="default" disabled={disabled} onClick={() => onChange({ mode: "replace", value: "" })} aria-label={`Replace the ${label.toLowerCase()}`}>
            Replace
          </Button>
          <Button size="compact-xs" variant="default" color="red" disabled={disabled} onClick={() => onChange({ mode: "clear", value: "" })} aria-label={`Clear the ${label.toLowerCase()}`}>
            Clear
          </Button>
        </Group>
      </Stack>
    );
  }
  if (secret.mode === "clear") {
    return (
      <Stack gap={4}>
        <Text size="sm" fw={500}>
          {label}
        </Text>
        <Group gap="xs">
          <Text size="sm" c="red">
            Cleared when you save.
          </Text>
          <Button size="compact-xs" variant="default" disabled={disabled} onClick={() => onChange({ mode: "keep", value: "" })}>
            Undo
          </Button>
        </Group>
      </Stack>
    );
  }
  return (
    <PasswordInput
      label={label}
      description={isSet ? "Leave empty to keep the stored one." : "Stored encrypted, never shown again."}
      value={secret.value}
      autoComplete="new-password"
      disabled={disabled}
      onChange={(event) => onChange({ mode: "replace", value: event.currentTarget.value })}
      rightSectionPointerEvents="all"
    />
  );
}

interface Draft {
  host: string;
  port: number | string;
  security: SmtpSecurity;
  username: string;
  password: Secret;
  fileCopies: boolean;
  imapHost: string;
  imapPort: number | string;
  imapSecurity: SmtpSecurity;
  imapUsername: string;
  imapPassword: Secret;
  sentFolder: string;
  upstreamFilesSent: boolean;
  perUserLogins: boolean;
}

function draftOf(saved: OutboundMailFieldsFragment): Draft {
  return {
    host: saved.host ?? "",
    port: saved.port ?? 587,
    security: saved.security ?? "STARTTLS",
    username: saved.username ?? "",
    password: { mode: saved.passwordSet ? "keep" : "replace", value: "" },
    fileCopies: Boolean(saved.imapHost),
    imapHost: saved.imapHost ?? "",
    imapPort: saved.imapPort ?? 993,
    imapSecurity: saved.imapSecurity ?? "TLS",
    imapUsername: saved.imapUsername ?? "",
    imapPassword: { mode: saved.imapPasswordSet ? "keep" : "replace", value: "" },
    sentFolder: saved.sentFolder ?? "",
    upstreamFilesSent: saved.upstreamFilesSent,
    perUserLogins: saved.perUserLogins,
  };
}

function inputOf(draft: Draft): OutboundMailInput {
  const input: OutboundMailInput = {
    host: draft.host.trim(),
    port: Number(draft.port),
    security: draft.security,
    username: draft.username.trim() || null,
    upstreamFilesSent: draft.upstreamFilesSent,
    perUserLogins: draft.perUserLogins,
  };
  const password = secretInput(draft.password);
  if (password !== undefined) input.password = password;
  const filing = draft.fileCopies && !draft.upstreamFilesSent && draft.imapHost.trim() !== "";
  if (!filing) {
    input.imapHost = null;
    return input;
  }
  input.imapHost = draft.imapHost.trim();
  input.imapPort = Number(draft.imapPort);
  input.imapSecurity = draft.imapSecurity;
  input.imapUsername = draft.imapUsername.trim() || null;
  input.sentFolder = draft.sentFolder.trim() || null;
  const imapPassword = secretInput(draft.imapPassword);
  if (imapPassword !== undefined) input.imapPassword = imapPassword;
  return input;
}

export function OutboundForm({ saved, canEdit, onSaved }: { saved: OutboundMailFieldsFragment; canEdit: boolean; onSaved: () => void }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(saved));
  // What the form started from (or last saved): leaving with anything else asks first.
  const [baseline, setBaseline] = useState<Draft>(() => draftOf(saved));
  const dirty = canEdit && JSON.stringify(draft) !== JSON.stringify(baseline);
  const [state, save] = useMutation(UpdateOutboundMail);
  const [error, setError] = useState<string | null>(null);
  const disabled = !canEdit || state.fetching;

  function set<K extends keyof Draft>(key: K, value: Draft[K]) {
    setDraft((current) => ({ ...current, [key]: value }));
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    const result = await save({ input: inputOf(draft) });
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error) : "The server did not answer.");
      return;
    }
    setDraft(draftOf(result.data.updateOutboundMail));
    setBaseline(draftOf(result.data.updateOutboundMail));
    notifications.show({ color: "green", title: "Outbound mail saved", message: "Mail sent with Sendtrail now goes through this server." });
    onSaved();
  }

  return (
    <form onSubmit={submit} aria-label="Outbound mail server">
      <UnsavedChanges dirty={dirty} what="outbound mail settings" />
      <Stack gap="lg">
        <Card withBorder padding="md" role="group" aria-labelledby="smtp-server">
          <Title order={2} size="h4" id="smtp-server" mb={4}>
            Upstream SMTP server
          </Title>
          <Text size="sm" c="dimmed" mb="sm">
            Your own mail server or provider: every copy leaves through it, so SPF, DKIM and DMARC stay yours.
          </Text>
          <Stack gap="sm">
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <TextInput label="Host" placeholder="smtp.example.com" required value={draft.host} disabled={disabled} onChange={(e) => set("host", e.currentTarget.value)} />
              <NativeSelect
                label="Security"
                data={SECURITY_OPTIONS}
                value={draft.security}
                disabled={disabled}
                onChange={(e) => {
                  const value = e.currentTarget.value;
                  if (!isSecurity(value)) return;
                  setDraft((current) => ({ ...current, security: value, port: defaultPort(value, false) }));
                }}
              />
              <NumberInput label="Port" required min={1} max={65535} value={draft.port} disabled={disabled} onChange={(value) => set("port", value)} />
            </SimpleGrid>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput
                label="Username"
                description="Leave empty when the server needs no login."
                autoComplete="off"
                value={draft.username}
                disabled={disabled}
                onChange={(e) => set("username", e.currentTarget.value)}
              />
              <SecretField label="Password" isSet={saved.passwordSet} secret={draft.password} disabled={disabled} onChange={(value) => set("password", value)} />
            </SimpleGrid>
            <SettingSwitch
              label="Each user sends with their own login"
              description="Each user enters their own username and password for this server (on this page); the login above is used for users who have none."
              checked={draft.perUserLogins}
              disabled={disabled}
              onChange={(e) => set("perUserLogins", e.currentTarget.checked)}
            />
          </Stack>
        </Card>
        <Card withBorder padding="md" role="group" aria-labelledby="sent-folder">
          <Title order={2} size="h4" id="sent-folder" mb={4}>
            Sent folder
          </Title>
          <Text size="sm" c="dimmed" mb="sm">
            One untracked copy of each email, with its visible recipients, so the sender's Sent folder stays whole.
          </Text>
          <Stack gap="sm">
            <SettingSwitch
              label="The upstream files sent mail itself (Gmail, Microsoft 365)"
              description="Sendtrail then files nothing, so no email is filed twice."
              checked={draft.upstreamFilesSent}
              disabled={disabled}
              onChange={(e) => set("upstreamFilesSent", e.currentTarget.checked)}
            />
            {!draft.upstreamFilesSent && (
              <SettingSwitch
                label="File a copy in a Sent folder over IMAP"
                checked={draft.fileCopies}
                disabled={disabled}
                onChange={(e) => set("fileCopies", e.currentTarget.checked)}
              />
            )}
            {!draft.upstreamFilesSent && draft.fileCopies && (
              <>
                <SimpleGrid cols={{ base: 1, sm: 3 }}>
                  <TextInput label="IMAP host" placeholder="imap.example.com" required value={draft.imapHost} disabled={disabled} onChange={(e) => set("imapHost", e.currentTarget.value)} />
                  <NativeSelect
                    label="IMAP security"
                    data={IMAP_SECURITY_OPTIONS}
                    value={draft.imapSecurity}
                    disabled={disabled}
                    onChange={(e) => {
                      const value = e.currentTarget.value;
                      if (!isSecurity(value)) return;
                      setDraft((current) => ({ ...current, imapSecurity: value, imapPort: defaultPort(value, true) }));
                    }}
                  />
                  <NumberInput label="IMAP port" required min={1} max={65535} value={draft.imapPort} disabled={disabled} onChange={(value) => set("imapPort", value)} />
                </SimpleGrid>
                <SimpleGrid cols={{ base: 1, sm: 2 }}>
                  <TextInput
                    label="IMAP username"
                    description="Leave empty to use the SMTP login (or each user's own)."
                    autoComplete="off"
                    value={draft.imapUsername}
                    disabled={disabled}
                    onChange={(e) => set("imapUsername", e.currentTarget.value)}
                  />
                  <SecretField label="IMAP password" isSet={saved.imapPasswordSet} secret={draft.imapPassword} disabled={disabled} onChange={(value) => set("imapPassword", value)} />
                </SimpleGrid>
                <TextInput
                  label="Folder"
                  description="Leave empty to find it automatically (the mailbox the server marks as Sent)."
                  placeholder="Automatic"
                  value={draft.sentFolder}
                  disabled={disabled}
                  onChange={(e) => set("sentFolder", e.currentTarget.value)}
                />
              </>
            )}
          </Stack>
        </Card>
        {error && (
          <Alert color="red" title="Couldn't save the outbound mail settings" role="alert">
            {error}
          </Alert>
        )}
        {canEdit && (
          <Group>
            <Button type="submit" loading={state.fetching}>
              {saved.configured ? "Save changes" : "Save server"}
            </Button>
            <Button variant="default" disabled={state.fetching} onClick={() => setDraft(draftOf(saved))}>
              Discard changes
            </Button>
          </Group>
        )}
      </Stack>
    </form>
  );
}
