import { Alert, Anchor, Button, Card, Group, List, Modal, NativeSelect, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { Trans, useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { useClient, useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { hasErrorCode } from "../../api/errors";
import { graphql } from "../../gql";
import type { LegalBasis } from "../../gql/graphql";
import { Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { Compose, type ComposeDraft } from "../sending/Compose";
import { useSignedIn } from "../session/SessionProvider";
import type { ErasedState } from "./ContactsPage";
import { LEGAL_BASES } from "./labels";
import { when } from "./paging";
import { Timeline } from "./Timeline";
import { TrackingConsentCard } from "./TrackingConsentCard";

const ContactQuery = graphql(`
  query Contact($id: ID!) {
    contact(id: $id) {
      id
      address
      name
      legalBasis
      legalBasisChangedAt
      legalBasisChangedBy
      lastSalesEmailOpenedAt
      lastSalesEmailClickedAt
      lastClickedAt
      ...TrackingConsentFields
      legalBasisHistory {
        id
        at
        actor
        before
        after
      }
    }
  }
`);

const SetLegalBasis = graphql(`
  mutation SetContactLegalBasis($contactId: ID!, $basis: LegalBasis!) {
    setContactLegalBasis(contactId: $contactId, basis: $basis) {
      id
      legalBasis
      legalBasisChangedAt
      legalBasisChangedBy
    }
  }
`);

const EraseContact = graphql(`
  mutation EraseContact($contactId: ID!) {
    eraseContact(contactId: $contactId) {
      contactId
      erasedAt
      engagements
      loggedEmails
      attachments
    }
  }
`);

const ContactExportQuery = graphql(`
  query ContactExport($id: ID!) {
    contactExport(id: $id)
  }
`);

function isLegalBasis(value: string): value is LegalBasis {
  return value in LEGAL_BASES;
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="sm" c="dimmed" component="dt">
        {label}
      </Text>
      <Text component="dd" m={0}>
        {value}
      </Text>
    </div>
  );
}

function LegalBasisCard({ contactId, current, changedAt, changedBy, history }: {
  contactId: string;
  current: LegalBasis;
  changedAt: string | null | undefined;
  changedBy: string | null | undefined;
  history: { id: string; at: string; actor: string; before: LegalBasis; after: LegalBasis }[];
}) {
  const { t } = useTranslation("contacts");
  const [basis, setBasis] = useState<LegalBasis>(current);
  const [saving, save] = useMutation(SetLegalBasis);
  const [saveError, setSaveError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaveError(null);
    const result = await save({ contactId, basis }, { additionalTypenames: ["LegalBasisChange"] });
    if (result.error || !result.data) {
      setSaveError(result.error ? describeError(result.error) : t("noAnswer"));
      return;
    }
    const now = LEGAL_BASES[result.data.setContactLegalBasis.legalBasis];
    notifications.show({ color: "green", title: t("legalBasis.saved"), message: t("legalBasis.savedText", { basis: now }) });
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="legal-basis">
      <Stack gap="sm">
        <Title order={2} size="h4" id="legal-basis">
          {t("legalBasis.title")}
        </Title>
        <Text size="sm">
          <strong>{LEGAL_BASES[current]}</strong>
          {changedAt
            ? changedBy
              ? t("legalBasis.setBy", { when: when(changedAt), who: changedBy })
              : t("legalBasis.set", { when: when(changedAt) })
            : t("legalBasis.neverSet")}
        </Text>
        <Text size="sm" c="dimmed">
          {t("legalBasis.privacy")}
        </Text>
        <form onSubmit={submit} aria-label={t("legalBasis.form")}>
          <Group gap="sm" align="flex-end" wrap="wrap">
            <NativeSelect
              label={t("legalBasis.new")}
              data={Object.entries(LEGAL_BASES).map(([value, label]) => ({ value, label }))}
              value={basis}
              onChange={(event) => {
                const value = event.currentTarget.value;
                if (isLegalBasis(value)) setBasis(value);
              }}
              disabled={saving.fetching}
            />
            <Button type="submit" loading={saving.fetching} disabled={basis === current}>
              {t("legalBasis.save")}
            </Button>
          </Group>
        </form>
        {saveError && (
          <Alert color="red" title={t("legalBasis.saveFailed")} role="alert">
            {saveError}
          </Alert>
        )}
        <div>
          <Text size="sm" fw={600} id="legal-basis-history">
            {t("legalBasis.history")}
          </Text>
          {history.length === 0 ? (
            <Text size="sm" c="dimmed">
              {t("legalBasis.noHistory")}
            </Text>
          ) : (
            <List size="sm" aria-labelledby="legal-basis-history">
              {history.map((change) => (
                <List.Item key={change.id}>
                  {t("legalBasis.change", {
                    when: when(change.at),
                    before: LEGAL_BASES[change.before],
                    after: LEGAL_BASES[change.after],
                    who: change.actor,
                  })}
                </List.Item>
              ))}
            </List>
          )}
        </div>
      </Stack>
    </Card>
  );
}

function EraseButton({ contactId, address }: { contactId: string; address: string }) {
  const { t } = useTranslation("contacts");
  const [opened, setOpened] = useState(false);
  const [typed, setTyped] = useState("");
  const [erasing, erase] = useMutation(EraseContact);
  const [eraseError, setEraseError] = useState<string | null>(null);
  const navigate = useNavigate();
  const matches = typed.trim().toLowerCase() === address.toLowerCase();

  function close() {
    if (erasing.fetching) return;
    setOpened(false);
    setTyped("");
    setEraseError(null);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!matches) return;
    setEraseError(null);
    const result = await erase({ contactId });
    if (result.error || !result.data) {
      setEraseError(result.error ? describeError(result.error) : t("noAnswer"));
      return;
    }
    const receipt = result.data.eraseContact;
    const state: ErasedState = {
      erased: {
        address,
        erasedAt: receipt.erasedAt,
        engagements: receipt.engagements,
        loggedEmails: receipt.loggedEmails,
        attachments: receipt.attachments,
      },
    };
    navigate("/contacts", { state });
  }

  return (
    <>
      <Button color="red" variant="outline" onClick={() => setOpened(true)}>
        {t("erase.button")}
      </Button>
      <Modal opened={opened} onClose={close} title={t("erase.title")} centered>
        <form onSubmit={submit}>
          <Stack gap="sm">
            <Text size="sm">{t("erase.text", { address })}</Text>
            <TextInput
              label={t("erase.confirm")}
              value={typed}
              onChange={(event) => setTyped(event.currentTarget.value)}
              autoComplete="off"
              data-autofocus
            />
            {eraseError && (
              <Alert color="red" title={t("erase.failed")} role="alert">
                {eraseError}
              </Alert>
            )}
            <Group justify="flex-end" gap="sm">
              <Button variant="default" onClick={close} disabled={erasing.fetching}>
                {t("erase.cancel")}
              </Button>
              <Button type="submit" color="red" disabled={!matches} loading={erasing.fetching}>
                {t("erase.submit")}
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}

function ExportButton({ contactId, address }: { contactId: string; address: string }) {
  const { t } = useTranslation("contacts");
  const client = useClient();
  const [busy, setBusy] = useState(false);

  async function download() {
    setBusy(true);
    try {
      const result = await client.query(ContactExportQuery, { id: contactId }, { requestPolicy: "network-only" }).toPromise();
      if (result.error || !result.data) {
        const message = result.error ? describeError(result.error) : t("noAnswer");
        notifications.show({ color: "red", title: t("export.failed"), message });
        return;
      }
      const blob = new Blob([JSON.stringify(result.data.contactExport, null, 2)], { type: "application/json" });
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `contact-${address.replace(/[^A-Za-z0-9@._-]+/g, "_")}.json`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Button variant="default" onClick={download} loading={busy}>
      {t("export.button")}
    </Button>
  );
}

export function ContactPage() {
  const { t } = useTranslation("contacts");
  const { id = "" } = useParams();
  const session = useSignedIn();
  const [composing, setComposing] = useState<ComposeDraft | null>(null);
  const [{ data, fetching, error }, refetch] = useQuery({ query: ContactQuery, variables: { id } });
  // Erased, another account's, or a mistyped address: nothing to retry.
  const missing = !data && hasErrorCode(error, "NOT_FOUND");
  usePageTitle(data ? data.contact.address : missing ? t("contact.missing") : t("contact.title"));

  let body;
  if (fetching && !data) {
    body = <Loading label={t("contact.loading")} />;
  } else if (missing) {
    body = (
      <Stack gap="xs">
        <Title order={1} size="h2">
          {t("contact.missing")}
        </Title>
        <Text>
          <Trans t={t} i18nKey="contact.missingText" components={{ find: <Anchor component={Link} to="/contacts" /> }} />
        </Text>
      </Stack>
    );
  } else if (error || !data) {
    body = (
      <Failed
        title={t("contact.loadFailed")}
        message={error ? describeError(error) : t("noAnswerLoad")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else {
    const contact = data.contact;
    const history = contact.legalBasisHistory;
    body = (
      <Stack gap="lg">
        <Stack gap={4}>
          <Title order={1} size="h2" style={{ overflowWrap: "anywhere" }}>
            {contact.address}
          </Title>
          <Text c="dimmed">{contact.name ?? t("contact.noName")}</Text>
        </Stack>
        <Group gap="sm">
          {!session.isStaff && <Button onClick={() => setComposing({ to: [contact.address] })}>{t("contact.email")}</Button>}
          <ExportButton contactId={contact.id} address={contact.address} />
          <EraseButton contactId={contact.id} address={contact.address} />
        </Group>
        <Card withBorder padding="md" component="section" aria-labelledby="activity-dates">
          <Title order={2} size="h4" id="activity-dates" mb="sm">
            {t("contact.activity")}
          </Title>
          <SimpleGrid cols={{ base: 1, xs: 3 }} component="dl" m={0}>
            <Fact label={t("contact.lastSalesOpened")} value={when(contact.lastSalesEmailOpenedAt)} />
            <Fact label={t("contact.lastSalesClicked")} value={when(contact.lastSalesEmailClickedAt)} />
            <Fact label={t("contact.lastClicked")} value={when(contact.lastClickedAt)} />
          </SimpleGrid>
        </Card>
        <LegalBasisCard
          key={contact.legalBasis}
          contactId={contact.id}
          current={contact.legalBasis}
          changedAt={contact.legalBasisChangedAt}
          changedBy={contact.legalBasisChangedBy}
          history={history}
        />
        {/* Users and admins record it, as they set the legal basis; support staff only read. */}
        <TrackingConsentCard contact={contact} canRecord={!session.isStaff && session.role !== null} />
        <section aria-labelledby="timeline">
          <Title order={2} size="h3" id="timeline" mb="sm">
            {t("contact.timeline")}
          </Title>
          <Timeline contactId={contact.id} />
        </section>
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Anchor component={Link} to="/contacts" size="sm">
        {t("contact.back")}
      </Anchor>
      {body}
      <Compose draft={composing} onClose={() => setComposing(null)} />
    </Stack>
  );
}
