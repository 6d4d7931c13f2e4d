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
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { type FormError, NO_FORM_ERROR, formError } from "../../api/errors";
import { graphql } from "../../gql";
import type { DomainPurpose, TrackingDomainsQuery } from "../../gql/graphql";
import { Empty, Failed, Loading } from "../../shell/States";
import { ConfirmDialog } from "../../shell/ConfirmDialog";
import { usePageTitle } from "../../shell/usePageTitle";
import i18n from "../../i18n";
import { formatDateTime } from "../../i18n/format";
import { useSignedIn } from "../session/SessionProvider";

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

// Words are domains.status.<status>.{label,help} (i18n).
const STATUS_COLORS = {
  PENDING_DNS: "yellow",
  VERIFIED: "blue",
  ISSUING: "blue",
  ACTIVE: "green",
  RENEWING: "green",
  DNS_CHANGED: "orange",
  FAILED: "red",
} as const;

type KnownStatus = keyof typeof STATUS_COLORS;

function isKnown(status: string): status is KnownStatus {
  return status in STATUS_COLORS;
}

/** A status in the chosen language, with its colour and what it means (shared with support). */
export function statusOf(status: string): { label: string; color: string; help: string } {
  if (!isKnown(status)) return { label: status, color: "gray", help: "" };
  return {
    label: i18n.t(`status.${status}.label`, { ns: "domains" }),
    color: STATUS_COLORS[status],
    help: i18n.t(`status.${status}.help`, { ns: "domains" }),
  };
}

