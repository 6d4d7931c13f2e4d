// The webhook endpoint forms (admins only): add an endpoint, and edit one in a dialog. Both
// show the API's refusal (a bad URL, a private address) in its own words.
import { Alert, Button, Card, Checkbox, Group, SimpleGrid, Stack, Switch, TextInput, Title } from "@mantine/core";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { WebhookEndpointFieldsFragment as Endpoint } from "../../gql/graphql";
import { EVENT_TYPES, eventHelp, eventLabel } from "./labels";

const CreateEndpoint = graphql(`
  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) {
      secret
      endpoint {
        ...WebhookEndpointFields
      }
    }
  }
`);

export const UpdateEndpoint = graphql(`
  mutation UpdateWebhookEndpoint($input: UpdateWebhookEndpointInput!) {
    updateWebhookEndpoint(input: $input) {
      ...WebhookEndpointFields
    }
  }
`);

type Draft = Pick<Endpoint, "url" | "eventTypes" | "includeNonHuman"> & { description: string };

function draftOf(endpoint: Endpoint): Draft {
  const { url, eventTypes, includeNonHuman } = endpoint;
  return { url, eventTypes, includeNonHuman, description: endpoint.description ?? "" };
}

/** What both forms ask for; `problem` is the error to show under them, if any. */
function EndpointFields({
  draft,
  onChange,
  problem,
}: {
  draft: Draft;
  onChange: (change: Partial<Draft>) => void;
  problem: { title: string; message: string | null };
}) {
  const { t } = useTranslation("webhooks", { keyPrefix: "form" });
  return (
    <>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput
          label={t("url")}
          description={t("urlHelp")}
          type="url"
          required
          placeholder="https://example.com/hooks/sendtrail"
          value={draft.url}
          onChange={(e) => onChange({ url: e.currentTarget.value })}
        />
        <TextInput
          label={t("description")}
          description={t("descriptionHelp")}
          value={draft.description}
          onChange={(e) => onChange({ description: e.currentTarget.value })}
        />
      </SimpleGrid>
      <Checkbox.Group label={t("eventTypes")} value={draft.eventTypes} onChange={(eventTypes) => onChange({ eventTypes })}>
        <Stack gap={6} mt={6}>
          {EVENT_TYPES.map((event) => (
            <Checkbox key={event.value} value={event.value} label={t("eventType", { label: eventLabel(event.value), type: event.value })}
              description={eventHelp(event.key)}
            />
          ))}
        </Stack>
      </Checkbox.Group>
      <Checkbox
        label={t("nonHuman")}
        description={t("nonHumanHelp")}
        checked={draft.includeNonHuman}
        onChange={(e) => onChange({ includeNonHuman: e.currentTarget.checked })}
      />
      {problem.message && (
        <Alert color="red" title={problem.title} role="alert">
          {problem.message}
        </Alert>
      )}
    </>
  );
}

/** A form's draft and error; `send` asks the API and answers its refusal in words, or null. */
function useDraft(initial: Draft, send: (draft: Draft) => Promise<string | null>) {
  const { t } = useTranslation("webhooks", { keyPrefix: "form" });
  const [draft, setDraft] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const change = (part: Partial<Draft>) => setDraft((old) => ({ ...old, ...part }));

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    if (draft.eventTypes.length === 0) setError(t("chooseEvent"));
    else setError(await send(draft));
  }

  return { draft, error, change, submit };
}

const EMPTY: Draft = { url: "", description: "", eventTypes: EVENT_TYPES.map((event) => event.value), includeNonHuman: false };

export function AddForm({ onCreated }: { onCreated: (endpoint: Endpoint, secret: string) => void }) {
  const { t } = useTranslation("webhooks");
  const [state, create] = useMutation(CreateEndpoint);
  const form = useDraft(EMPTY, async ({ url, description, eventTypes, includeNonHuman }) => {
    const result = await create({
      input: { url: url.trim(), eventTypes, description: description.trim() || null, includeNonHuman },
    });
    if (result.error || !result.data) return result.error ? describeError(result.error) : t("noAnswer");
    form.change({ url: "", description: "" });
    onCreated(result.data.createWebhookEndpoint.endpoint, result.data.createWebhookEndpoint.secret);
    return null;
  });

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="add-endpoint-title">
      <Title order={2} size="h4" mb="sm" id="add-endpoint-title">
        {t("form.addTitle")}
      </Title>
      <form onSubmit={form.submit} aria-label={t("form.addTitle")}>
        <Stack gap="sm">
          <EndpointFields
            draft={form.draft}
            onChange={form.change}
            problem={{ title: t("form.addFailed"), message: form.error }}
          />
          <Group>
            <Button type="submit" loading={state.fetching}>
              {t("form.add")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

/** The body of the "Edit endpoint" dialog: mounted on each opening, so it starts from `endpoint`. */
export function EditForm({
  endpoint,
  onCancel,
  onSaved,
}: {
  endpoint: Endpoint;
  onCancel: () => void;
  onSaved: (saved: Endpoint) => void;
}) {
  const { t } = useTranslation("webhooks");
  const [state, update] = useMutation(UpdateEndpoint);
  const [active, setActive] = useState(endpoint.active);
  const form = useDraft(draftOf(endpoint), async ({ url, description, eventTypes, includeNonHuman }) => {
    const result = await update({
      input: {
        id: endpoint.id,
        // Only a new URL is sent: the server resolves and checks its host again each time.
        url: url.trim() === endpoint.url ? null : url.trim(),
        description: description.trim(), // "" removes it
        eventTypes,
        includeNonHuman,
        active,
      },
    });
    if (result.error || !result.data) return result.error ? describeError(result.error) : t("noAnswer");
    onSaved(result.data.updateWebhookEndpoint);
    return null;
  });

  // noValidate: the server's sentence about a bad URL says more than the browser's bubble.
  return (
    <form onSubmit={form.submit} noValidate aria-label={t("endpoint.editTitle")}>
      <Stack gap="sm">
        <EndpointFields
          draft={form.draft}
          onChange={form.change}
          problem={{ title: t("form.saveFailed"), message: form.error }}
        />
        <Switch
          label={t("form.active")}
          description={t("form.activeHelp")}
          checked={active}
          onChange={(e) => setActive(e.currentTarget.checked)}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t("form.cancel")}
          </Button>
          <Button type="submit" loading={state.fetching}>
            {t("form.save")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
