// An inspected account's custom tracking domains (R21), read-only for support staff: each
// domain's status and why it is not active, and the DNS records the customer must create.
// On a phone each record is a card, so the value to copy never leaves the screen.
import { Alert, Badge, Card, Group, Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { SupportTrackingDomainsQuery } from "../../gql/graphql";
import { formatDateTime } from "../../i18n/format";
import { Empty, Failed, Loading } from "../../shell/States";
import { DnsRecords, statusOf } from "../domains/DomainsPage";

const DomainsQuery = graphql(`
  query SupportTrackingDomains {
    trackingDomains {
      ...TrackingDomainFields
    }
  }
`);

type Domain = SupportTrackingDomainsQuery["trackingDomains"][number];

function DomainCard({ domain }: { domain: Domain }) {
  const { t } = useTranslation("support");
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
              {domain.purpose === "SALES" ? t("domains.sales") : t("domains.marketing")}
              {domain.purpose !== "SALES" && domain.businessUnit ? t("domains.businessUnit", { unit: domain.businessUnit }) : ""}
              {domain.inUse ? t("domains.inUse") : t("domains.notInUse")}
            </Text>
          </Stack>
          <Badge color={status.color} variant="light" style={{ flexShrink: 0 }} aria-label={t("statusLabel", { status: status.label })}>
            {status.label}
          </Badge>
        </Group>
        {domain.lastError && (
          <Alert color={domain.status === "FAILED" ? "red" : "orange"} title={t("domains.whyInactive")}>
            {domain.lastError}
          </Alert>
        )}
        <Text size="sm" c="dimmed">
          {t("domains.checks", {
            checked: formatDateTime(domain.lastCheckedAt),
            verified: formatDateTime(domain.verifiedAt),
            expires: formatDateTime(domain.certificateExpiresAt),
          })}
        </Text>
        <DnsRecords hostname={domain.hostnameUnicode} records={domain.dnsRecords} />
      </Stack>
    </Card>
  );
}

export function SupportDomains() {
  const { t } = useTranslation("support");
  const [{ data, fetching, error }, refetch] = useQuery({ query: DomainsQuery });
  if (fetching && !data) return <Loading label={t("domains.loading")} />;
  if (error || !data) {
    return (
      <Failed
        title={t("domains.failed")}
        message={error ? describeError(error) : t("noAnswer")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  }
  if (data.trackingDomains.length === 0) {
    return <Empty title={t("domains.none")}>{t("domains.noneText")}</Empty>;
  }
  return (
    <Stack gap="md">
      {data.trackingDomains.map((domain) => (
        <DomainCard domain={domain} key={domain.id} />
      ))}
    </Stack>
  );
}