export function Copyable({ value, label, nowrap = false }: { value: string; label: string; nowrap?: boolean }) {
  const { t } = useTranslation("domains");
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Code style={{ minWidth: 0, overflowWrap: "anywhere", whiteSpace: nowrap ? "nowrap" : "pre-wrap" }}>{value}</Code>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Button size="compact-xs" variant="subtle" onClick={copy} aria-label={t("copyLabel", { what: label })} style={{ flexShrink: 0 }}>
            {copied ? t("copied") : t("copy")}
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
  const { t } = useTranslation("domains", { keyPrefix: "records" });
  if (records.length === 0) return null;
  const label = t("label", { hostname });
  const key = (record: DnsRecord) => `${record.type}-${record.name}-${record.value}`;
  return (
    <>
      <Table.ScrollContainer minWidth={640} visibleFrom="sm">
        <Table aria-label={label} verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("type")}</Table.Th>
              <Table.Th>{t("name")}</Table.Th>
              <Table.Th>{t("value")}</Table.Th>
              <Table.Th>{t("why")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {records.map((record) => (
              <Table.Tr key={key(record)}>
                <Table.Td>
                  <Copyable value={record.type} label={t("typeOf", { type: record.type })} nowrap />
                </Table.Td>
                <Table.Td>
                  <Copyable value={record.name} label={t("nameOf", { type: record.type })} />
                </Table.Td>
                <Table.Td data-key-column>
                  <Copyable value={record.value} label={t("valueOf", { type: record.type })} />
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
              {t("card", { type: record.type })}
            </Text>
            <Copyable value={record.name} label={t("nameOf", { type: record.type })} />
            <div data-key-column>
              <Copyable value={record.value} label={t("valueOf", { type: record.type })} />
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
  const { t } = useTranslation("domains");
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
              {domain.purpose === "SALES" ? t("purpose.SALES") : `${t("purpose.MARKETING")}${domain.businessUnit ? ` · ${domain.businessUnit}` : ""}`}
              {domain.inUse ? t("purpose.inUse") : ""}
            </Text>
          </Stack>
          <Badge color={status.color} variant="light" aria-label={t("statusLabel", { status: status.label })}>
            {status.label}
          </Badge>
        </Group>
        {status.help && <Text size="sm">{status.help}</Text>}
        {domain.lastError && (
          <Alert color={domain.status === "FAILED" ? "red" : "orange"} title={t("whyInactive")} role="alert">
            {domain.lastError}
          </Alert>
        )}
        <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="xs">
          <Text size="sm">
            <Text span c="dimmed" size="sm">{t("lastChecked")}</Text>
            {formatDateTime(domain.lastCheckedAt)}
          </Text>
          <Text size="sm">
            <Text span c="dimmed" size="sm">{t("verified")}</Text>
            {formatDateTime(domain.verifiedAt)}
          </Text>
          <Text size="sm">
            <Text span c="dimmed" size="sm">{t("certificateExpires")}</Text>
            {formatDateTime(domain.certificateExpiresAt)}
          </Text>
          <Text size="sm">
            <Text span c="dimmed" size="sm">{t("renewalDue")}</Text>
            {formatDateTime(domain.renewAt)}
          </Text>
        </SimpleGrid>
        <DnsRecords hostname={domain.hostnameUnicode} records={domain.dnsRecords} />
        {error && (
          <Alert color="red" title={t("verifyFailed")} role="alert">
            {error}
          </Alert>
        )}
        {canEdit && (
          <Group>
            <Button size="xs" onClick={verifyNow} loading={verifying.fetching} aria-label={t("verifyLabel", { hostname: domain.hostnameUnicode })}>
              {t("verifyNow")}
            </Button>
            <Button size="xs" variant="default" color="red" onClick={onRemove} aria-label={t("removeLabel", { hostname: domain.hostnameUnicode })}>
              {t("remove")}
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

function AddForm({ onAdded }: { onAdded: (hostname: string) => void }) {
  const { t } = useTranslation("domains");
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
        {t("add.title")}
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        {t("add.steps")}
      </Text>
      <form onSubmit={submit} aria-label={t("add.title")}>
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, sm: purpose === "MARKETING" ? 3 : 2 }}>
            <TextInput
              label={t("add.hostname")}
              placeholder="track.example.com"
              required
              value={hostname}
              onChange={(e) => setHostname(e.currentTarget.value)}
              error={error.field ?? undefined}
            />
            <NativeSelect
              label={t("add.usedFor")}
              data={[
                { value: "SALES", label: t("purpose.SALES") },
                { value: "MARKETING", label: t("purpose.marketingOption") },
              ]}
              value={purpose}
              onChange={(e) => setPurpose(e.currentTarget.value as DomainPurpose)}
            />
            {purpose === "MARKETING" && (
              <TextInput label={t("add.businessUnit")} required maxLength={100} value={unit} onChange={(e) => setUnit(e.currentTarget.value)} />
            )}
          </SimpleGrid>
          {error.form && (
            <Alert color="red" title={t("add.failed")} role="alert">
              {error.form}
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={state.fetching}>
              {t("add.submit")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

export function DomainsPage() {
  const { t } = useTranslation("domains");
  usePageTitle(t("title"));
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
    notifications.show({ color: "green", title: t("removed"), message: t("removedText", { hostname: confirm.hostnameUnicode }) });
    setConfirm(null);
    reload();
  }

  let body;
  if (fetching && !data) {
    body = <Loading label={t("loading")} />;
  } else if (error || !data) {
    body = (
      <Failed title={t("loadFailed")} message={error ? describeError(error) : t("noAnswer")} onRetry={reload} />
    );
  } else {
    const canEdit = data.viewer.role === "ADMIN" && !session.isStaff;
    body = (
      <Stack gap="lg">
        {canEdit && (
          <AddForm
            onAdded={(hostname) => {
              notifications.show({ color: "green", title: t("add.added"), message: t("add.addedText", { hostname }) });
              reload();
            }}
          />
        )}
        <section aria-labelledby="domain-list">
          <Title order={2} size="h4" mb="sm" id="domain-list">
            {t("list")}
          </Title>
          {data.trackingDomains.length === 0 ? (
            <Empty title={t("empty")}>{t("emptyText")}</Empty>
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
        {t("title")}
      </Title>
      <Text c="dimmed">{t("intro")}</Text>
      {body}
      <ConfirmDialog
        opened={confirm !== null}
        title={t("confirm.title")}
        confirmLabel={t("confirm.submit")}
        errorTitle={t("confirm.failed")}
        error={removeError}
        busy={removing.fetching}
        onCancel={() => setConfirm(null)}
        onConfirm={removeConfirmed}
      >
        {t("confirm.text", { hostname: confirm?.hostnameUnicode ?? "" })}
      </ConfirmDialog>
    </Stack>
  );
}
