import { Alert, Button, Card, Group, NumberInput, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { AccountSettingsInput, TrackingPurpose, TrackingSettingsFieldsFragment } from "../../gql/graphql";
import { useSignedIn } from "../session/SessionProvider";
import { Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { MyEmailDefaults } from "./MyEmailDefaults";
import { MAX_WITHDRAWAL_TEXT, PurposeCard, WithdrawalLinkCard } from "./PurposeSettings";
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
    trackingPurpose
    exemptPurpose
    withdrawalLink
    withdrawalLinkText
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

type NotSwitch = "__typename" | "hitDetailRetentionDays" | "trackingPurpose" | "exemptPurpose" | "withdrawalLinkText";
type Key = Exclude<keyof TrackingSettingsFieldsFragment, NotSwitch>;
/** The switches, how many days hit details are kept (null: as long as the email), the purposes
 * (R28) and the withdrawal link's wording as typed ("": the default wording, R29). */
type Values = Record<Key, boolean> & {
  hitDetailRetentionDays: number | null;
  trackingPurpose: TrackingPurpose;
  exemptPurpose: TrackingPurpose;
  withdrawalLinkText: string;
};

const MAX_RETENTION_DAYS = 3650;

// Words are tracking.groups.<group> and tracking.settings.<key>.{label,description} (i18n).
const GROUPS: { id: "tracking" | "privacy" | "defaults" | "marketing"; settings: Key[] }[] = [
  { id: "tracking", settings: ["trackingEnabled", "selfOpenSuppression"] }, // R18; R9, R14
  { id: "privacy", settings: ["privacyMode", "truncateIps"] }, // R16
  { id: "defaults", settings: ["defaultTrack", "defaultLog"] }, // R1, R2
  { id: "marketing", settings: ["marketingTracking", "marketingLinkTracking"] }, // R3, R12
];

// The withdrawal link's switch is on its own card (PurposeSettings.tsx).
const KEYS: Key[] = [...GROUPS.flatMap((group) => group.settings), "withdrawalLink"];
const FIELDS: (keyof Values)[] = [...KEYS, "hitDetailRetentionDays", "trackingPurpose", "exemptPurpose", "withdrawalLinkText"];

function valuesOf(settings: TrackingSettingsFieldsFragment): Values {
  return {
    ...(Object.fromEntries(KEYS.map((key) => [key, settings[key]])) as Record<Key, boolean>),
    hitDetailRetentionDays: settings.hitDetailRetentionDays ?? null,
    trackingPurpose: settings.trackingPurpose,
    exemptPurpose: settings.exemptPurpose,
    withdrawalLinkText: settings.withdrawalLinkText ?? "",
  };
}

/** What the server is sent for a changed field: an empty wording is null (the default). */
function inputOf(draft: Values, changed: (keyof Values)[]): AccountSettingsInput {
  return Object.fromEntries(
    changed.map((key) => [key, key === "withdrawalLinkText" ? draft.withdrawalLinkText.trim() || null : draft[key]]),
  );
}

/** How long hit details are kept, under Privacy: every setting the API offers is here. */
function Retention({ days, disabled, onChange }: { days: number | null; disabled: boolean; onChange: (days: number | null) => void }) {
  const { t } = useTranslation("tracking");
  return (
    <NumberInput
      label={t("retention.label")}
      description={t("retention.description", { max: MAX_RETENTION_DAYS })}
      placeholder={t("retention.placeholder")}
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
  const { t } = useTranslation("tracking");
  usePageTitle(embedded ? t("supportTitle") : t("title"));
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
  const invalid = draft !== null && draft.withdrawalLinkText.trim().length > MAX_WITHDRAWAL_TEXT;
  const edit = (change: Partial<Values>) =>
    setEdited((current) => {
      const base = current ?? draft;
      return base ? { ...base, ...change } : current;
    });
  const locked = !canEdit || saving.fetching;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!draft || changed.length === 0 || invalid) return;
    setSaveError(null);
    const input = inputOf(draft, changed);
    const result = await save({ input });
    if (result.error || !result.data) {
      setSaveError(result.error ? describeError(result.error) : t("noAnswer"));
      return;
    }
    setEdited(valuesOf(result.data.updateAccountSettings.settings));
    notifications.show({ color: "green", title: t("saved"), message: t("savedText") });
  }

  let body;
  if (fetching && !data) {
    body = <Loading label={t("loading")} />;
  } else if (error || !data || !draft) {
    body = (
      <Failed
        title={t("loadFailed")}
        message={error ? describeError(error) : t("noAnswerLoad")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else {
    body = (
      <form onSubmit={submit} aria-label={t("formLabel")}>
        <UnsavedChanges dirty={canEdit && changed.length > 0} what={t("unsavedWhat")} />
        <Stack gap="lg">
          {!canEdit && (
            <Alert color="blue" title={t("readOnly")}>
              {session.isStaff ? t("staffReadOnly") : t("adminsOnly", { account: data.account.name })}
            </Alert>
          )}
          <PurposeCard
            heading={embedded ? 3 : 2}
            purpose={draft.trackingPurpose}
            exempt={draft.exemptPurpose}
            disabled={locked}
            onPurpose={(trackingPurpose) => edit({ trackingPurpose })}
            onExempt={(exemptPurpose) => edit({ exemptPurpose })}
          />
          {GROUPS.map((group) => (
            <Card withBorder padding="md" key={group.id} role="group" aria-labelledby={`group-${group.id}`}>
              <Title order={embedded ? 3 : 2} size="h4" mb="sm" id={`group-${group.id}`}>
                {t(`groups.${group.id}`)}
              </Title>
              <Stack gap="md">
                {group.settings.map((setting) => (
                  <SettingSwitch
                    key={setting}
                    label={t(`settings.${setting}.label`)}
                    description={t(`settings.${setting}.description`)}
                    checked={draft[setting]}
                    disabled={locked}
                    onChange={(event) => edit({ [setting]: event.currentTarget.checked })}
                  />
                ))}
                {group.id === "privacy" && (
                  <Retention
                    days={draft.hitDetailRetentionDays}
                    disabled={locked}
                    onChange={(days) => edit({ hitDetailRetentionDays: days })}
                  />
                )}
              </Stack>
            </Card>
          ))}
          <WithdrawalLinkCard
            heading={embedded ? 3 : 2}
            on={draft.withdrawalLink}
            text={draft.withdrawalLinkText}
            disabled={locked}
            onToggle={(withdrawalLink) => edit({ withdrawalLink })}
            onText={(withdrawalLinkText) => edit({ withdrawalLinkText })}
          />
          {saveError && (
            <Alert color="red" title={t("saveFailed")} role="alert">
              {saveError}
            </Alert>
          )}
          {canEdit && (
            <Group>
              <Button type="submit" loading={saving.fetching} disabled={changed.length === 0 || invalid}>
                {t("save")}
              </Button>
              <Button variant="default" disabled={changed.length === 0 || saving.fetching} onClick={() => setEdited(null)}>
                {t("discard")}
              </Button>
              <Text size="sm" c="dimmed" aria-live="polite">
                {changed.length === 0 ? t("noChanges") : t("changes", { count: changed.length })}
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
        {t("title")}
      </Title>
      <Text c="dimmed">{t("intro")}</Text>
      {!embedded && !session.isStaff && <MyEmailDefaults />}
      {body}
    </Stack>
  );
}
