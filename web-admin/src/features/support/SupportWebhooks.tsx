// An inspected account's webhook endpoints and their latest deliveries, read-only for
// support staff: whether an endpoint is active (or why it was disabled) and how each
// message fared. Signing secrets are never read: the API shows them once, to admins.
// On a phone each delivery is a card led by its status.
import { Alert, Badge, Card, Code, Group, Stack, Table, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { SupportWebhooksQuery } from "../../gql/graphql";
import { formatDateTime, formatNumber } from "../../i18n/format";
import { Empty, Failed, Loading } from "../../shell/States";
import { STATUS, eventLabel } from "../webhooks/labels";
import { LastAnswer } from "../webhooks/Deliveries";

const DELIVERIES = 20;

const WebhooksQuery = graphql(`
  query SupportWebhooks($first: Int!) {
    webhookEndpoints {
      id
      url
      description
      eventTypes
      includeNonHuman
      active
      disabledReason
      createdAt
      deliveries(first: $first) {
        edges {
          node {
            id
            eventType
            status
            createdAt
            attemptCount
            deliveredAt
            lastStatusCode
            lastError
          }
        }
        pageInfo {
          hasNextPage
        }
      }
    }
  }
`);

type Endpoint = SupportWebhooksQuery["webhookEndpoints"][number];
type Delivery = Endpoint["deliveries"]["edges"][number]["node"];

function StatusBadge({ delivery }: { delivery: Delivery }) {
  const { t } = useTranslation("support");
  const status = STATUS[delivery.status];
  return (
    <Badge color={status.color} variant="light" style={{ flexShrink: 0, minWidth: "max-content" }} aria-label={t("statusLabel", { status: status.label })}>
      {status.label}
    </Badge>
  );
}

function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const { t } = useTranslation("support");
  const rows = endpoint.deliveries.edges.map((edge) => edge.node);
  if (rows.length === 0) return <Empty title={t("webhooks.noDeliveries")}>{t("webhooks.noDeliveriesText")}</Empty>;
  const label = t("webhooks.deliveries", { url: endpoint.url });
  return (
    <Stack gap="xs">
      <Table.ScrollContainer minWidth={600} visibleFrom="sm">
        <Table aria-label={label} verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("webhooks.event")}</Table.Th>
              <Table.Th>{t("webhooks.status")}</Table.Th>
              <Table.Th>{t("webhooks.attempts")}</Table.Th>
              <Table.Th>{t("webhooks.lastAnswer")}</Table.Th>
              <Table.Th>webhook-id</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((delivery) => (
              <Table.Tr key={delivery.id}>
                <Table.Td>
                  {eventLabel(delivery.eventType)}
                  <Text size="xs" c="dimmed">
                    {formatDateTime(delivery.createdAt)}
                  </Text>
                </Table.Td>
                <Table.Td data-key-column>
                  <StatusBadge delivery={delivery} />
                  {delivery.deliveredAt && (
                    <Text size="xs" c="dimmed">
                      {formatDateTime(delivery.deliveredAt)}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{formatNumber(delivery.attemptCount)}</Table.Td>
                <Table.Td maw={240}>
                  <LastAnswer delivery={delivery} />
                </Table.Td>
                <Table.Td>
                  <Code>{delivery.id}</Code>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Stack component="ul" gap="xs" p={0} m={0} hiddenFrom="sm" style={{ listStyle: "none" }} aria-label={label}>
        {rows.map((delivery) => (
          <Card withBorder padding="xs" component="li" key={delivery.id}>
            <Group justify="space-between" align="flex-start" wrap="nowrap" gap="xs">
              <Stack gap={0} style={{ minWidth: 0 }}>
                <Text size="sm" fw={600}>
                  {eventLabel(delivery.eventType)}
                </Text>
                <Text size="xs" c="dimmed">
                  {formatDateTime(delivery.createdAt)} · {t("webhooks.attemptCount", { count: delivery.attemptCount })}
                </Text>
              </Stack>
              <div data-key-column>
                <StatusBadge delivery={delivery} />
              </div>
            </Group>
            {(delivery.lastStatusCode != null || delivery.lastError) && <LastAnswer delivery={delivery} />}
          </Card>
        ))}
      </Stack>
      {endpoint.deliveries.pageInfo.hasNextPage && (
        <Text size="sm" c="dimmed">
          {t("webhooks.latestOnly", { limit: formatNumber(DELIVERIES) })}
        </Text>
      )}
    </Stack>
  );
}

function EndpointCard({ endpoint }: { endpoint: Endpoint }) {
  const { t } = useTranslation("support");
  const titleId = `support-endpoint-${endpoint.id}`;
  return (
    <Card withBorder padding="md" component="article" aria-labelledby={titleId}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="nowrap">
          <Stack gap={2} style={{ minWidth: 0 }}>
            <Title order={3} size="h5" id={titleId} style={{ overflowWrap: "anywhere" }}>
              {endpoint.url}
            </Title>
            <Text size="xs" c="dimmed">
              {endpoint.eventTypes.map(eventLabel).join(", ")}
              {endpoint.includeNonHuman ? t("webhooks.nonHuman") : ""}
              {t("webhooks.since", { date: formatDateTime(endpoint.createdAt) })}
            </Text>
            {endpoint.description && <Text size="sm">{endpoint.description}</Text>}
          </Stack>
          <Badge color={endpoint.active ? "green" : "gray"} variant="light" style={{ flexShrink: 0 }}>
            {endpoint.active ? t("webhooks.active") : t("webhooks.paused")}
          </Badge>
        </Group>
        {endpoint.disabledReason && (
          <Alert color="orange" title={t("webhooks.whyNotSending")}>
            {endpoint.disabledReason}
          </Alert>
        )}
        <Deliveries endpoint={endpoint} />
      </Stack>
    </Card>
  );
}

export function SupportWebhooks() {
  const { t } = useTranslation("support");
  const [{ data, fetching, error }, refetch] = useQuery({ query: WebhooksQuery, variables: { first: DELIVERIES } });
  if (fetching && !data) return <Loading label={t("webhooks.loading")} />;
  if (error || !data) {
    return (
      <Failed
        title={t("webhooks.failed")}
        message={error ? describeError(error) : t("noAnswer")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  }
  if (data.webhookEndpoints.length === 0) return <Empty title={t("webhooks.none")}>{t("webhooks.noneText")}</Empty>;
  return (
    <Stack gap="md">
      {data.webhookEndpoints.map((endpoint) => (
        <EndpointCard endpoint={endpoint} key={endpoint.id} />
      ))}
    </Stack>
  );
}
