// Each recipient's copy of an email sent through Sendtrail and what became of it: queued,
// sent, retrying (with the next attempt's time) or failed (with the upstream's answer).
// Asks again every few seconds while any copy is not final.
import { Badge, Card, Group, Stack, Table, Text } from "@mantine/core";
import { type ReactNode, useEffect } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { EmailDeliveriesQuery } from "../../gql/graphql";
import { Failed } from "../../shell/States";
import { formatDateTime } from "../../i18n/format";
import { DELIVERY_COLORS, isFinal } from "./labels";

const DeliveriesQuery = graphql(`
  query EmailDeliveries($id: ID!) {
    email(id: $id) {
      id
      deliveries {
        recipient
        status
        attempts
        lastError
        nextAttemptAt
        sentAt
      }
    }
  }
`);

/** How often the page asks again while a copy is queued or retrying. */
const REFRESH_MS = 2000;

type Delivery = EmailDeliveriesQuery["email"]["deliveries"][number];

function Detail({ delivery }: { delivery: Delivery }) {
  const { t } = useTranslation("compose", { keyPrefix: "delivery" });
  switch (delivery.status) {
    case "SENT":
      return <Text size="sm">{delivery.sentAt ? t("acceptedOn", { when: formatDateTime(delivery.sentAt) }) : t("accepted")}</Text>;
    case "QUEUED":
      return <Text size="sm">{t("waiting")}</Text>;
    case "RETRYING":
      return (
        <Stack gap={2}>
          <Text size="sm">{t("nextAttempt", { when: formatDateTime(delivery.nextAttemptAt) })}</Text>
          {delivery.lastError && (
            <Text size="sm" c="dimmed" style={{ overflowWrap: "anywhere" }}>
              {t("lastAnswer", { answer: delivery.lastError })}
            </Text>
          )}
        </Stack>
      );
    case "FAILED":
      return (
        <Text size="sm" c="red" style={{ overflowWrap: "anywhere" }}>
          {delivery.lastError ?? t("refused")}
        </Text>
      );
  }
}

function StatusBadge({ delivery }: { delivery: Delivery }) {
  const { t } = useTranslation("compose", { keyPrefix: "delivery" });
  return (
    <Badge color={DELIVERY_COLORS[delivery.status]} variant="light">
      {t(`status.${delivery.status}`)}
    </Badge>
  );
}

/** Nothing when the email was not sent through Sendtrail (prepared or logged only). */
export function DeliveryStatus({ emailId, children }: { emailId: string; children: (body: ReactNode) => ReactNode }) {
  const { t } = useTranslation("compose", { keyPrefix: "delivery" });
  const [{ data, error }, refetch] = useQuery({ query: DeliveriesQuery, variables: { id: emailId } });
  const deliveries = data?.email.deliveries ?? [];
  const pending = deliveries.some((delivery) => !isFinal(delivery.status));

  useEffect(() => {
    if (!pending) return;
    const timer = window.setTimeout(() => refetch({ requestPolicy: "network-only" }), REFRESH_MS);
    return () => window.clearTimeout(timer);
  }, [pending, data, refetch]);

  if (error && !data) {
    return children(
      <Failed title={t("loadFailed")} message={describeError(error)} onRetry={() => refetch({ requestPolicy: "network-only" })} />,
    );
  }
  if (deliveries.length === 0) return null;
  return children(
    <Stack gap="xs">
      <Text size="sm" c="dimmed" aria-live="polite">
        {pending ? t("pending") : t("final")}
      </Text>
      <Table.ScrollContainer minWidth={640} visibleFrom="sm">
        <Table striped aria-label={t("label")} verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("columns.recipient")}</Table.Th>
              <Table.Th>{t("columns.status")}</Table.Th>
              <Table.Th>{t("columns.attempts")}</Table.Th>
              <Table.Th>{t("columns.details")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {deliveries.map((delivery) => (
              <Table.Tr key={delivery.recipient} data-status={delivery.status}>
                <Table.Td style={{ overflowWrap: "anywhere" }}>{delivery.recipient}</Table.Td>
                <Table.Td data-key-column>
                  <StatusBadge delivery={delivery} />
                </Table.Td>
                <Table.Td>{delivery.attempts}</Table.Td>
                <Table.Td>
                  <Detail delivery={delivery} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Stack component="ul" gap="xs" p={0} m={0} hiddenFrom="sm" style={{ listStyle: "none" }} aria-label={t("label")}>
        {deliveries.map((delivery) => (
          <Card withBorder padding="sm" component="li" key={delivery.recipient} data-status={delivery.status}>
            <Group justify="space-between" align="flex-start" gap="xs" wrap="nowrap">
              <Text fw={600} size="sm" style={{ overflowWrap: "anywhere", minWidth: 0 }}>
                {delivery.recipient}
              </Text>
              <div data-key-column>
                <StatusBadge delivery={delivery} />
              </div>
            </Group>
            <Detail delivery={delivery} />
            <Text size="xs" c="dimmed">
              {t("attempts", { count: delivery.attempts })}
            </Text>
          </Card>
        ))}
      </Stack>
    </Stack>,
  );
}
