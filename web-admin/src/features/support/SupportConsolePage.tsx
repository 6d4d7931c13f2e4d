// The support console (R25): support staff find an account, then read its settings, emails
// and diagnoses, opens and clicks, tracking domains, webhooks and users, read-only (tabs,
// the open one kept in ?tab= so that an email's page leads back to it). Every read carries
// the X-Sendtrail-Account header (SupportFrame) and lands in that account's audit log, which
// the page says up front.
import { Anchor, Button, Group, Stack, Table, Tabs, Text, TextInput, Title } from "@mantine/core";
import { type FormEvent, Fragment, Suspense, lazy, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import { supportPath, useAccountScope } from "../../shell/AccountScope";
import { Empty, Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { usePhoneLayout } from "../../shell/usePhoneLayout";
import { useSignedIn } from "../session/SessionProvider";
import { formatDateTime } from "../tenancy/labels";
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
  usePageTitle("Support console");
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
    results = <Loading label="Finding accounts…" />;
  } else if (error || !data) {
    results = (
      <Failed
        title="Couldn't find accounts"
        message={error ? describeError(error) : "No answer from the server."}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else if (data.supportAccounts.length === 0) {
    results = <Empty title="No matching account">Try part of the account's name or its slug.</Empty>;
  } else {
    results = (
      <Table.ScrollContainer minWidth={300}>
        <Table striped aria-label="Accounts found">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Account</Table.Th>
              <Table.Th>Slug</Table.Th>
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
        Support console
      </Title>
      {!session.isStaff ? (
        <StaffOnly />
      ) : (
        <>
          <Text c="dimmed">Find the account you are helping; everything you open there is read-only and recorded in its audit log.</Text>
          <form onSubmit={submit} aria-label="Find an account">
            <Group align="flex-end">
              <TextInput
                label="Account name or slug"
                description="Leave empty to list every account."
                value={draft}
                onChange={(e) => setDraft(e.currentTarget.value)}
                style={{ flex: "1 1 240px" }}
              />
              <Button type="submit" loading={fetching}>
                Find
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
  const [{ data, fetching, error }] = useQuery({ query: Diagnose, variables: { id: emailId } });
  if (fetching && !data) return <Loading label="Diagnosing…" />;
  if (error || !data) return <Failed title="Couldn't diagnose this email" message={error ? describeError(error) : "No answer from the server."} />;
  return data.diagnoseEmail.findings.length === 0 ? (
    <Text size="sm">Nothing stands in the way of tracking this email.</Text>
  ) : (
    <Stack component="ul" gap={4} pl="md" my={0} aria-label="Findings">
      {data.diagnoseEmail.findings.map((finding) => (
        <Text component="li" size="sm" key={finding}>
          {finding}
        </Text>
      ))}
    </Stack>
  );
}

function Emails() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: AccountEmails, variables: { first: 50 } });
  const [open, setOpen] = useState<string | null>(null);
  const { emailPath } = useAccountScope();
  const phone = usePhoneLayout();
  if (fetching && !data) return <Loading label="Loading emails…" />;
  if (error || !data) {
    return (
      <Failed title="Couldn't load the emails" message={error ? describeError(error) : "No answer from the server."} onRetry={() => refetch({ requestPolicy: "network-only" })} />
    );
  }
  const emails = data.emails.edges.map((edge) => edge.node);
  if (emails.length === 0) return <Empty title="No emails">This account has not tracked or logged any email yet.</Empty>;
  return (
    // On a phone only the subject and the diagnosis keep a column; the rest joins the
    // subject's line, so that the Diagnose button stays on screen (issue 15, item 9).
    <Table.ScrollContainer minWidth={phone ? 0 : 480}>
      <Table aria-label="Emails of this account" verticalSpacing="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Subject</Table.Th>
            <Table.Th visibleFrom="sm">Sent</Table.Th>
            <Table.Th visibleFrom="sm">Tracked</Table.Th>
            <Table.Th visibleFrom="sm">Logged</Table.Th>
            <Table.Th>Diagnosis</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {emails.map((email) => (
            <Fragment key={email.id}>
              <Table.Tr>
                <Table.Td data-key-column>
                  <Anchor component={Link} to={emailPath(email.id)} style={{ overflowWrap: "anywhere" }}>
                    {email.subject || "(no subject)"}
                  </Anchor>
                  <Text size="xs" c="dimmed">
                    {email.kind === "MARKETING" ? "Marketing" : "Sales"}
                    {phone && ` · ${formatDateTime(email.sentAt)} · ${email.tracked ? "tracked" : "not tracked"} · ${email.logged ? "logged" : "not logged"}`}
                  </Text>
                </Table.Td>
                <Table.Td visibleFrom="sm">{formatDateTime(email.sentAt)}</Table.Td>
                <Table.Td visibleFrom="sm">{email.tracked ? "Yes" : "No"}</Table.Td>
                <Table.Td visibleFrom="sm">{email.logged ? "Yes" : "No"}</Table.Td>
                <Table.Td data-key-column>
                  <Button
                    size="xs"
                    variant="light"
                    onClick={() => setOpen(open === email.id ? null : email.id)}
                    aria-expanded={open === email.id}
                    aria-label={`Diagnose ${email.subject}`}
                  >
                    {open === email.id ? "Hide" : "Diagnose"}
                  </Button>
                </Table.Td>
              </Table.Tr>
              {open === email.id && (
                <Table.Tr>
                  <Table.Td colSpan={5} bg="var(--mantine-color-gray-0)">
                    <Text size="sm" fw={600} mb={4}>
                      Why opens and clicks were or were not recorded
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
  const [{ data, fetching, error }, refetch] = useQuery({ query: InspectedAccount });
  const [params, setParams] = useSearchParams();
  const wanted = params.get("tab");
  const tab = TABS.find((name) => name === wanted) ?? "settings";
  if (fetching && !data) return <Loading label="Opening the account…" />;
  if (error || !data) {
    return (
      <Failed title="Couldn't open this account" message={error ? describeError(error) : "No answer from the server."} onRetry={() => refetch({ requestPolicy: "network-only" })} />
    );
  }
  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        {data.account.name}
      </Title>
      <Text c="dimmed" size="sm">
        {data.account.slug} · region {data.account.region} · read-only
      </Text>
      <Tabs value={tab} onChange={(next) => setParams(next ? { tab: next } : {}, { replace: true })} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="settings">Settings</Tabs.Tab>
          <Tabs.Tab value="emails">Emails &amp; diagnoses</Tabs.Tab>
          <Tabs.Tab value="activity">Opens &amp; clicks</Tabs.Tab>
          <Tabs.Tab value="domains">Domains</Tabs.Tab>
          <Tabs.Tab value="webhooks">Webhooks</Tabs.Tab>
          <Tabs.Tab value="users">Users</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="settings" pt="md">
          <TrackingSettingsPage embedded />
        </Tabs.Panel>
        <Tabs.Panel value="emails" pt="md">
          <Emails />
        </Tabs.Panel>
        <Tabs.Panel value="activity" pt="md">
          <Suspense fallback={<Loading label="Loading the report…" />}>
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
  usePageTitle("Support console");
  return (
    <Stack gap="md">
      <Anchor component={Link} to="/support" size="sm">
        ← Find another account
      </Anchor>
      <SupportAccountFrame>
        <Inspection />
      </SupportAccountFrame>
    </Stack>
  );
}
