import { Alert, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import { Empty, Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { useSignedIn } from "../session/SessionProvider";
import { Pager, useCursorPages, when } from "../contacts/paging";

const PAGE_SIZE = 25;

const AuditLogQuery = graphql(`
  query AuditLog($first: Int!, $after: String) {
    auditLog(first: $first, after: $after) {
      edges {
        node {
          id
          at
          actor
          action
          target
          before
          after
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

function show(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** A JSON snapshot as "key: value" lines (nested values stay JSON). */
function Values({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <Text c="dimmed">—</Text>;
  if (typeof value !== "object" || Array.isArray(value)) return <Text size="sm">{show(value)}</Text>;
  const entries = Object.entries(value);
  if (entries.length === 0) return <Text c="dimmed">—</Text>;
  return (
    <Stack component="dl" gap={2} m={0}>
      {entries.map(([key, item]) => (
        <Text key={key} component="div" size="sm" style={{ overflowWrap: "anywhere" }}>
          <Text component="dt" fw={600} size="sm" display="inline">
            {key}:
          </Text>{" "}
          <Text component="dd" size="sm" display="inline" m={0}>
            {show(item)}
          </Text>
        </Text>
      ))}
    </Stack>
  );
}

export function AuditLogPage() {
  usePageTitle("Audit log");
  const session = useSignedIn();
  const allowed = session.role === "ADMIN" || session.isStaff;
  const pages = useCursorPages();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: AuditLogQuery,
    variables: { first: PAGE_SIZE, after: pages.after },
    requestPolicy: "cache-and-network",
    pause: !allowed,
  });

  let body;
  if (!allowed) {
    body = (
      <Alert color="blue" title="Admins only">
        Only admins of the account can read its audit log.
      </Alert>
    );
  } else if (fetching && !data) {
    body = <Loading label="Loading the audit log…" />;
  } else if (error || !data) {
    body = (
      <Failed
        title="Couldn't load the audit log"
        message={error ? describeError(error) : "No answer from the server."}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else if (data.auditLog.edges.length === 0) {
    body = <Empty title="Nothing audited yet">Admin changes and support reads are listed here as they happen.</Empty>;
  } else {
    const { edges, pageInfo } = data.auditLog;
    body = (
      <Stack gap="sm">
        <Table.ScrollContainer minWidth={760}>
          <Table striped verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>Who</Table.Th>
                <Table.Th>Action</Table.Th>
                <Table.Th>Target</Table.Th>
                <Table.Th>Before</Table.Th>
                <Table.Th>After</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {edges.map(({ node }) => (
                <Table.Tr key={node.id}>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>{when(node.at)}</Table.Td>
                  <Table.Td style={{ overflowWrap: "anywhere" }}>{node.actor}</Table.Td>
                  <Table.Td>
                    <code>{node.action}</code>
                  </Table.Td>
                  <Table.Td style={{ overflowWrap: "anywhere" }}>{node.target ?? "—"}</Table.Td>
                  <Table.Td>
                    <Values value={node.before} />
                  </Table.Td>
                  <Table.Td>
                    <Values value={node.after} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Pager pages={pages} hasNextPage={pageInfo.hasNextPage} endCursor={pageInfo.endCursor} label="Audit log pages" />
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        Audit log
      </Title>
      <Text c="dimmed">Admin changes and support reads in this account, newest first.</Text>
      {body}
    </Stack>
  );
}
