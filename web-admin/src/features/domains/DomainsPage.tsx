// Custom tracking domains (R21): add a hostname, create the DNS records it lists, verify,
// and watch it become ACTIVE (polled while it is on its way), with failures in words.
import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
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
import { type FormEvent, useEffect, useState } from "react";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { type FormError, NO_FORM_ERROR, formError } from "../../api/errors";
import { graphql } from "../../gql";
import type { DomainPurpose, TrackingDomainsQuery } from "../../gql/graphql";
import { Empty, Failed, Loading } from "../../shell/States";
import { ConfirmDialog } from "../../shell/ConfirmDialog";
import { usePageTitle } from "../../shell/usePageTitle";
import { useSignedIn } from "../session/SessionProvider";
import { formatDateTime } from "../tenancy/labels";

const POLL_MS = 5_000;
const SETTLED = new Set(["ACTIVE", "FAILED"]);

graphql(`
  fragment TrackingDomainFields on TrackingDomain {
    id
    hostname
    hostnameUnicode
    purpose
    businessUnit
    status
    inUse
    lastError
    lastCheckedAt
    verifiedAt
    certificateExpiresAt
    renewAt
    dnsRecords {
      type
      name
      value
      purpose
    }
  }
`);

const DomainsQuery = graphql(`
  query TrackingDomains {
    viewer {
      id
      role
    }
    trackingDomains {
      ...TrackingDomainFields
    }
  }
`);

const AddDomain = graphql(`
  mutation AddTrackingDomain($input: AddTrackingDomainInput!) {
    addTrackingDomain(input: $input) {
      ...TrackingDomainFields
    }
  }
`);

const VerifyDomain = graphql(`
  mutation VerifyTrackingDomain($id: ID!) {
    verifyTrackingDomain(id: $id) {
      ...TrackingDomainFields
    }
  }
`);

const RemoveDomain = graphql(`
  mutation RemoveTrackingDomain($id: ID!) {
    removeTrackingDomain(id: $id)
  }
`);

type Domain = TrackingDomainsQuery["trackingDomains"][number];

const STATUS: Record<string, { label: string; color: string; help: string }> = {
  PENDING_DNS: { label: "Waiting for DNS", color: "yellow", help: "Create the DNS records below; Sendtrail checks them every few minutes, or choose Verify now." },
  VERIFIED: { label: "DNS verified", color: "blue", help: "The records are right; a certificate is requested next." },
  ISSUING: { label: "Getting a certificate", color: "blue", help: "A TLS certificate is being requested for this hostname." },
  ACTIVE: { label: "Active", color: "green", help: "New tracked emails use this hostname." },
  RENEWING: { label: "Renewing certificate", color: "green", help: "Still in use while its certificate is renewed." },
  DNS_CHANGED: { label: "DNS changed", color: "orange", help: "The records no longer point to Sendtrail; new emails use the default tracking host until fixed." },
  FAILED: { label: "Failed", color: "red", help: "Setup stopped; fix the reason below and choose Verify now to try again." },
};

export function statusOf(status: string) {
  return STATUS[status] ?? { label: status, color: "gray", help: "" };
}

export function Copyable({ value, label, nowrap = false }: { value: string; label: string; nowrap?: boolean }) {
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Code style={{ minWidth: 0, overflowWrap: "anywhere", whiteSpace: nowrap ? "nowrap" : "pre-wrap" }}>{value}</Code>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Button size="compact-xs" variant="subtle" onClick={copy} aria-label={`Copy ${label}`} style={{ flexShrink: 0 }}>
            {copied ? "Copied" : "Copy"}
          </Button>
        )}
      </CopyButton>
    </Group>
  );
}

interface DnsRecord {
  type: string;
  name: string;
  value: string;
  purpose: string;
}

/** The records to create: a table on a wide screen; on a phone one card per record, so the
 * value to copy never leaves the screen (issue 15, item 9). Shared with the support console. */
