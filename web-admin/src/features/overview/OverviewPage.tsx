import { Card, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import { Empty, Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";

const RECENT = 20;

const OverviewQuery = graphql(`
  query Overview($first: Int!) {
    viewer {
      id
      name
      email
      role
      seat
    }
    account {
      id
      name
      loggingAddress
    }
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
      pageInfo {
        hasNextPage
      }
    }
  }
`);

const SEATS: Record<string, string> = {
  FREE: "Free",
  SALES_STARTER: "Sales Starter",
  SALES_PROFESSIONAL: "Sales Professional",
  SALES_ENTERPRISE: "Sales Enterprise",
};

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <Card withBorder padding="md">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fz={28} fw={700}>
        {value}
      </Text>
    </Card>
  );
}

export function OverviewPage() {
  usePageTitle("Overview");
  const [{ data, fetching, error }, refetch] = useQuery({
    query: OverviewQuery,
    variables: { first: RECENT },
  });

  let body;
  if (fetching && !data) {
    body = <Loading label="Loading your overview…" />;
  } else if (error || !data) {
    body = (
      <Failed
        title="Couldn't load the overview"
        message={error ? describeError(error) : "No answer from the server."}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else {
    const emails = data.emails.edges.map((edge) => edge.node);
    const more = data.emails.pageInfo.hasNextPage ? "+" : "";
    const { viewer, account } = data;
    body = (
      <Stack gap="lg">
        <Card withBorder padding="md">
          <Stack gap={4}>
            <Text fw={600}>{viewer.name ?? viewer.email}</Text>
            <Text size="sm">
              {[viewer.name ? viewer.email : null, viewer.role === "ADMIN" ? "Admin" : "User", `${SEATS[viewer.seat] ?? viewer.seat} seat`]
                .filter(Boolean)
                .join(" · ")}
            </Text>
            <Text size="sm">
              Account: <strong>{account.name}</strong>
            </Text>
            <Text size="sm" c="dimmed" style={{ overflowWrap: "anywhere" }}>
              BCC or forward mail to {account.loggingAddress} to log it.
            </Text>
          </Stack>
        </Card>
        <section aria-labelledby="recent-emails">
          <Title order={2} size="h3" id="recent-emails" mb="sm">
            Recent emails
          </Title>
          <SimpleGrid cols={{ base: 1, xs: 3 }} mb="md">
            <Stat label={`Emails (latest ${RECENT})`} value={`${emails.length}${more}`} />
            <Stat label="Tracked" value={String(emails.filter((email) => email.tracked).length)} />
            <Stat label="Logged" value={String(emails.filter((email) => email.logged).length)} />
          </SimpleGrid>
          {emails.length === 0 ? (
            <Empty title="No emails yet">
              Emails appear here once they are prepared for tracking through the API or logged by BCC.
            </Empty>
          ) : (
            <Table.ScrollContainer minWidth={480}>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Subject</Table.Th>
                    <Table.Th>Kind</Table.Th>
                    <Table.Th>Tracked</Table.Th>
                    <Table.Th>Logged</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {emails.map((email) => (
                    <Table.Tr key={email.id}>
                      <Table.Td>{email.subject}</Table.Td>
                      <Table.Td>{email.kind === "MARKETING" ? "Marketing" : "Sales"}</Table.Td>
                      <Table.Td>{email.tracked ? "Yes" : "No"}</Table.Td>
                      <Table.Td>{email.logged ? "Yes" : "No"}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </section>
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={1} size="h2">
          Overview
        </Title>
      </Group>
      {body}
    </Stack>
  );
}
