// An inspected account's custom tracking domains (R21), read-only for support staff: each
// domain's status and why it is not active, and the DNS records the customer must create.
// On a phone each record is a card, so the value to copy never leaves the screen.
import { Alert, Badge, Card, Group, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { SupportTrackingDomainsQuery } from "../../gql/graphql";
import { Empty, Failed, Loading } from "../../shell/States";
import { DnsRecords, statusOf } from "../domains/DomainsPage";
import { formatDateTime } from "../tenancy/labels";

const DomainsQuery = graphql(`
  query SupportTrackingDomains {
    trackingDomains {
      ...TrackingDomainFields
    }
  }
`);

type Domain = SupportTrackingDomainsQuery["trackingDomains"][number];

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
        <DnsRecords hostname={domain.hostnameUnicode} records={domain.dnsRecords} />
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
