// An inspected account's custom tracking domains (R21), read-only for support staff: each
// domain's status and why it is not active, and the DNS records the customer must create.
// On a phone each record is a card, so the value to copy never leaves the screen.
import { Alert, Badge, Card, Group, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { SupportTrackingDomainsQuery } from "../../gql/graphql";
import { Empty, Failed, Loading } from "../../shell/States";
import { Copyable, statusOf } from "../domains/DomainsPage";
import { formatDateTime } from "../tenancy/labels";

const DomainsQuery = graphql(`
  query SupportTrackingDomains {
    trackingDomains {
      id
      hostnameUnicode
      purpose
      businessUnit
      status
      inUse
      lastError
      lastCheckedAt
      verifiedAt
      certificateExpiresAt
      dnsRecords {
        type
        name
        value
        purpose
      }
    }
  }
`);

type Domain = SupportTrackingDomainsQuery["trackingDomains"][number];

function DnsRecords({ domain }: { domain: Domain }) {
  if (domain.dnsRecords.length === 0) return null;
  const label = `DNS records for ${domain.hostnameUnicode}`;
  const key = (record: Domain["dnsRecords"][number]) => `${record.type}-${record.name}-${record.value}`;
  return (
    <>
      <Table.ScrollContainer minWidth={560} visibleFrom="sm">
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
            {domain.dnsRecords.map((record) => (
              <Table.Tr key={key(record)}>
                <Table.Td>{record.type}</Table.Td>
                <Table.Td style={{ overflowWrap: "anywhere" }}>{record.name}</Table.Td>
                <Table.Td>
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
        {domain.dnsRecords.map((record) => (
          <Card withBorder padding="xs" component="li" key={key(record)}>
            <Text size="sm" fw={600} style={{ overflowWrap: "anywhere" }}>
              {record.type} {record.name}
            </Text>
            <Copyable value={record.value} label={`${record.type} record value`} />
            <Text size="xs" c="dimmed">
              {record.purpose}
            </Text>
          </Card>
        ))}
      </Stack>
    </>
  );
}

function DomainCard({ domain }: { domain: Domain }) {
  const status = statusOf(domain.status);
  const titleId = `support-domain-${domain.id}`;
  return (
    <Card withBorder padding="md" component="article" aria-labelledby={titleId}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="nowrap">
          <Stack gap={2} style={{ minWidth: 0 }}>
            <Title order={3} size="h5" id={titleId} style={{ overflowWrap: "anywhere" }}>
              {domain.hostnameUnicode}
            </Title>
            <Text size="xs" c="dimmed">
              {domain.purpose === "SALES" ? "Sales & service emails" : `Marketing links${domain.businessUnit ? ` · ${domain.businessUnit}` : ""}`}
              {domain.inUse ? " · in use for new emails" : " · not in use"}
            </Text>
          </Stack>
          <Badge color={status.color} variant="light" style={{ flexShrink: 0 }} aria-label={`Status: ${status.label}`}>
            {status.label}
          </Badge>
        </Group>
        {domain.lastError && (
          <Alert color={domain.status === "FAILED" ? "red" : "orange"} title="Why it isn't active">
            {domain.lastError}
          </Alert>
        )}
        <Text size="sm" c="dimmed">
          Last checked {formatDateTime(domain.lastCheckedAt)} · DNS verified {formatDateTime(domain.verifiedAt)} · certificate expires{" "}
          {formatDateTime(domain.certificateExpiresAt)}
        </Text>
        <DnsRecords domain={domain} />
      </Stack>
    </Card>
  );
}

export function SupportDomains() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: DomainsQuery });
  if (fetching && !data) return <Loading label="Loading tracking domains…" />;
  if (error || !data) {
    return (
      <Failed
        title="Couldn't load the tracking domains"
        message={error ? describeError(error) : "No answer from the server."}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  }
  if (data.trackingDomains.length === 0) {
    return <Empty title="No custom tracking domains">This account's tracked emails use Sendtrail's own tracking host.</Empty>;
  }
  return (
    <Stack gap="md">
      {data.trackingDomains.map((domain) => (
        <DomainCard domain={domain} key={domain.id} />
      ))}
    </Stack>
  );
}
