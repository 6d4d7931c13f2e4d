// What tracking is for (R28) and the withdrawal link (R29), as parts of the Tracking & privacy
// form: the page owns the draft, the save and the unsaved-changes question; these only show
// the choices and report edits.
import { Card, Radio, Stack, Text, TextInput, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";

import type { TrackingPurpose } from "../../gql/graphql";
import { SettingSwitch } from "../../shell/SettingSwitch";

export const PURPOSES: readonly TrackingPurpose[] = ["INDIVIDUAL", "AGGREGATE", "DELIVERABILITY", "OFF"];
/** What a contact without consent may fall back to: never INDIVIDUAL (the server refuses it). */
type ExemptPurpose = Exclude<TrackingPurpose, "INDIVIDUAL">;
export const EXEMPT_PURPOSES: readonly ExemptPurpose[] = ["AGGREGATE", "DELIVERABILITY", "OFF"];
/** As the server limits `withdrawalLinkText` (tenancy/accounts.py). */
export const MAX_WITHDRAWAL_TEXT = 200;

function isPurpose<P extends TrackingPurpose>(value: string, among: readonly P[]): value is P {
  return (among as readonly string[]).includes(value);
}

function PurposeChoice<P extends TrackingPurpose>({ name, label, description, value, among, describe, disabled, onChange }: {
  name: "trackingPurpose" | "exemptPurpose";
  label: string;
  description: string;
  value: TrackingPurpose;
  among: readonly P[];
  /** A choice's name, and the sentence under it: what it stores. */
  describe: (purpose: P) => { label: string; description: string };
  disabled: boolean;
  onChange: (value: P) => void;
}) {
  return (
    <Radio.Group
      name={name}
      label={label}
      description={description}
      value={value}
      onChange={(next) => {
        if (isPurpose(next, among)) onChange(next);
      }}
    >
      <Stack gap="sm" mt="xs">
        {among.map((purpose) => (
          <Radio
            key={purpose}
            value={purpose}
            disabled={disabled}
            {...describe(purpose)}
          />
        ))}
      </Stack>
    </Radio.Group>
  );
}

export function PurposeCard({ heading, purpose, exempt, disabled, onPurpose, onExempt }: {
  heading: 2 | 3;
  purpose: TrackingPurpose;
  exempt: TrackingPurpose;
  disabled: boolean;
  onPurpose: (value: TrackingPurpose) => void;
  onExempt: (value: TrackingPurpose) => void;
}) {
  const { t } = useTranslation("tracking");
  return (
    <Card withBorder padding="md" role="group" aria-labelledby="group-purpose">
      <Title order={heading} size="h4" mb="sm" id="group-purpose">
        {t("groups.purpose")}
      </Title>
      <Stack gap="lg">
        <PurposeChoice
          name="trackingPurpose"
          label={t("purpose.label")}
          description={t("purpose.description")}
          value={purpose}
          among={PURPOSES}
          describe={(choice) => ({ label: t(`purposes.${choice}.label`), description: t(`purposes.${choice}.description`) })}
          disabled={disabled}
          onChange={onPurpose}
        />
        {purpose === "INDIVIDUAL" && (
          <PurposeChoice
            name="exemptPurpose"
            label={t("exempt.label")}
            description={t("exempt.description")}
            // An exempt purpose is never INDIVIDUAL; should the server ever say so, no choice shows.
            value={exempt}
            among={EXEMPT_PURPOSES}
            describe={(choice) => ({ label: t(`purposes.${choice}.label`), description: t(`exempt.choices.${choice}`) })}
            disabled={disabled}
            onChange={onExempt}
          />
        )}
      </Stack>
    </Card>
  );
}

export function WithdrawalLinkCard({ heading, on, text, disabled, onToggle, onText }: {
  heading: 2 | 3;
  on: boolean;
  text: string;
  disabled: boolean;
  onToggle: (on: boolean) => void;
  onText: (text: string) => void;
}) {
  const { t } = useTranslation("tracking");
  const tooLong = text.trim().length > MAX_WITHDRAWAL_TEXT;
  return (
    <Card withBorder padding="md" role="group" aria-labelledby="group-withdrawal">
      <Title order={heading} size="h4" mb="sm" id="group-withdrawal">
        {t("groups.withdrawal")}
      </Title>
      <Stack gap="md">
        <SettingSwitch
          label={t("settings.withdrawalLink.label")}
          description={t("settings.withdrawalLink.description")}
          checked={on}
          disabled={disabled}
          onChange={(event) => onToggle(event.currentTarget.checked)}
        />
        <TextInput
          label={t("withdrawal.text")}
          description={t("withdrawal.textDescription", { max: MAX_WITHDRAWAL_TEXT })}
          placeholder={t("withdrawal.default")}
          value={text}
          disabled={disabled}
          maw={520}
          error={tooLong ? t("withdrawal.tooLong", { max: MAX_WITHDRAWAL_TEXT }) : undefined}
          onChange={(event) => onText(event.currentTarget.value)}
        />
        {!on && (
          <Text size="sm" c="dimmed">
            {t("withdrawal.offNote")}
          </Text>
        )}
      </Stack>
    </Card>
  );
}
