// The support console (R25): support staff find an account, then read its settings, emails
// and diagnoses, opens and clicks, tracking domains, webhooks and users, read-only (tabs,
// the open one kept in ?tab= so that an email's page leads back to it). Every read carries
// the X-Sendtrail-Account header (SupportFrame) and lands in that account's audit log, which
// the page says up front.
import { Anchor, Button, Group, Stack, Table, Tabs, Text, TextInput, Title } from "@mantine/core";
import { type FormEvent, Fragment, Suspense, lazy, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import { formatDateTime } from "../../i18n/format";
import { supportPath, useAccountScope } from "../../shell/AccountScope";
import { Empty, Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { usePhoneLayout } from "../../shell/usePhoneLayout";
import { useSignedIn } from "../session/SessionProvider";
import { TrackingSettingsPage } from "../tracking/TrackingSettingsPage";
import { StaffOnly, SupportAccountFrame } from "./SupportFrame";
import { SupportDomains } from "./SupportDomains";
import { SupportUsers } from "./SupportUsers";
import { SupportWebhooks } from "./SupportWebhooks";

// The chart library loads only when the tab is opened.
const EngagementReportView = lazy(() =>
  import("../overview/EngagementReportView").then((module) => ({ default: module.EngagementReportView })),
);

const FindAccounts = graphql(`
  query SupportAccounts($search: String) {
    supportAccounts(search: $search) {
      id
      name
      slug
    }
  }
`);

const InspectedAccount = graphql(`
  query SupportInspectedAccount {
    account {
      id
      name
      slug
      region
    }
  }
`);

const AccountEmails = graphql(`
  query SupportEmails($first: Int!) {
    emails(first: $first) {
      edges {
        node {
          id
          subject
          kind
          sentAt
          tracked
          logged
        }
      }
    }
  }
`);

const Diagnose = graphql(`
  query SupportDiagnoseEmail($id: ID!) {
    diagnoseEmail(id: $id) {
      emailId
      findings
    }
  }
`);

export function SupportAccountsPage() {
  const { t } = useTranslation("support");
  usePageTitle(t("title"));
  const session = useSignedIn();
  const [draft, setDraft] = useState("");
  const [search, setSearch] = useState<string | null>(null);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: FindAccounts,
    variables: { search },
    pause: search === null || !session.isStaff,
    requestPolicy: "network-only",
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSearch(draft.trim());
  }

  let results = null;
  if (search === null) {
    results = null;
  } else if (fetching && !data) {
    results = <Loading label={t("find.finding")} />;
  } else if (error || !data) {
    results = (
      <Failed
        title={t("find.failed")}
        message={error ? describeError(error) : t("noAnswer")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else if (data.supportAccounts.length === 0) {
    results = <Empty title={t("find.none")}>{t("find.noneText")}</Empty>;
  } else {
    results = (
      <Table.ScrollContainer minWidth={300}>
        <Table striped aria-label={t("find.table")}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("find.account")}</Table.Th>
              <Table.Th>{t("find.slug")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.supportAccounts.map((account) => (
              <Table.Tr key={account.id}>
                <Table.Td data-key-column>
                  <Anchor component={Link} to={supportPath(account.id)}>
                    {account.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>{account.slug}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    );
  }

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        {t("title")}
      </Title>
      {!session.isStaff ? (
        <StaffOnly />
      ) : (
        <>
          <Text c="dimmed">{t("find.intro")}</Text>
          <form onSubmit={submit} aria-label={t("find.formLabel")}>
            <Group align="flex-end">
              <TextInput
                label={t("find.label")}
                description={t("find.help")}
                value={draft}
                onChange={(e) => setDraft(e.currentTarget.value)}
                style={{ flex: "1 1 240px" }}
              />
              <Button type="submit" loading={fetching}>
                {t("find.submit")}
              </Button>
            </Group>
          </form>
          {results}
        </>
      )}
    </Stack>
  );
}

function Diagnosis({ emailId }: { emailId: string }) {
  const { t } = useTranslation("support");
  const [{ data, fetching, error }] = useQuery({ query: Diagnose, variables: { id: emailId } });
  if (fetching && !data) return <Loading label={t("diagnosis.diagnosing")} />;
  if (error || !data) return <Failed title={t("diagnosis.failed")} message={error ? describeError(error) : t("noAnswer")} />;
  return data.diagnoseEmail.findings.length === 0 ? (
    <Text size="sm">{t("diagnosis.clear")}</Text>
  ) : (
    <Stack component="ul" gap={4} pl="md" my={0} aria-label={t("diagnosis.findings")}>
      {data.diagnoseEmail.findings.map((finding) => (
        <Text component="li" size="sm" key={finding}>
          {finding}
        </Text>
      ))}
    </Stack>
  );
}

function Emails() {
  const { t } = useTranslation("support");
  const [{ data, fetching, error }, refetch] = useQuery({ query: AccountEmails, variables: { first: 50 } });
  const [open, setOpen] = useState<string | null>(null);
  const { emailPath } = useAccountScope();
  const phone = usePhoneLayout();
  if (fetching && !data) return <Loading label={t("emails.loading")} />;
  if (error || !data) {
    return (
      <Failed title={t("emails.failed")} message={error ? describeError(error) : t("noAnswer")} onRetry={() => refetch({ requestPolicy: "network-only" })} />
    );
  }
  const emails = data.emails.edges.map((edge) => edge.node);
  if (emails.length === 0) return <Empty title={t("emails.none")}>{t("emails.noneText")}</Empty>;
  return (
    // On a phone only the subject and the diagnosis keep a column; the rest joins the
    // subject's line, so that the Diagnose button stays on screen (issue 15, item 9).
    <Table.ScrollContainer minWidth={phone ? 0 : 480}>
      <Table aria-label={t("emails.table")} verticalSpacing="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("emails.subject")}</Table.Th>
            <Table.Th visibleFrom="sm">{t("emails.sent")}</Table.Th>
            <Table.Th visibleFrom="sm">{t("emails.tracked")}</Table.Th>
            <Table.Th visibleFrom="sm">{t("emails.logged")}</Table.Th>
            <Table.Th>{t("emails.diagnosis")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {emails.map((email) => (
            <Fragment key={email.id}>
              <Table.Tr>
                <Table.Td data-key-column>
                  <Anchor component={Link} to={emailPath(email.id)} style={{ overflowWrap: "anywhere" }}>
                    {email.subject || t("emails.noSubject")}
                  </Anchor>
                  <Text size="xs" c="dimmed">
                    {t(email.kind === "MARKETING" ? "emails.kinds.MARKETING" : "emails.kinds.SALES")}
                    {phone &&
                      t("emails.phoneLine", {
                        sent: formatDateTime(email.sentAt),
                        tracked: email.tracked ? t("emails.isTracked") : t("emails.notTracked"),
                        logged: email.logged ? t("emails.isLogged") : t("emails.notLogged"),
                      })}
                  </Text>
                </Table.Td>
                <Table.Td visibleFrom="sm">{formatDateTime(email.sentAt)}</Table.Td>
                <Table.Td visibleFrom="sm">{email.tracked ? t("emails.yes") : t("emails.no")}</Table.Td>
                <Table.Td visibleFrom="sm">{email.logged ? t("emails.yes") : t("emails.no")}</Table.Td>
                <Table.Td data-key-column>
                  <Button
                    size="xs"
                    variant="light"
                    onClick={() => setOpen(open === email.id ? null : email.id)}
                    aria-expanded={open === email.id}
                    aria-label={t("emails.diagnoseLabel", { subject: email.subject })}
                  >
                    {open === email.id ? t("emails.hide") : t("emails.diagnose")}
                  </Button>
                </Table.Td>
              </Table.Tr>
              {open === email.id && (
                <Table.Tr>
                  <Table.Td colSpan={5} bg="var(--mantine-color-gray-0)">
                    <Text size="sm" fw={600} mb={4}>
                      {t("emails.why")}
                    </Text>
                    <Diagnosis emailId={email.id} />
                  </Table.Td>
                </Table.Tr>
              )}
            </Fragment>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

const TABS = ["settings", "emails", "activity", "domains", "webhooks", "users"] as const;

function Inspection() {
  const { t } = useTranslation("support");
  const [{ data, fetching, error }, refetch] = useQuery({ query: InspectedAccount });
  const [params, setParams] = useSearchParams();
  const wanted = params.get("tab");
  const tab = TABS.find((name) => name === wanted) ?? "settings";
  if (fetching && !data) return <Loading label={t("account.opening")} />;
  if (error || !data) {
    return (
      <Failed title={t("account.openFailed")} message={error ? describeError(error) : t("noAnswer")} onRetry={() => refetch({ requestPolicy: "network-only" })} />
    );
  }
  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        {data.account.name}
      </Title>
      <Text c="dimmed" size="sm">
        {t("account.facts", { slug: data.account.slug, region: data.account.region })}
      </Text>
      <Tabs value={tab} onChange={(next) => setParams(next ? { tab: next } : {}, { replace: true })} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="settings">{t("account.tabs.settings")}</Tabs.Tab>
          <Tabs.Tab value="emails">{t("account.tabs.emails")}</Tabs.Tab>
          <Tabs.Tab value="activity">{t("account.tabs.activity")}</Tabs.Tab>
          <Tabs.Tab value="domains">{t("account.tabs.domains")}</Tabs.Tab>
          <Tabs.Tab value="webhooks">{t("account.tabs.webhooks")}</Tabs.Tab>
          <Tabs.Tab value="users">{t("account.tabs.users")}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="settings" pt="md">
          <TrackingSettingsPage embedded />
        </Tabs.Panel>
        <Tabs.Panel value="emails" pt="md">
          <Emails />
        </Tabs.Panel>
        <Tabs.Panel value="activity" pt="md">
          <Suspense fallback={<Loading label={t("account.loadingReport")} />}>
            <EngagementReportView accountName={data.account.name} chooseScope={false} scope="ACCOUNT" />
          </Suspense>
        </Tabs.Panel>
        <Tabs.Panel value="domains" pt="md">
          <SupportDomains />
        </Tabs.Panel>
        <Tabs.Panel value="webhooks" pt="md">
          <SupportWebhooks />
        </Tabs.Panel>
        <Tabs.Panel value="users" pt="md">
          <SupportUsers />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

export function SupportAccountPage() {
  const { t } = useTranslation("support");
  usePageTitle(t("title"));
  return (
    <Stack gap="md">
      <Anchor component={Link} to="/support" size="sm">
        {t("account.back")}
      </Anchor>
      <SupportAccountFrame>
        <Inspection />
      </SupportAccountFrame>
    </Stack>
  );
}
