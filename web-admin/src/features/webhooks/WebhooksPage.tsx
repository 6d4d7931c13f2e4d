// Webhook endpoints (admins): add one (its whsec_ signing secret is shown once), edit it,
// pause / re-enable, rotate the secret (the old one keeps signing for 24 h), send a test event,
// delete, and see each endpoint's deliveries with every attempt.
import { Alert, Badge, Button, Card, Group, Modal, SimpleGrid, Stack, Switch, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { WebhookEndpointFieldsFragment as Endpoint } from "../../gql/graphql";
import { Empty, Failed, Loading } from "../../shell/States";
import { ConfirmDialog } from "../../shell/ConfirmDialog";
import { SecretOnce } from "../../shell/SecretOnce";
import { usePageTitle } from "../../shell/usePageTitle";
import { useSignedIn } from "../session/SessionProvider";
import { formatDateTime } from "../tenancy/labels";
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

type ShownSecret = { title: string; secret: string; note: string };

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
    if (result.error) setError({ title: active ? "Couldn't enable the endpoint" : "Couldn't pause the endpoint", message: describeError(result.error) });
  }

  async function rotateNow() {
    setError(null);
    const result = await rotate({ id: endpoint.id });
    if (result.error || !result.data) {
      setError({ title: "Couldn't rotate the secret", message: result.error ? describeError(result.error) : "The server did not answer." });
      return;
    }
    onRotated(result.data.rotateWebhookSecret.endpoint, result.data.rotateWebhookSecret.secret);
  }

  async function test() {
    setError(null);
    const result = await sendTest({ endpointId: endpoint.id });
    if (result.error || !result.data) {
      setError({ title: "Couldn't send a test event", message: result.error ? describeError(result.error) : "The server did not answer." });
      return;
    }
    notifications.show({ color: "green", title: "Test event queued", message: `${result.data.sendTestWebhook.id} is on its way to ${endpoint.url}.` });
    setShowDeliveries(true);
    setVersion((v) => v + 1);
  }

  let state;
  if (endpoint.active) {
    state = (
      <Badge color="green" variant="light">
        Active
      </Badge>
    );
  } else if (endpoint.disabledReason) {
    state = (
      <Badge color="red" variant="light">
        Disabled
      </Badge>
    );
  } else {
    state = (
      <Badge color="gray" variant="light">
        Paused
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
          <Alert color="red" title="Why it is disabled" role="alert">
            {endpoint.disabledReason} Its pending deliveries are held; enable it again to send them.
          </Alert>
        )}
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
          <Text size="sm">
            <Text span fw={600}>
              Events:{" "}
            </Text>
            {endpoint.eventTypes.map(eventLabel).join(", ") || "none"}
            {endpoint.includeNonHuman ? ", including non-human activity" : ", human activity only"}
          </Text>
          <Text size="sm">
            <Text span fw={600}>
              Added:{" "}
            </Text>
            {formatDateTime(endpoint.createdAt)}
          </Text>
          <Text size="sm" aria-label="Signing secrets">
            <Text span fw={600}>
              Signing:{" "}
            </Text>
            {endpoint.signingSecretCount === 1
              ? "1 signing secret"
              : `${endpoint.signingSecretCount} signing secrets (the old one stops on ${formatDateTime(endpoint.oldSecretExpiresAt)})`}
          </Text>
          <Text size="sm">
            <Text span fw={600}>
              Secret made:{" "}
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
                label="Active"
                aria-label={`Active: ${endpoint.url}`}
                checked={endpoint.active}
                disabled={updating.fetching}
                onChange={(e) => setActive(e.currentTarget.checked)}
                mr="sm"
              />
              <Button size="xs" variant="default" onClick={test} loading={testing.fetching} disabled={!endpoint.active}>
                Send test event
              </Button>
              <Button size="xs" variant="default" onClick={rotateNow} loading={rotating.fetching}>
                Rotate secret
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
            {showDeliveries ? "Hide deliveries" : "Show deliveries"}
          </Button>
          {canEdit && (
            <>
              <Button size="xs" variant="default" aria-label={`Edit ${endpoint.url}`} onClick={() => setEditing(true)}>
                Edit
              </Button>
              <Button size="xs" variant="default" color="red" aria-label={`Delete ${endpoint.url}`} onClick={onDelete}>
                Delete
              </Button>
            </>
          )}
        </Group>
        {canEdit && (
          <Modal opened={editing} onClose={() => setEditing(false)} title="Edit endpoint" size="lg" centered>
            <EditForm
              endpoint={endpoint}
              onCancel={() => setEditing(false)}
              onSaved={(saved) => {
                setEditing(false);
                notifications.show({ color: "green", title: "Endpoint saved", message: `The changes to ${saved.url} are saved.` });
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
  usePageTitle("Webhooks");
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
    notifications.show({ color: "green", title: "Endpoint deleted", message: `Nothing more is sent to ${confirm.url}.` });
    setConfirm(null);
    reload();
  }

  let body;
  if (!isAdmin) {
    body = (
      <Alert color="blue" title="Only admins manage webhooks">
        Ask an admin of your account to add or change webhook endpoints.
      </Alert>
    );
  } else if (fetching && !data) {
    body = <Loading label="Loading webhook endpoints…" />;
  } else if (error || !data) {
    body = <Failed title="Couldn't load the webhook endpoints" message={error ? describeError(error) : "No answer from the server."} onRetry={reload} />;
  } else {
    body = (
      <Stack gap="lg">
        {canEdit && (
          <AddForm
            onCreated={(endpoint, secret) => {
              setShown({ title: `Copy the signing secret for ${endpoint.url} now`, secret, note: "" });
              reload();
            }}
          />
        )}
        <section aria-labelledby="endpoint-list">
          <Title order={2} size="h4" mb="sm" id="endpoint-list">
            Endpoints
          </Title>
          {data.webhookEndpoints.length === 0 ? (
            <Empty title="No webhook endpoints yet">Add one to have opens, clicks and replies POSTed to your systems as they happen.</Empty>
          ) : (
            <Stack gap="md">
              {data.webhookEndpoints.map((endpoint) => (
                <EndpointCard
                  key={endpoint.id}
                  endpoint={endpoint}
                  canEdit={canEdit}
                  onSaved={reload}
                  onRotated={(rotated, secret) =>
                    setShown({
                      title: `Copy the new signing secret for ${rotated.url} now`,
                      secret,
                      note: `The old secret keeps signing until ${formatDateTime(rotated.oldSecretExpiresAt)}, so switch your receiver before then.`,
                    })
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
        Webhooks
      </Title>
      <Text c="dimmed">
        Sendtrail POSTs opens, clicks and replies to your endpoints, signed in the Standard Webhooks format.
        {!canEdit && isAdmin ? " This view is read-only." : ""}
      </Text>
      {shown && (
        <SecretOnce
          title={shown.title}
          secret={shown.secret}
          label="Signing secret"
          copyLabel="Copy secret"
          onDone={() => setShown(null)}
        >
          It can't be shown again: store it where your receiver verifies signatures before you leave this page.{" "}
          {shown.note}
        </SecretOnce>
      )}
      {body}
      <ConfirmDialog
        opened={confirm !== null}
        title="Delete this endpoint?"
        confirmLabel="Delete endpoint"
        errorTitle="Couldn't delete the endpoint"
        error={removeError}
        busy={removing.fetching}
        onCancel={() => setConfirm(null)}
        onConfirm={removeConfirmed}
      >
        Nothing more is sent to {confirm?.url}, and its deliveries, pending ones included, are deleted. This can't be
        undone.
      </ConfirmDialog>
    </Stack>
  );
}
