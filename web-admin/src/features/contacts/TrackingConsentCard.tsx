// A contact's consent to individual tracking (R29), shown and recorded apart from the legal
// basis, with every recording kept as proof; and the deliverability purpose's one fact, the
// day of the last open (R28).
import { Alert, Button, Card, Group, List, NativeSelect, Stack, Text, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { TrackingConsent, TrackingConsentFieldsFragment } from "../../gql/graphql";
import { formatDay } from "../../i18n/format";
import { when } from "./paging";

graphql(`
  fragment TrackingConsentFields on Contact {
    id
    trackingConsent
    lastOpenOn
    trackingConsentHistory {
      at
      consent
      source
      wording
      actor
    }
  }
`);

const SetTrackingConsent = graphql(`
  mutation SetTrackingConsent($contactId: ID!, $consent: TrackingConsent!, $source: String!, $wording: String) {
    setTrackingConsent(contactId: $contactId, consent: $consent, source: $source, wording: $wording) {
      ...TrackingConsentFields
    }
  }
`);

const CONSENTS: readonly TrackingConsent[] = ["GRANTED", "WITHDRAWN", "UNKNOWN"];
/** The sources the server accepts (contacts/consent_values.py); ADMIN: recorded by hand. */
const SOURCES = ["ADMIN", "FORM", "IMPORT", "API", "EMAIL_LINK"] as const;
type Source = (typeof SOURCES)[number];
/** As the server limits a consent's wording (records/consent.py). */
const MAX_WORDING = 2000;

function isConsent(value: string): value is TrackingConsent {
  return (CONSENTS as readonly string[]).includes(value);
}

function isSource(value: string): value is Source {
  return (SOURCES as readonly string[]).includes(value);
}

/** `canRecord`: whether the reader may record consent (users and admins; support staff read). */
export function TrackingConsentCard({ contact, canRecord }: { contact: TrackingConsentFieldsFragment; canRecord: boolean }) {
  const { t } = useTranslation("contacts");
  const [consent, setConsent] = useState<TrackingConsent>(contact.trackingConsent === "GRANTED" ? "WITHDRAWN" : "GRANTED");
  const [source, setSource] = useState<Source>("ADMIN");
  const [wording, setWording] = useState("");
  const [saving, save] = useMutation(SetTrackingConsent);
  const [saveError, setSaveError] = useState<string | null>(null);
  const latest = contact.trackingConsentHistory[0];
  const sourceName = (value: string) => (isSource(value) ? t(`consent.sources.${value}`) : value);
  const tooLong = wording.trim().length > MAX_WORDING;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (tooLong) return;
    setSaveError(null);
    const result = await save({ contactId: contact.id, consent, source, wording: wording.trim() || null });
    if (result.error || !result.data) {
      setSaveError(result.error ? describeError(result.error) : t("noAnswer"));
      return;
    }
    setWording("");
    const now = result.data.setTrackingConsent.trackingConsent;
    notifications.show({
      color: "green",
      title: t("consent.saved"),
      message: t("consent.savedText", { consent: t(`consent.values.${now}`), source: sourceName(source) }),
    });
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="tracking-consent">
      <Stack gap="sm">
        <Title order={2} size="h4" id="tracking-consent">
          {t("consent.title")}
        </Title>
        <Text size="sm" data-tracking-consent={contact.trackingConsent}>
          <strong>{t(`consent.values.${contact.trackingConsent}`)}</strong>
          {latest
            ? latest.actor
              ? t("consent.recordedBy", { when: when(latest.at), who: latest.actor })
              : t("consent.recorded", { when: when(latest.at) })
            : t("consent.neverRecorded")}
        </Text>
        <Text size="sm" c="dimmed">
          {t("consent.explain")}
        </Text>
        {contact.lastOpenOn && <Text size="sm">{t("consent.lastOpen", { day: formatDay(contact.lastOpenOn) })}</Text>}
        {canRecord ? (
          <form onSubmit={submit} aria-label={t("consent.form")}>
            <Stack gap="sm">
              <Group gap="sm" align="flex-end" wrap="wrap">
                <NativeSelect
                  label={t("consent.new")}
                  data={CONSENTS.map((value) => ({ value, label: t(`consent.values.${value}`) }))}
                  value={consent}
                  onChange={(event) => {
                    const value = event.currentTarget.value;
                    if (isConsent(value)) setConsent(value);
                  }}
                  disabled={saving.fetching}
                />
                <NativeSelect
                  label={t("consent.source")}
                  data={SOURCES.map((value) => ({ value, label: t(`consent.sources.${value}`) }))}
                  value={source}
                  onChange={(event) => {
                    const value = event.currentTarget.value;
                    if (isSource(value)) setSource(value);
                  }}
                  disabled={saving.fetching}
                />
              </Group>
              <Textarea
                label={t("consent.wording")}
                description={t("consent.wordingHint", { max: MAX_WORDING })}
                value={wording}
                onChange={(event) => setWording(event.currentTarget.value)}
                error={tooLong ? t("consent.tooLong", { max: MAX_WORDING }) : undefined}
                autosize
                minRows={2}
                maxRows={6}
                disabled={saving.fetching}
              />
              <Group>
                <Button type="submit" loading={saving.fetching} disabled={tooLong}>
                  {t("consent.save")}
                </Button>
              </Group>
            </Stack>
          </form>
        ) : (
          <Text size="sm" c="dimmed">
            {t("consent.readOnly")}
          </Text>
        )}
        {saveError && (
          <Alert color="red" title={t("consent.saveFailed")} role="alert">
            {saveError}
          </Alert>
        )}
        <div>
          <Text size="sm" fw={600} id="tracking-consent-history">
            {t("consent.history")}
          </Text>
          {contact.trackingConsentHistory.length === 0 ? (
            <Text size="sm" c="dimmed">
              {t("consent.noHistory")}
            </Text>
          ) : (
            <List size="sm" aria-labelledby="tracking-consent-history" spacing={4}>
              {contact.trackingConsentHistory.map((change, index) => (
                // Recordings have no id of their own; the list is newest first and only grows.
                <List.Item key={`${change.at}-${contact.trackingConsentHistory.length - index}`}>
                  <Text size="sm" component="span" style={{ overflowWrap: "anywhere" }}>
                    {t(change.actor ? "consent.change" : "consent.changeNoActor", {
                      when: when(change.at),
                      consent: t(`consent.values.${change.consent}`),
                      source: sourceName(change.source),
                      who: change.actor ?? "",
                    })}
                  </Text>
                  {change.wording && (
                    <Text size="sm" c="dimmed" style={{ overflowWrap: "anywhere", whiteSpace: "pre-line" }}>
                      {t("consent.wordingQuoted", { wording: change.wording })}
                    </Text>
                  )}
                </List.Item>
              ))}
            </List>
          )}
        </div>
      </Stack>
    </Card>
  );
}