export function DnsRecords({ hostname, records }: { hostname: string; records: DnsRecord[] }) {
  if (records.length === 0) return null;
  const label = `DNS records for ${hostname}`;
  const key = (record: DnsRecord) => `${record.type}-${record.name}-${record.value}`;
  return (
    <>
      <Table.ScrollContainer minWidth={640} visibleFrom="sm">
        <Table aria-label={label} verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Type</Table.Th>
              <Table.Th>Name</Table.Th>
              <Table.Th>Value</Table.Th>
              <Table.Th>Why</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {records.map((record) => (
              <Table.Tr key={key(record)}>
                <Table.Td>
                  <Copyable value={record.type} label={`${record.type} record type`} nowrap />
                </Table.Td>
                <Table.Td>
                  <Copyable value={record.name} label={`${record.type} record name`} />
                </Table.Td>
                <Table.Td data-key-column>
                  <Copyable value={record.value} label={`${record.type} record value`} />
                </Table.Td>
                <Table.Td>
                  <Text size="xs">{record.purpose}</Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Stack component="ul" gap="xs" p={0} m={0} hiddenFrom="sm" style={{ listStyle: "none" }} aria-label={label}>
        {records.map((record) => (
          <Card withBorder padding="xs" component="li" key={key(record)}>
            <Text size="sm" fw={600}>
              {record.type} record
            </Text>
            <Copyable value={record.name} label={`${record.type} record name`} />
            <div data-key-column>
              <Copyable value={record.value} label={`${record.type} record value`} />
            </div>
            <Text size="xs" c="dimmed">
              {record.purpose}
            </Text>
          </Card>
        ))}
      </Stack>
    </>
  );
}

function DomainCard({ domain, canEdit, onRemove }: { domain: Domain; canEdit: boolean; onRemove: () => void }) {
  const [verifying, verify] = useMutation(VerifyDomain);
  const [error, setError] = useState<string | null>(null);
  const status = statusOf(domain.status);
  const titleId = `domain-${domain.id}`;

  async function verifyNow() {
    setError(null);
    const result = await verify({ id: domain.id });
    if (result.error) setError(describeError(result.error));
  }

  return (
    <Card withBorder padding="md" component="article" aria-labelledby={titleId}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start">
          <Stack gap={2}>
            <Title order={3} size="h5" id={titleId} style={{ overflowWrap: "anywhere" }}>
              {domain.hostnameUnicode}
            </Title>
            <Text size="xs" c="dimmed">
              {domain.purpose === "SALES" ? "Sales & service emails" : `Marketing links${domain.businessUnit ? ` · ${domain.businessUnit}` : ""}`}
              {domain.inUse ? " · in use for new emails" : ""}
            </Text>
          </Stack>
          <Badge color={status.color} variant="light" aria-label={`Status: ${status.label}`}>
            {status.label}
          </Badge>
        </Group>
        {status.help && <Text size="sm">{status.help}</Text>}
        {domain.lastError && (
          <Alert color={domain.status === "FAILED" ? "red" : "orange"} title="Why it isn't active" role="alert">
            {domain.lastError}
          </Alert>
        )}
        <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="xs">
          <Text size="sm">
            <Text span c="dimmed" size="sm">Last checked: </Text>
            {formatDateTime(domain.lastCheckedAt)}
          </Text>
          <Text size="sm">
            <Text span c="dimmed" size="sm">DNS verified: </Text>
            {formatDateTime(domain.verifiedAt)}
          </Text>
          <Text size="sm">
            <Text span c="dimmed" size="sm">Certificate expires: </Text>
            {formatDateTime(domain.certificateExpiresAt)}
          </Text>
          <Text size="sm">
            <Text span c="dimmed" size="sm">Renewal due: </Text>
            {formatDateTime(domain.renewAt)}
          </Text>
        </SimpleGrid>
        <DnsRecords hostname={domain.hostnameUnicode} records={domain.dnsRecords} />
        {error && (
          <Alert color="red" title="Couldn't verify" role="alert">
            {error}
          </Alert>
        )}
        {canEdit && (
          <Group>
            <Button size="xs" onClick={verifyNow} loading={verifying.fetching} aria-label={`Verify ${domain.hostnameUnicode} now`}>
              Verify now
            </Button>
            <Button size="xs" variant="default" color="red" onClick={onRemove} aria-label={`Remove ${domain.hostnameUnicode}`}>
              Remove
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

function AddForm({ onAdded }: { onAdded: (hostname: string) => void }) {
  const [hostname, setHostname] = useState("");
  const [purpose, setPurpose] = useState<DomainPurpose>("SALES");
  const [unit, setUnit] = useState("");
  const [error, setError] = useState<FormError>(NO_FORM_ERROR);
  const [state, add] = useMutation(AddDomain);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(NO_FORM_ERROR);
    const result = await add({
      input: { hostname: hostname.trim(), purpose, businessUnit: purpose === "MARKETING" && unit.trim() ? unit.trim() : null },
    });
    if (result.error || !result.data) {
      // The business unit's rules are kept by its field, so input the server refuses is the
      // hostname; "in use by another account" or no connection is about the form.
      setError(formError(result.error));
      return;
    }
    setHostname("");
    setUnit("");
    onAdded(result.data.addTrackingDomain.hostnameUnicode);
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="add-domain-title">
      <Title order={2} size="h4" mb={4} id="add-domain-title">
        Add a tracking domain
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        1. Add a hostname you control, e.g. track.example.com. 2. Create the DNS records shown for it. 3. Verify: Sendtrail
        then gets a certificate and starts using it.
      </Text>
      <form onSubmit={submit} aria-label="Add a tracking domain">
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, sm: purpose === "MARKETING" ? 3 : 2 }}>
            <TextInput
              label="Hostname"
              placeholder="track.example.com"
              required
              value={hostname}
              onChange={(e) => setHostname(e.currentTarget.value)}
              error={error.field ?? undefined}
            />
            <NativeSelect
              label="Used for"
              data={[
                { value: "SALES", label: "Sales & service emails" },
                { value: "MARKETING", label: "Marketing links (business unit)" },
              ]}
              value={purpose}
              onChange={(e) => setPurpose(e.currentTarget.value as DomainPurpose)}
            />
            {purpose === "MARKETING" && (
              <TextInput label="Business unit" required maxLength={100} value={unit} onChange={(e) => setUnit(e.currentTarget.value)} />
            )}
          </SimpleGrid>
          {error.form && (
            <Alert color="red" title="Couldn't add the domain" role="alert">
              {error.form}
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={state.fetching}>
              Add domain
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

export function DomainsPage() {
  usePageTitle("Tracking domains");
  const session = useSignedIn();
  const [{ data, fetching, error }, refetch] = useQuery({ query: DomainsQuery });
  const [removing, remove] = useMutation(RemoveDomain);
  const [confirm, setConfirm] = useState<Domain | null>(null);
  const [removeError, setRemoveError] = useState<string | null>(null);

  const pending = data?.trackingDomains.some((domain) => !SETTLED.has(domain.status)) ?? false;
  useEffect(() => {
    if (!pending) return;
    const timer = window.setInterval(() => refetch({ requestPolicy: "network-only" }), POLL_MS);
    return () => window.clearInterval(timer);
  }, [pending, refetch]);

  const reload = () => refetch({ requestPolicy: "network-only" });

  async function removeConfirmed() {
    if (!confirm) return;
    setRemoveError(null);
    const result = await remove({ id: confirm.id });
    if (result.error) {
      setRemoveError(describeError(result.error));
      return;
    }
    notifications.show({ color: "green", title: "Domain removed", message: `${confirm.hostnameUnicode} is no longer used.` });
    setConfirm(null);
    reload();
  }

  let body;
  if (fetching && !data) {
    body = <Loading label="Loading tracking domains…" />;
  } else if (error || !data) {
    body = (
      <Failed title="Couldn't load the tracking domains" message={error ? describeError(error) : "No answer from the server."} onRetry={reload} />
    );
  } else {
    const canEdit = data.viewer.role === "ADMIN" && !session.isStaff;
    body = (
      <Stack gap="lg">
        {canEdit && (
          <AddForm
            onAdded={(hostname) => {
              notifications.show({ color: "green", title: "Domain added", message: `Now create the DNS records for ${hostname}.` });
              reload();
            }}
          />
        )}
        <section aria-labelledby="domain-list">
          <Title order={2} size="h4" mb="sm" id="domain-list">
            Your tracking domains
          </Title>
          {data.trackingDomains.length === 0 ? (
            <Empty title="No custom tracking domains">
              Tracked links and pixels use Sendtrail's own tracking hosts until you add one.
            </Empty>
          ) : (
            <Stack gap="md">
              {data.trackingDomains.map((domain) => (
                <DomainCard
                  key={domain.id}
                  domain={domain}
                  canEdit={canEdit}
                  onRemove={() => {
                    setRemoveError(null);
                    setConfirm(domain);
                  }}
                />
              ))}
            </Stack>
          )}
        </section>
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        Tracking domains
      </Title>
      <Text c="dimmed">Use your own hostname in tracked links and pixels of sales and service emails.</Text>
      {body}
      <ConfirmDialog
        opened={confirm !== null}
        title="Remove this tracking domain?"
        confirmLabel="Remove domain"
        errorTitle="Couldn't remove the domain"
        error={removeError}
        busy={removing.fetching}
        onCancel={() => setConfirm(null)}
        onConfirm={removeConfirmed}
      >
        New emails stop using {confirm?.hostnameUnicode} and its certificate is deleted. Links in emails already sent
        with it stop working once its DNS records are gone.
      </ConfirmDialog>
    </Stack>
  );
}
