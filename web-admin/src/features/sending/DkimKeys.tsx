// DKIM keys of the sending domains (admins): add one (generated, or a pasted PEM private
// key), show the TXT record to publish with a copy button, remove one. Copies are signed
// after rewriting, so a tracked message still verifies.
import { Alert, Button, Card, Code, CopyButton, Group, SegmentedControl, SimpleGrid, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { useMutation } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { OutboundMailFieldsFragment } from "../../gql/graphql";
import { ConfirmDialog } from "../../shell/ConfirmDialog";
import { Empty } from "../../shell/States";
import { formatDateTime } from "../tenancy/labels";

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
      setError(result.error ? describeError(result.error) : "The server did not answer.");
      return;
    }
    setDomain("");
    setPem("");
    onAdded(result.data.setDkimKey);
  }

  return (
    <form onSubmit={submit} aria-label="Add a DKIM key">
      <Stack gap="sm">
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="Sending domain" placeholder="example.com" required value={domain} onChange={(e) => setDomain(e.currentTarget.value)} />
          <TextInput label="Selector" description="Any name not used by another DKIM key of the domain." required value={selector} onChange={(e) => setSelector(e.currentTarget.value)} />
        </SimpleGrid>
        <Stack gap={4}>
          <Text size="sm" fw={500} id="dkim-source">
            Private key
          </Text>
          <SegmentedControl
            aria-labelledby="dkim-source"
            value={source}
            onChange={(value) => setSource(value === "paste" ? "paste" : "generate")}
            data={[
              { value: "generate", label: "Generate one" },
              { value: "paste", label: "Paste a PEM key" },
            ]}
            style={{ alignSelf: "flex-start" }}
          />
        </Stack>
        {source === "paste" && (
          <Textarea
            label="PEM private key"
            description="An RSA private key, from -----BEGIN PRIVATE KEY----- to the END line. It is stored encrypted and never shown again."
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
          <Alert color="red" title="Couldn't add the DKIM key" role="alert">
            {error}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={state.fetching}>
            Add DKIM key
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function KeyCard({ dkimKey, canEdit, onRemove }: { dkimKey: Key; canEdit: boolean; onRemove: () => void }) {
  const titleId = `dkim-${dkimKey.domain}`;
  return (
    <Card withBorder padding="sm" component="article" aria-labelledby={titleId}>
      <Stack gap="xs">
        <Group justify="space-between" gap="xs">
          <Title order={3} size="h5" id={titleId} style={{ overflowWrap: "anywhere" }}>
            {dkimKey.domain}
          </Title>
          <Text size="sm" c="dimmed">
            Selector {dkimKey.selector} · added {formatDateTime(dkimKey.createdAt)}
          </Text>
        </Group>
        <Text size="sm">
          Publish this TXT record at <Code>{dkimKey.dnsName}</Code>:
        </Text>
        <Code block style={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }} aria-label={`TXT record for ${dkimKey.dnsName}`}>
          {dkimKey.dnsRecord}
        </Code>
        <Group gap="xs">
          <CopyButton value={dkimKey.dnsRecord}>
            {({ copied, copy }) => (
              <Button size="xs" variant="light" color={copied ? "teal" : undefined} onClick={copy}>
                {copied ? "Copied" : "Copy record"}
              </Button>
            )}
          </CopyButton>
          <CopyButton value={dkimKey.dnsName}>
            {({ copied, copy }) => (
              <Button size="xs" variant="default" color={copied ? "teal" : undefined} onClick={copy}>
                {copied ? "Copied" : "Copy name"}
              </Button>
            )}
          </CopyButton>
          {canEdit && (
            <Button size="xs" variant="default" color="red" aria-label={`Remove the DKIM key of ${dkimKey.domain}`} onClick={onRemove}>
              Remove
            </Button>
          )}
        </Group>
      </Stack>
    </Card>
  );
}

export function DkimKeys({ keys, canEdit, onChanged }: { keys: Key[]; canEdit: boolean; onChanged: () => void }) {
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
    notifications.show({ color: "green", title: "DKIM key removed", message: `Mail from ${confirm.domain} is no longer signed by Sendtrail.` });
    setConfirm(null);
    onChanged();
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="dkim-keys">
      <Stack gap="sm">
        <div>
          <Title order={2} size="h4" id="dkim-keys">
            DKIM keys
          </Title>
          <Text size="sm" c="dimmed">
            Optional. When your server does not sign mail itself, Sendtrail signs each copy after adding tracking, so it still verifies.
          </Text>
        </div>
        {keys.length === 0 ? (
          <Empty title="No DKIM keys">Copies are sent as they are; your server may sign them.</Empty>
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
              notifications.show({ color: "green", title: "DKIM key added", message: `Publish the TXT record at ${key.dnsName}.` });
              onChanged();
            }}
          />
        )}
      </Stack>
      <ConfirmDialog
        opened={confirm !== null}
        title="Remove this DKIM key?"
        confirmLabel="Remove key"
        errorTitle="Couldn't remove the DKIM key"
        error={removeError}
        busy={removing.fetching}
        onCancel={() => setConfirm(null)}
        onConfirm={removeConfirmed}
      >
        Mail from {confirm?.domain} is no longer signed by Sendtrail. The private key is deleted; keep the DNS record until no
        mail signed with it is in transit.
      </ConfirmDialog>
    </Card>
  );
}
