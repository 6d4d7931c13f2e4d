// The account's upstream server (admins): SMTP host, port, security and login, the optional
// Sent folder over IMAP, and whether each user sends with their own login. Passwords are
// write-only: the form says whether one is set and lets the admin replace or clear it.
import { Alert, Button, Card, Group, NativeSelect, NumberInput, PasswordInput, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { OutboundMailFieldsFragment, OutboundMailInput, SmtpSecurity } from "../../gql/graphql";
import { defaultPort, isSecurity } from "./labels";
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

const SECURITY_ORDER: Record<"smtp" | "imap", SmtpSecurity[]> = {
  smtp: ["STARTTLS", "TLS", "NONE"],
  imap: ["TLS", "STARTTLS", "NONE"],
};

/** The security choices in the chosen language, each with the port it usually goes with. */
function useSecurityOptions(kind: "smtp" | "imap"): { value: SmtpSecurity; label: string }[] {
  const { t } = useTranslation("outbound", { keyPrefix: "security" });
  return SECURITY_ORDER[kind].map((value) => ({ value, label: t(value, { port: defaultPort(value, kind === "imap") }) }));
}

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
  const { t } = useTranslation("outbound", { keyPrefix: "secret" });
  // English says "Replace the password"; languages that capitalise nouns take the label as is.
  const names = { label, lower: label.toLowerCase() };
  if (isSet && secret.mode === "keep") {
    return (
      <Stack gap={4}>
        <Text size="sm" fw={500}>
          {label}
        </Text>
        <Group gap="xs">
          <Text size="sm" c="dimmed" aria-label={t("setLabel", names)}>
            {t("set")}
          </Text>
          <Button size="compact-xs" variant="default" disabled={disabled} onClick={() => onChange({ mode: "replace", value: "" })} aria-label={t("replaceLabel", names)}>
            {t("replace")}
          </Button>
          <Button size="compact-xs" variant="default" color="red" disabled={disabled} onClick={() => onChange({ mode: "clear", value: "" })} aria-label={t("clearLabel", names)}>
            {t("clear")}
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
            {t("cleared")}
          </Text>
          <Button size="compact-xs" variant="default" disabled={disabled} onClick={() => onChange({ mode: "keep", value: "" })}>
            {t("undo")}
          </Button>
        </Group>
      </Stack>
    );
  }
  return (
    <PasswordInput
      label={label}
      description={isSet ? t("keep") : t("stored")}
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
  const { t } = useTranslation("outbound");
  const securityOptions = useSecurityOptions("smtp");
  const imapSecurityOptions = useSecurityOptions("imap");
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
      setError(result.error ? describeError(result.error) : t("noAnswer"));
      return;
    }
    setDraft(draftOf(result.data.updateOutboundMail));
    setBaseline(draftOf(result.data.updateOutboundMail));
    notifications.show({ color: "green", title: t("form.saved"), message: t("form.savedText") });
    onSaved();
  }

  return (
    <form onSubmit={submit} aria-label={t("form.label")}>
      <UnsavedChanges dirty={dirty} what={t("form.unsavedWhat")} />
      <Stack gap="lg">
        <Card withBorder padding="md" role="group" aria-labelledby="smtp-server">
          <Title order={2} size="h4" id="smtp-server" mb={4}>
            {t("form.smtpTitle")}
          </Title>
          <Text size="sm" c="dimmed" mb="sm">
            {t("form.smtpIntro")}
          </Text>
          <Stack gap="sm">
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <TextInput label={t("form.host")} placeholder="smtp.example.com" required value={draft.host} disabled={disabled} onChange={(e) => set("host", e.currentTarget.value)} />
              <NativeSelect
                label={t("form.security")}
                data={securityOptions}
                value={draft.security}
                disabled={disabled}
                onChange={(e) => {
                  const value = e.currentTarget.value;
                  if (!isSecurity(value)) return;
                  setDraft((current) => ({ ...current, security: value, port: defaultPort(value, false) }));
                }}
              />
              <NumberInput label={t("form.port")} required min={1} max={65535} value={draft.port} disabled={disabled} onChange={(value) => set("port", value)} />
            </SimpleGrid>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput
                label={t("form.username")}
                description={t("form.usernameHelp")}
                autoComplete="off"
                value={draft.username}
                disabled={disabled}
                onChange={(e) => set("username", e.currentTarget.value)}
              />
              <SecretField label={t("form.password")} isSet={saved.passwordSet} secret={draft.password} disabled={disabled} onChange={(value) => set("password", value)} />
            </SimpleGrid>
            <SettingSwitch
              label={t("form.perUser")}
              description={t("form.perUserHelp")}
              checked={draft.perUserLogins}
              disabled={disabled}
              onChange={(e) => set("perUserLogins", e.currentTarget.checked)}
            />
          </Stack>
        </Card>
        <Card withBorder padding="md" role="group" aria-labelledby="sent-folder">
          <Title order={2} size="h4" id="sent-folder" mb={4}>
            {t("form.sentTitle")}
          </Title>
          <Text size="sm" c="dimmed" mb="sm">
            {t("form.sentIntro")}
          </Text>
          <Stack gap="sm">
            <SettingSwitch
              label={t("form.upstreamFiles")}
              description={t("form.upstreamFilesHelp")}
              checked={draft.upstreamFilesSent}
              disabled={disabled}
              onChange={(e) => set("upstreamFilesSent", e.currentTarget.checked)}
            />
            {!draft.upstreamFilesSent && (
              <SettingSwitch
                label={t("form.fileCopies")}
                checked={draft.fileCopies}
                disabled={disabled}
                onChange={(e) => set("fileCopies", e.currentTarget.checked)}
              />
            )}
            {!draft.upstreamFilesSent && draft.fileCopies && (
              <>
                <SimpleGrid cols={{ base: 1, sm: 3 }}>
                  <TextInput label={t("form.imapHost")} placeholder="imap.example.com" required value={draft.imapHost} disabled={disabled} onChange={(e) => set("imapHost", e.currentTarget.value)} />
                  <NativeSelect
                    label={t("form.imapSecurity")}
                    data={imapSecurityOptions}
                    value={draft.imapSecurity}
                    disabled={disabled}
                    onChange={(e) => {
                      const value = e.currentTarget.value;
                      if (!isSecurity(value)) return;
                      setDraft((current) => ({ ...current, imapSecurity: value, imapPort: defaultPort(value, true) }));
                    }}
                  />
                  <NumberInput label={t("form.imapPort")} required min={1} max={65535} value={draft.imapPort} disabled={disabled} onChange={(value) => set("imapPort", value)} />
                </SimpleGrid>
                <SimpleGrid cols={{ base: 1, sm: 2 }}>
                  <TextInput
                    label={t("form.imapUsername")}
                    description={t("form.imapUsernameHelp")}
                    autoComplete="off"
                    value={draft.imapUsername}
                    disabled={disabled}
                    onChange={(e) => set("imapUsername", e.currentTarget.value)}
                  />
                  <SecretField label={t("form.imapPassword")} isSet={saved.imapPasswordSet} secret={draft.imapPassword} disabled={disabled} onChange={(value) => set("imapPassword", value)} />
                </SimpleGrid>
                <TextInput
                  label={t("form.folder")}
                  description={t("form.folderHelp")}
                  placeholder={t("form.folderPlaceholder")}
                  value={draft.sentFolder}
                  disabled={disabled}
                  onChange={(e) => set("sentFolder", e.currentTarget.value)}
                />
              </>
            )}
          </Stack>
        </Card>
        {error && (
          <Alert color="red" title={t("form.saveFailed")} role="alert">
            {error}
          </Alert>
        )}
        {canEdit && (
          <Group>
            <Button type="submit" loading={state.fetching}>
              {saved.configured ? t("form.saveChanges") : t("form.saveServer")}
            </Button>
            <Button variant="default" disabled={state.fetching} onClick={() => setDraft(draftOf(saved))}>
              {t("form.discard")}
            </Button>
          </Group>
        )}
      </Stack>
    </form>
  );
}
