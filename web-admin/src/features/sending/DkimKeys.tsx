// DKIM keys of the sending domains (admins): add one (generated, or a pasted PEM private
// key), show the TXT record to publish with a copy button, remove one. Copies are signed
// after rewriting, so a tracked message still verifies.
import { Alert, Button, Card, Code, CopyButton, Group, SegmentedControl, SimpleGrid, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { Trans, useTranslation } from "react-i18next";
import { useMutation } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { OutboundMailFieldsFragment } from "../../gql/graphql";
import { ConfirmDialog } from "../../shell/ConfirmDialog";
import { Empty } from "../../shell/States";
import { formatDateTime } from "../../i18n/format";

const SetDkimKey = graphql(`
  mutation SetDkimKey($input: DkimKeyInput!) {
    setDkimKey(input: $input) {
      domain
      selector
      dnsName
      dnsRecord
      createdAt
    }
  }
`);

const RemoveDkimKey = graphql(`
  mutation RemoveDkimKey($domain: String!) {
    removeDkimKey(domain: $domain)
  }
`);

type Key = OutboundMailFieldsFragment["dkimKeys"][number];

function AddKeyForm({ onAdded }: { onAdded: (key: Key) => void }) {
  const { t } = useTranslation("outbound");
  const [domain, setDomain] = useState("");
  const [selector, setSelector] = useState("sendtrail");
  const [source, setSource] = useState<"generate" | "paste">("generate");
  const [pem, setPem] = useState("");
  const [state, add] = useMutation(SetDkimKey);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    const result = await add({
      input: { domain: domain.trim(), selector: selector.trim(), privateKeyPem: source === "paste" ? pem : null },
    });
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error) : t("noAnswer"));
      return;
    }
    setDomain("");
    setPem("");
    onAdded(result.data.setDkimKey);
  }

  return (
    <form onSubmit={submit} aria-label={t("dkim.addLabel")}>
      <Stack gap="sm">
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={t("dkim.domain")} placeholder="example.com" required value={domain} onChange={(e) => setDomain(e.currentTarget.value)} />
          <TextInput label={t("dkim.selector")} description={t("dkim.selectorHelp")} required value={selector} onChange={(e) => setSelector(e.currentTarget.value)} />
        </SimpleGrid>
        <Stack gap={4}>
          <Text size="sm" fw={500} id="dkim-source">
            {t("dkim.privateKey")}
          </Text>
          <SegmentedControl
            aria-labelledby="dkim-source"
            value={source}
            onChange={(value) => setSource(value === "paste" ? "paste" : "generate")}
            data={[
              { value: "generate", label: t("dkim.generate") },
              { value: "paste", label: t("dkim.paste") },
            ]}
            style={{ alignSelf: "flex-start" }}
          />
        </Stack>
        {source === "paste" && (
          <Textarea
            label={t("dkim.pem")}
            description={t("dkim.pemHelp")}
            required
            autosize
            minRows={4}
            maxRows={12}
            ff="monospace"
            value={pem}
            onChange={(e) => setPem(e.currentTarget.value)}
          />
        )}
        {error && (
          <Alert color="red" title={t("dkim.addFailed")} role="alert">
            {error}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={state.fetching}>
            {t("dkim.add")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function KeyCard({ dkimKey, canEdit, onRemove }: { dkimKey: Key; canEdit: boolean; onRemove: () => void }) {
  const { t } = useTranslation("outbound", { keyPrefix: "dkim" });
  const titleId = `dkim-${dkimKey.domain}`;
  return (
    <Card withBorder padding="sm" component="article" aria-labelledby={titleId}>
      <Stack gap="xs">
        <Group justify="space-between" gap="xs">
          <Title order={3} size="h5" id={titleId} style={{ overflowWrap: "anywhere" }}>
            {dkimKey.domain}
          </Title>
          <Text size="sm" c="dimmed">
            {t("selectorAdded", { selector: dkimKey.selector, date: formatDateTime(dkimKey.createdAt) })}
          </Text>
        </Group>
        <Text size="sm">
          <Trans t={t} i18nKey="publish" values={{ name: dkimKey.dnsName }} components={[<Code key="name" />]} />
        </Text>
        <Code block style={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }} aria-label={t("recordLabel", { name: dkimKey.dnsName })}>
          {dkimKey.dnsRecord}
        </Code>
        <Group gap="xs">
          <CopyButton value={dkimKey.dnsRecord}>
            {({ copied, copy }) => (
              <Button size="xs" variant="light" color={copied ? "teal" : undefined} onClick={copy}>
                {copied ? t("copied") : t("copyRecord")}
              </Button>
            )}
          </CopyButton>
          <CopyButton value={dkimKey.dnsName}>
            {({ copied, copy }) => (
              <Button size="xs" variant="default" color={copied ? "teal" : undefined} onClick={copy}>
                {copied ? t("copied") : t("copyName")}
              </Button>
            )}
          </CopyButton>
          {canEdit && (
            <Button size="xs" variant="default" color="red" aria-label={t("removeLabel", { domain: dkimKey.domain })} onClick={onRemove}>
              {t("remove")}
            </Button>
          )}
        </Group>
      </Stack>
    </Card>
  );
}

export function DkimKeys({ keys, canEdit, onChanged }: { keys: Key[]; canEdit: boolean; onChanged: () => void }) {
  const { t } = useTranslation("outbound", { keyPrefix: "dkim" });
  const [confirm, setConfirm] = useState<Key | null>(null);
  const [removing, remove] = useMutation(RemoveDkimKey);
  const [removeError, setRemoveError] = useState<string | null>(null);

  async function removeConfirmed() {
    if (!confirm) return;
    setRemoveError(null);
    const result = await remove({ domain: confirm.domain });
    if (result.error) {
      setRemoveError(describeError(result.error));
      return;
    }
    notifications.show({ color: "green", title: t("removed"), message: t("removedText", { domain: confirm.domain }) });
    setConfirm(null);
    onChanged();
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="dkim-keys">
      <Stack gap="sm">
        <div>
          <Title order={2} size="h4" id="dkim-keys">
            {t("title")}
          </Title>
          <Text size="sm" c="dimmed">
            {t("intro")}
          </Text>
        </div>
        {keys.length === 0 ? (
          <Empty title={t("empty")}>{t("emptyText")}</Empty>
        ) : (
          <Stack gap="sm">
            {keys.map((key) => (
              <KeyCard
                key={key.domain}
                dkimKey={key}
                canEdit={canEdit}
                onRemove={() => {
                  setRemoveError(null);
                  setConfirm(key);
                }}
              />
            ))}
          </Stack>
        )}
        {canEdit && (
          <AddKeyForm
            onAdded={(key) => {
              notifications.show({ color: "green", title: t("added"), message: t("addedText", { name: key.dnsName }) });
              onChanged();
            }}
          />
        )}
      </Stack>
      <ConfirmDialog
        opened={confirm !== null}
        title={t("confirmTitle")}
        confirmLabel={t("confirmSubmit")}
        errorTitle={t("confirmFailed")}
        error={removeError}
        busy={removing.fetching}
        onCancel={() => setConfirm(null)}
        onConfirm={removeConfirmed}
      >
        {t("confirmText", { domain: confirm?.domain ?? "" })}
      </ConfirmDialog>
    </Card>
  );
}
