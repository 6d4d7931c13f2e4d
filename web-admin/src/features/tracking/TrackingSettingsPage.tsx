import { Alert, Button, Card, Group, NumberInput, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { AccountSettingsInput, TrackingSettingsFieldsFragment } from "../../gql/graphql";
import { useSignedIn } from "../session/SessionProvider";
import { Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { MyEmailDefaults } from "./MyEmailDefaults";
import { SettingSwitch } from "../../shell/SettingSwitch";
import { UnsavedChanges } from "../../shell/UnsavedChanges";

graphql(`
  fragment TrackingSettingsFields on AccountSettings {
    trackingEnabled
    privacyMode
    selfOpenSuppression
    marketingTracking
    marketingLinkTracking
    defaultTrack
    defaultLog
    truncateIps
    hitDetailRetentionDays
  }
`);

const TrackingSettingsQuery = graphql(`
  query TrackingSettings {
    account {
      id
      name
      settings {
        ...TrackingSettingsFields
      }
    }
  }
`);

const UpdateTrackingSettings = graphql(`
  mutation UpdateTrackingSettings($input: AccountSettingsInput!) {
    updateAccountSettings(input: $input) {
      id
      settings {
        ...TrackingSettingsFields
      }
    }
  }
`);

type Key = Exclude<keyof TrackingSettingsFieldsFragment, "__typename" | "hitDetailRetentionDays">;
/** The switches, and how many days hit details are kept (null: as long as the email). */
type Values = Record<Key, boolean> & { hitDetailRetentionDays: number | null };

const MAX_RETENTION_DAYS = 3650;

interface Setting {
  key: Key;
  label: string;
  /** What the switch does, in the words of the rule it implements. */
  description: string;
}

const GROUPS: { title: string; settings: Setting[] }[] = [
  {
    title: "Tracking",
    settings: [
      {
        key: "trackingEnabled", // R18
        label: "Email tracking",
        description:
          "Turn off to stop email tracking for every user of the account: no pixel or tracked link is added to new emails, and hits on emails tracked earlier notify no one.",
      },
      {
        key: "selfOpenSuppression", // R9, R14
        label: "Self-open suppression",
        description:
          "A sender opening their own email (for example in the Sent folder) or clicking their own links is never reported as an open or click; such hits are kept for diagnostics only.",
      },
    ],
  },
  {
    title: "Privacy",
    settings: [
      {
        key: "privacyMode", // R16
        label: "Privacy mode",
        description:
          "Opens and clicks of contacts without a legal basis for processing are tracked anonymously: notifications say \u201cSomeone\u201d and the contact's last open and click dates are not updated.",
      },
      {
        key: "truncateIps",
        label: "Shorten stored IP addresses",
        description:
          "Addresses of opens and clicks are stored cut to their network (/24 for IPv4, /48 for IPv6), never in full.",
      },
    ],
  },
  {
    title: "Defaults for new emails",
    settings: [
      {
        key: "defaultTrack", // R2
        label: "Track new emails",
        description:
          "Pre-fills the \u201ctrack\u201d choice of every new email; each user can still change it per email.",
      },
      {
        key: "defaultLog", // R1, R2
        label: "Log new emails",
        description:
          "Pre-fills the \u201clog\u201d choice: a copy of the email, attachments included, is kept on the records of the contacts it was sent to.",
      },
    ],
  },
  {
    title: "Marketing emails",
    settings: [
      {
        key: "marketingTracking", // R3
        label: "Track marketing emails",
        description:
          "Opens and clicks of marketing emails are shown on contacts' timelines; the emails themselves appear there either way.",
      },
      {
        key: "marketingLinkTracking", // R12
        label: "Track links in marketing emails",
        description: "Links in marketing emails are rewritten so that clicks on them are recorded.",
      },
    ],
  },
];

const KEYS = GROUPS.flatMap((group) => group.settings.map((setting) => setting.key));
const FIELDS: (keyof Values)[] = [...KEYS, "hitDetailRetentionDays"];

function valuesOf(settings: TrackingSettingsFieldsFragment): Values {
  return {
    ...(Object.fromEntries(KEYS.map((key) => [key, settings[key]])) as Record<Key, boolean>),
    hitDetailRetentionDays: settings.hitDetailRetentionDays ?? null,
  };
}

/** How long hit details are kept, under Privacy: every setting the API offers is here. */
function Retention({ days, disabled, onChange }: { days: number | null; disabled: boolean; onChange: (days: number | null) => void }) {
  return (
    <NumberInput
      label="Forget addresses and user agents after (days)"
      description={`Each open's and click's IP address and user agent are deleted this many days after the hit; counts, verdicts and reasons stay. Leave empty to keep them. From 1 to ${MAX_RETENTION_DAYS}.`}
      placeholder="Kept"
      min={1}
      max={MAX_RETENTION_DAYS}
      allowDecimal={false}
      allowNegative={false}
      clampBehavior="strict"
      value={days ?? ""}
      disabled={disabled}
      maw={420}
      onChange={(value) => onChange(typeof value === "number" ? value : value === "" ? null : Number(value) || null)}
    />
  );
}

/** `embedded`: shown inside another page (the support console), under its heading. */
export function TrackingSettingsPage({ embedded = false }: { embedded?: boolean }) {
  usePageTitle(embedded ? "Support console" : "Tracking & privacy");
  const session = useSignedIn();
  const [{ data, fetching, error }, refetch] = useQuery({ query: TrackingSettingsQuery });
  const [saving, save] = useMutation(UpdateTrackingSettings);
  // The switches as edited; null while untouched, so the loaded values show from the first render.
  const [edited, setEdited] = useState<Values | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);

  const saved = useMemo(() => (data ? valuesOf(data.account.settings) : null), [data]);
  const draft = edited ?? saved;

  // Support staff read the account they inspect (support console) but never change it.
  const canEdit = session.role === "ADMIN" && !session.isStaff;
  const changed = saved && draft ? FIELDS.filter((key) => draft[key] !== saved[key]) : [];

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!draft || changed.length === 0) return;
    setSaveError(null);
    const input: AccountSettingsInput = Object.fromEntries(changed.map((key) => [key, draft[key]]));
    const result = await save({ input });
    if (result.error || !result.data) {
      setSaveError(result.error ? describeError(result.error) : "The server did not answer.");
      return;
    }
    setEdited(valuesOf(result.data.updateAccountSettings.settings));
    notifications.show({ color: "green", title: "Settings saved", message: "Tracking and privacy settings are up to date." });
  }

  let body;
  if (fetching && !data) {
    body = <Loading label="Loading settings…" />;
  } else if (error || !data || !draft) {
    body = (
      <Failed
        title="Couldn't load the settings"
        message={error ? describeError(error) : "No answer from the server."}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else {
    body = (
      <form onSubmit={submit} aria-label="Tracking and privacy settings">
        <UnsavedChanges dirty={canEdit && changed.length > 0} what="tracking and privacy settings" />
        <Stack gap="lg">
          {!canEdit && (
            <Alert color="blue" title="Read only">
              {session.isStaff
                ? "Support staff can read these settings but not change them."
                : `Only admins of ${data.account.name} can change these settings; here is how they are set.`}
            </Alert>
          )}
          {GROUPS.map((group) => (
            <Card withBorder padding="md" key={group.title} role="group" aria-labelledby={`group-${group.title.replaceAll(" ", "-")}`}>
              <Title order={embedded ? 3 : 2} size="h4" mb="sm" id={`group-${group.title.replaceAll(" ", "-")}`}>
                {group.title}
              </Title>
              <Stack gap="md">
                {group.settings.map((setting) => (
                  <SettingSwitch
                    key={setting.key}
                    label={setting.label}
                    description={setting.description}
                    checked={draft[setting.key]}
                    disabled={!canEdit || saving.fetching}
                    onChange={(event) => {
                      const checked = event.currentTarget.checked;
                      setEdited((current) => ({ ...(current ?? draft), [setting.key]: checked }));
                    }}
                  />
                ))}
                {group.title === "Privacy" && (
                  <Retention
                    days={draft.hitDetailRetentionDays}
                    disabled={!canEdit || saving.fetching}
                    onChange={(days) => setEdited((current) => ({ ...(current ?? draft), hitDetailRetentionDays: days }))}
                  />
                )}
              </Stack>
            </Card>
          ))}
          {saveError && (
            <Alert color="red" title="Couldn't save the settings" role="alert">
              {saveError}
            </Alert>
          )}
          {canEdit && (
            <Group>
              <Button type="submit" loading={saving.fetching} disabled={changed.length === 0}>
                Save changes
              </Button>
              <Button variant="default" disabled={changed.length === 0 || saving.fetching} onClick={() => setEdited(null)}>
                Discard
              </Button>
              <Text size="sm" c="dimmed" aria-live="polite">
                {changed.length === 0 ? "No unsaved changes." : `${changed.length} unsaved change(s).`}
              </Text>
            </Group>
          )}
        </Stack>
      </form>
    );
  }

  return (
    <Stack gap="md">
      <Title order={embedded ? 2 : 1} size={embedded ? "h3" : "h2"}>
        Tracking &amp; privacy
      </Title>
      <Text c="dimmed">Account-wide rules for how opens and clicks are tracked and kept.</Text>
      {!embedded && !session.isStaff && <MyEmailDefaults />}
      {body}
    </Stack>
  );
}
