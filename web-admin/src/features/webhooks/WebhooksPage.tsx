// Webhook endpoints (admins): add one (its whsec_ signing secret is shown once), edit it,
// pause / re-enable, rotate the secret (the old one keeps signing for 24 h), send a test event,
// delete, and see each endpoint's deliveries with every attempt.
import { Alert, Badge, Button, Card, Group, Modal, SimpleGrid, Stack, Switch, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { WebhookEndpointFieldsFragment as Endpoint } from "../../gql/graphql";
import { Empty, Failed, Loading } from "../../shell/States";
import { ConfirmDialog } from "../../shell/ConfirmDialog";
import { SecretOnce } from "../../shell/SecretOnce";
import { usePageTitle } from "../../shell/usePageTitle";
import { useSignedIn } from "../session/SessionProvider";
import { formatDateTime } from "../../i18n/format";
import { Deliveries } from "./Deliveries";
import { AddForm, EditForm, UpdateEndpoint } from "./EndpointForms";
import { eventLabel } from "./labels";

graphql(`
  fragment WebhookEndpointFields on WebhookEndpoint {
    id
    url
    description
    eventTypes
    includeNonHuman
    active
    disabledReason
    createdAt
    secretRotatedAt
    signingSecretCount
    oldSecretExpiresAt
  }
`);

const EndpointsQuery = graphql(`
  query WebhookEndpoints {
    webhookEndpoints {
      ...WebhookEndpointFields
    }
  }
`);

const RotateSecret = graphql(`
  mutation RotateWebhookSecret($id: ID!) {
    rotateWebhookSecret(id: $id, keepOldForHours: 24) {
      secret
      endpoint {
        ...WebhookEndpointFields
      }
    }
  }
`);

const SendTest = graphql(`
  mutation SendTestWebhook($endpointId: ID!) {
    sendTestWebhook(endpointId: $endpointId) {
      id
      status
    }
  }
`);

const DeleteEndpoint = graphql(`
  mutation DeleteWebhookEndpoint($id: ID!) {
    deleteWebhookEndpoint(id: $id)
  }
`);

/** A secret shown once: a new endpoint's, or a rotated one's (the old one still signs for a while). */
type ShownSecret = { url: string; secret: string; rotated: boolean; oldExpiresAt?: string | null };

function EndpointCard({
  endpoint,
  canEdit,
  onSaved,
  onRotated,
  onDelete,
}: {
  endpoint: Endpoint;
  canEdit: boolean;
  onSaved: () => void;
  onRotated: (endpoint: Endpoint, secret: string) => void;
  onDelete: () => void;
}) {
  const { t } = useTranslation("webhooks");
  const [updating, update] = useMutation(UpdateEndpoint);
  const [rotating, rotate] = useMutation(RotateSecret);
  const [testing, sendTest] = useMutation(SendTest);
  const [error, setError] = useState<{ title: string; message: string } | null>(null);
  const [showDeliveries, setShowDeliveries] = useState(false);
  const [editing, setEditing] = useState(false);
  const [version, setVersion] = useState(0);
  const titleId = `endpoint-${endpoint.id}`;
  const deliveriesId = `endpoint-deliveries-${endpoint.id}`;

  async function setActive(active: boolean) {
    setError(null);
    const result = await update({ input: { id: endpoint.id, active } });
    if (result.error) setError({ title: active ? t("endpoint.enableFailed") : t("endpoint.pauseFailed"), message: describeError(result.error) });
  }

  async function rotateNow() {
    setError(null);
    const result = await rotate({ id: endpoint.id });
    if (result.error || !result.data) {
      setError({ title: t("endpoint.rotateFailed"), message: result.error ? describeError(result.error) : t("noAnswer") });
      return;
    }
    onRotated(result.data.rotateWebhookSecret.endpoint, result.data.rotateWebhookSecret.secret);
  }

  async function test() {
    setError(null);
    const result = await sendTest({ endpointId: endpoint.id });
    if (result.error || !result.data) {
      setError({ title: t("endpoint.testFailed"), message: result.error ? describeError(result.error) : t("noAnswer") });
      return;
    }
    notifications.show({
      color: "green",
      title: t("endpoint.testQueued"),
      message: t("endpoint.testQueuedText", { id: result.data.sendTestWebhook.id, url: endpoint.url }),
    });
    setShowDeliveries(true);
    setVersion((v) => v + 1);
  }

  let state;
  if (endpoint.active) {
    state = (
      <Badge color="green" variant="light">
        {t("endpoint.active")}
      </Badge>
    );
  } else if (endpoint.disabledReason) {
    state = (
      <Badge color="red" variant="light">
        {t("endpoint.disabled")}
      </Badge>
    );
  } else {
    state = (
      <Badge color="gray" variant="light">
        {t("endpoint.paused")}
      </Badge>
    );
  }

  return (
    <Card withBorder padding="md" component="article" aria-labelledby={titleId}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" gap="xs">
          <Stack gap={2} miw={0} style={{ flex: 1 }}>
            <Title order={3} size="h5" id={titleId} style={{ overflowWrap: "anywhere" }}>
              {endpoint.url}
            </Title>
            {endpoint.description && (
              <Text size="sm" c="dimmed">
                {endpoint.description}
              </Text>
            )}
          </Stack>
          {state}
        </Group>
        {endpoint.disabledReason && (
          <Alert color="red" title={t("endpoint.whyDisabled")} role="alert">
            {endpoint.disabledReason} {t("endpoint.held")}
          </Alert>
        )}
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
          <Text size="sm">
            <Text span fw={600}>
              {t("endpoint.events")}{" "}
            </Text>
            {endpoint.eventTypes.map(eventLabel).join(", ") || t("endpoint.noEvents")}
            {endpoint.includeNonHuman ? t("endpoint.nonHuman") : t("endpoint.humanOnly")}
          </Text>
          <Text size="sm">
            <Text span fw={600}>
              {t("endpoint.added")}{" "}
            </Text>
            {formatDateTime(endpoint.createdAt)}
          </Text>
          <Text size="sm" aria-label={t("endpoint.signingLabel")}>
            <Text span fw={600}>
              {t("endpoint.signing")}{" "}
            </Text>
            {t("endpoint.secrets", { count: endpoint.signingSecretCount, date: formatDateTime(endpoint.oldSecretExpiresAt) })}
          </Text>
          <Text size="sm">
            <Text span fw={600}>
              {t("endpoint.secretMade")}{" "}
            </Text>
            {formatDateTime(endpoint.secretRotatedAt ?? endpoint.createdAt)}
          </Text>
        </SimpleGrid>
        {error && (
          <Alert color="red" title={error.title} role="alert" withCloseButton onClose={() => setError(null)}>
            {error.message}
          </Alert>
        )}
        <Group gap="xs">
          {canEdit && (
            <>
              <Switch
                label={t("endpoint.active")}
                aria-label={t("endpoint.activeLabel", { url: endpoint.url })}
                checked={endpoint.active}
                disabled={updating.fetching}
                onChange={(e) => setActive(e.currentTarget.checked)}
                mr="sm"
              />
              <Button size="xs" variant="default" onClick={test} loading={testing.fetching} disabled={!endpoint.active}>
                {t("endpoint.sendTest")}
              </Button>
              <Button size="xs" variant="default" onClick={rotateNow} loading={rotating.fetching}>
                {t("endpoint.rotate")}
              </Button>
            </>
          )}
          <Button
            size="xs"
            variant="light"
            aria-expanded={showDeliveries}
            aria-controls={deliveriesId}
            onClick={() => setShowDeliveries((open) => !open)}
          >
            {showDeliveries ? t("endpoint.hideDeliveries") : t("endpoint.showDeliveries")}
          </Button>
          {canEdit && (
            <>
              <Button size="xs" variant="default" aria-label={t("endpoint.editLabel", { url: endpoint.url })} onClick={() => setEditing(true)}>
                {t("endpoint.edit")}
              </Button>
              <Button size="xs" variant="default" color="red" aria-label={t("endpoint.deleteLabel", { url: endpoint.url })} onClick={onDelete}>
                {t("endpoint.delete")}
              </Button>
            </>
          )}
        </Group>
        {canEdit && (
          <Modal opened={editing} onClose={() => setEditing(false)} title={t("endpoint.editTitle")} size="lg" centered>
            <EditForm
              endpoint={endpoint}
              onCancel={() => setEditing(false)}
              onSaved={(saved) => {
                setEditing(false);
                notifications.show({ color: "green", title: t("endpoint.saved"), message: t("endpoint.savedText", { url: saved.url }) });
                onSaved();
              }}
            />
          </Modal>
        )}
        <div id={deliveriesId}>
          {showDeliveries && <Deliveries endpointId={endpoint.id} url={endpoint.url} version={version} canEdit={canEdit} />}
        </div>
      </Stack>
    </Card>
  );
}

export function WebhooksPage() {
  const { t } = useTranslation("webhooks");
  usePageTitle(t("title"));
  const session = useSignedIn();
  const isAdmin = session.role === "ADMIN" || session.isStaff;
  const canEdit = session.role === "ADMIN" && !session.isStaff;
  const [{ data, fetching, error }, refetch] = useQuery({ query: EndpointsQuery, pause: !isAdmin });
  const [removing, remove] = useMutation(DeleteEndpoint);
  const [shown, setShown] = useState<ShownSecret | null>(null);
  const [confirm, setConfirm] = useState<Endpoint | null>(null);
  const [removeError, setRemoveError] = useState<string | null>(null);

  const reload = () => refetch({ requestPolicy: "network-only" });

  async function removeConfirmed() {
    if (!confirm) return;
    setRemoveError(null);
    const result = await remove({ id: confirm.id });
    if (result.error) {
      setRemoveError(describeError(result.error));
      return;
    }
    notifications.show({ color: "green", title: t("deleted"), message: t("deletedText", { url: confirm.url }) });
    setConfirm(null);
    reload();
  }

  let body;
  if (!isAdmin) {
    body = (
      <Alert color="blue" title={t("adminsOnly")}>
        {t("adminsOnlyText")}
      </Alert>
    );
  } else if (fetching && !data) {
    body = <Loading label={t("loading")} />;
  } else if (error || !data) {
    body = <Failed title={t("loadFailed")} message={error ? describeError(error) : t("noAnswerLoad")} onRetry={reload} />;
  } else {
    body = (
      <Stack gap="lg">
        {canEdit && (
          <AddForm
            onCreated={(endpoint, secret) => {
              setShown({ url: endpoint.url, secret, rotated: false });
              reload();
            }}
          />
        )}
        <section aria-labelledby="endpoint-list">
          <Title order={2} size="h4" mb="sm" id="endpoint-list">
            {t("list")}
          </Title>
          {data.webhookEndpoints.length === 0 ? (
            <Empty title={t("empty")}>{t("emptyText")}</Empty>
          ) : (
            <Stack gap="md">
              {data.webhookEndpoints.map((endpoint) => (
                <EndpointCard
                  key={endpoint.id}
                  endpoint={endpoint}
                  canEdit={canEdit}
                  onSaved={reload}
                  onRotated={(rotated, secret) =>
                    setShown({ url: rotated.url, secret, rotated: true, oldExpiresAt: rotated.oldSecretExpiresAt })
                  }
                  onDelete={() => {
                    setRemoveError(null);
                    setConfirm(endpoint);
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
      <Text c="dimmed">
        {t("intro")}
        {!canEdit && isAdmin ? t("readOnly") : ""}
      </Text>
      {shown && (
        <SecretOnce
          title={t(shown.rotated ? "secret.rotated" : "secret.new", { url: shown.url })}
          secret={shown.secret}
          label={t("secret.label")}
          copyLabel={t("secret.copy")}
          onDone={() => setShown(null)}
        >
          {t("secret.once")}
          {shown.rotated && ` ${t("secret.oldKeeps", { date: formatDateTime(shown.oldExpiresAt) })}`}
        </SecretOnce>
      )}
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
        {t("confirm.text", { url: confirm?.url ?? "" })}
      </ConfirmDialog>
    </Stack>
  );
}
