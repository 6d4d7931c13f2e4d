// One endpoint's deliveries, newest first: status, attempts, next attempt, last answer; a row
// expands to every attempt, and a delivery can be replayed (same webhook-id).
import { Alert, Badge, Button, Card, Code, Group, Stack, Table, Text, Tooltip, VisuallyHidden } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { Fragment, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { WebhookDeliveriesQuery } from "../../gql/graphql";
import { Empty, Failed, Loading } from "../../shell/States";
import { formatDateTime, formatNumber } from "../../i18n/format";
import { STATUS, eventLabel } from "./labels";

const PAGE_SIZE = 20;

const DeliveriesQuery = graphql(`
  query WebhookDeliveries($id: ID!, $first: Int!, $after: String) {
    webhookEndpoint(id: $id) {
      id
      deliveries(first: $first, after: $after) {
        edges {
          cursor
          node {
            id
            eventType
            status
            createdAt
            attemptCount
            nextAttemptAt
            deliveredAt
            lastStatusCode
            lastError
            attempts {
              at
              statusCode
              error
              durationMs
              nextAttemptAt
            }
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

const ReplayDelivery = graphql(`
  mutation ReplayWebhookDelivery($id: ID!) {
    replayWebhookDelivery(id: $id) {
      id
      status
      attemptCount
      nextAttemptAt
      lastStatusCode
      lastError
    }
  }
`);

type Delivery = NonNullable<WebhookDeliveriesQuery["webhookEndpoint"]>["deliveries"]["edges"][number]["node"];

function DeliveryStatusBadge({ delivery }: { delivery: Delivery }) {
  const { t } = useTranslation("webhooks");
  const status = STATUS[delivery.status];
  return (
    <>
      <Tooltip label={status.help}>
        <Badge color={status.color} variant="light" aria-label={t("statusLabel", { status: status.label })} style={{ minWidth: "max-content" }}>
          {status.label}
        </Badge>
      </Tooltip>
      {delivery.deliveredAt && (
        <Text size="xs" c="dimmed">
          {formatDateTime(delivery.deliveredAt)}
        </Text>
      )}
    </>
  );
}

/** A delivery's last answer: the endpoint's status code and/or the error, "—" for none.
 * Shared with the support console's read-only deliveries. */
export function LastAnswer({ delivery }: { delivery: { lastStatusCode?: number | null; lastError?: string | null } }) {
  const code = delivery.lastStatusCode;
  return (
    <>
      {code !== null && code !== undefined && <Code>{code}</Code>}{" "}
      {delivery.lastError ? (
        <Text size="sm" span style={{ overflowWrap: "anywhere" }}>
          {delivery.lastError}
        </Text>
      ) : code === null || code === undefined ? (
        "—"
      ) : null}
    </>
  );
}

function Attempts({ delivery }: { delivery: Delivery }) {
  const { t } = useTranslation("webhooks", { keyPrefix: "deliveries" });
  if (delivery.attempts.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        {t("notAttempted")}
      </Text>
    );
  }
  return (
    <Table.ScrollContainer minWidth={480}>
      <Table aria-label={t("attemptsOf", { id: delivery.id })} withRowBorders={false}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("time")}</Table.Th>
            <Table.Th>{t("statusCode")}</Table.Th>
            <Table.Th>{t("error")}</Table.Th>
            <Table.Th>{t("duration")}</Table.Th>
            <Table.Th>{t("nextTry")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {delivery.attempts.map((attempt, index) => (
            <Table.Tr key={`${attempt.at}-${index}`}>
              <Table.Td>{formatDateTime(attempt.at)}</Table.Td>
              <Table.Td>{attempt.statusCode ?? t("noAnswer")}</Table.Td>
              <Table.Td style={{ overflowWrap: "anywhere" }}>{attempt.error ?? "—"}</Table.Td>
              <Table.Td>{t("ms", { ms: formatNumber(attempt.durationMs) })}</Table.Td>
              <Table.Td>{formatDateTime(attempt.nextAttemptAt)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export function Deliveries({ endpointId, url, version, canEdit }: { endpointId: string; url: string; version: number; canEdit: boolean }) {
  const { t } = useTranslation("webhooks", { keyPrefix: "deliveries" });
  // A stack of cursors: the last one is the page shown (null: the newest).
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const [{ data, fetching, error }, refetch] = useQuery({
    query: DeliveriesQuery,
    variables: { id: endpointId, first: PAGE_SIZE, after },
    requestPolicy: "cache-and-network",
  });
  const [replaying, replay] = useMutation(ReplayDelivery);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [replayError, setReplayError] = useState<string | null>(null);
  const [replayingId, setReplayingId] = useState<string | null>(null);

  const reload = () => refetch({ requestPolicy: "network-only" });
  // A new version (a test event was sent) shows the newest page, loaded afresh. Only a new
  // one: `refetch` changes with every page too, and paging must keep its page.
  const shownVersion = useRef(version);
  useEffect(() => {
    if (shownVersion.current === version) return;
    shownVersion.current = version;
    if (after === null) refetch({ requestPolicy: "network-only" });
    else setCursors([null]); // the newest page's query goes to the network (cache-and-network)
  }, [version, after, refetch]);

  function toggle(id: string) {
    setExpanded((open) => {
      const next = new Set(open);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  async function replayOne(id: string) {
    setReplayError(null);
    setReplayingId(id);
    const result = await replay({ id });
    setReplayingId(null);
    if (result.error) {
      setReplayError(describeError(result.error));
      return;
    }
    notifications.show({ color: "green", title: t("queuedAgain"), message: t("queuedAgainText", { id }) });
    reload();
  }

  /** Show the attempts, and replay (admins): the same on a row and on a phone's card, where
   * the buttons may take two lines (longer words, as in German, stay whole). */
  function actions(node: Delivery, detailsId: string, onCard = false) {
    const open = expanded.has(node.id);
    return (
      <Group gap="xs" wrap={onCard ? "wrap" : "nowrap"}>
        <Button
          size="xs"
          variant="subtle"
          aria-expanded={open}
          aria-controls={detailsId}
          aria-label={t(open ? "hideAttemptsOf" : "showAttemptsOf", { id: node.id })}
          onClick={() => toggle(node.id)}
        >
          {open ? t("hideAttempts") : t("attemptsButton", { count: node.attempts.length })}
        </Button>
        {canEdit && (
          <Button
            size="xs"
            variant="default"
            aria-label={t("replayLabel", { id: node.id })}
            loading={replaying.fetching && replayingId === node.id}
            onClick={() => replayOne(node.id)}
          >
            {t("replay")}
          </Button>
        )}
      </Group>
    );
  }

  const titleId = `deliveries-${endpointId}`;
  let body;
  if (fetching && !data) {
    body = <Loading label={t("loading")} />;
  } else if (error || !data) {
    body = <Failed title={t("loadFailed")} message={error ? describeError(error) : t("noAnswerLoad")} onRetry={reload} />;
  } else if (data.webhookEndpoint.deliveries.edges.length === 0) {
    body = <Empty title={t("empty")}>{t("emptyText")}</Empty>;
  } else {
    const connection = data.webhookEndpoint.deliveries;
    body = (
      <Stack gap="sm">
        <Table.ScrollContainer minWidth={860} visibleFrom="sm">
          <Table aria-labelledby={titleId} verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>webhook-id</Table.Th>
                <Table.Th>{t("event")}</Table.Th>
                <Table.Th>{t("status")}</Table.Th>
                <Table.Th>{t("attempts")}</Table.Th>
                <Table.Th>{t("nextAttempt")}</Table.Th>
                <Table.Th>{t("lastAnswer")}</Table.Th>
                <Table.Th>
                  <VisuallyHidden>{t("actions")}</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {connection.edges.map(({ node }) => {
                const open = expanded.has(node.id);
                const detailsId = `attempts-${node.id}`;
                return (
                  <Fragment key={node.id}>
                    <Table.Tr>
                      <Table.Td>
                        <Code>{node.id}</Code>
                        <Text size="xs" c="dimmed">
                          {formatDateTime(node.createdAt)}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        {eventLabel(node.eventType)}
                        <Text size="xs" c="dimmed">
                          {node.eventType}
                        </Text>
                      </Table.Td>
                      <Table.Td data-key-column>
                        <DeliveryStatusBadge delivery={node} />
                      </Table.Td>
                      <Table.Td>{formatNumber(node.attemptCount)}</Table.Td>
                      <Table.Td>{node.status === "PENDING" ? formatDateTime(node.nextAttemptAt) : "—"}</Table.Td>
                      <Table.Td maw={260}>
                        <LastAnswer delivery={node} />
                      </Table.Td>
                      <Table.Td>
                        {actions(node, detailsId)}
                      </Table.Td>
                    </Table.Tr>
                    {open && (
                      <Table.Tr id={detailsId}>
                        <Table.Td colSpan={7} bg="var(--mantine-color-default-hover)">
                          <Attempts delivery={node} />
                        </Table.Td>
                      </Table.Tr>
                    )}
                  </Fragment>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {/* On a phone each delivery is a card: its status never leaves the screen (item 9). */}
        <Stack component="ul" gap="xs" p={0} m={0} hiddenFrom="sm" style={{ listStyle: "none" }} aria-labelledby={titleId}>
          {connection.edges.map(({ node }) => {
            const detailsId = `attempts-card-${node.id}`;
            return (
              <Card withBorder padding="xs" component="li" key={node.id}>
                <Stack gap={4}>
                  <Group justify="space-between" align="flex-start" gap="xs" wrap="nowrap">
                    <Stack gap={0} style={{ minWidth: 0 }}>
                      <Text size="sm" fw={600}>
                        {eventLabel(node.eventType)}
                      </Text>
                      <Text size="xs" c="dimmed" style={{ overflowWrap: "anywhere" }}>
                        {node.id} · {formatDateTime(node.createdAt)}
                      </Text>
                    </Stack>
                    <Stack gap={0} align="flex-end" data-key-column>
                      <DeliveryStatusBadge delivery={node} />
                    </Stack>
                  </Group>
                  <Text size="sm">
                    {t("attemptCount", { count: node.attemptCount })}
                    {node.status === "PENDING" && t("next", { date: formatDateTime(node.nextAttemptAt) })}
                  </Text>
                  <Text size="sm" component="div">
                    {t("lastAnswerLabel")}
                    <LastAnswer delivery={node} />
                  </Text>
                  {actions(node, detailsId, true)}
                  {expanded.has(node.id) && (
                    <div id={detailsId}>
                      <Attempts delivery={node} />
                    </div>
                  )}
                </Stack>
              </Card>
            );
          })}
        </Stack>
        {(cursors.length > 1 || connection.pageInfo.hasNextPage) && (
          <Group gap="xs">
            <Button size="xs" variant="default" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              {t("newer")}
            </Button>
            <Button
              size="xs"
              variant="default"
              disabled={!connection.pageInfo.hasNextPage}
              onClick={() => setCursors((c) => [...c, connection.pageInfo.endCursor ?? null])}
            >
              {t("older")}
            </Button>
          </Group>
        )}
      </Stack>
    );
  }

  return (
    <Stack gap="xs" component="section" aria-labelledby={titleId}>
      <Group justify="space-between" gap="xs">
        <Text fw={600} id={titleId}>
          {t("title", { url })}
        </Text>
        <Button size="xs" variant="subtle" onClick={reload} loading={fetching && !!data}>
          {t("refresh")}
        </Button>
      </Group>
      {replayError && (
        <Alert color="red" title={t("replayFailed")} role="alert" withCloseButton onClose={() => setReplayError(null)}>
          {replayError}
        </Alert>
      )}
      {body}
    </Stack>
  );
}
