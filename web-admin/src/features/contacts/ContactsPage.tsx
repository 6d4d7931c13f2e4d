import { Alert, Anchor, Button, Card, Group, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { type FormEvent, useState } from "react";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import { Empty, Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { LEGAL_BASES } from "./labels";
import { Pager, useCursorPages, when } from "./paging";

const PAGE_SIZE = 25;

const ContactsQuery = graphql(`
  query Contacts($first: Int!, $after: String, $search: String) {
    contacts(first: $first, after: $after, search: $search) {
      edges {
        node {
          id
          address
          name
          legalBasis
          lastSalesEmailOpenedAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export interface ErasedState {
  erased: { address: string; erasedAt: string; engagements: number; loggedEmails: number; attachments: number };
}

function isErasedState(value: unknown): value is ErasedState {
  return typeof value === "object" && value !== null && "erased" in value;
}

export function ContactsPage() {
  usePageTitle("Contacts");
  const [params, setParams] = useSearchParams();
  const search = params.get("q") ?? "";
  const [draft, setDraft] = useState(search);
  const pages = useCursorPages();
  const location = useLocation();
  const navigate = useNavigate();
  const erased = isErasedState(location.state) ? location.state.erased : null;

  const [{ data, fetching, error }, refetch] = useQuery({
    query: ContactsQuery,
    variables: { first: PAGE_SIZE, after: pages.after, search: search || null },
    requestPolicy: "cache-and-network",
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    pages.reset();
    const q = draft.trim();
    setParams(q ? { q } : {});
  }

  let body;
  if (fetching && !data) {
    body = <Loading label="Loading contacts…" />;
  } else if (error || !data) {
    body = (
      <Failed
        title="Couldn't load the contacts"
        message={error ? describeError(error) : "No answer from the server."}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else if (data.contacts.edges.length === 0) {
    body = search ? (
      <Empty title="No matching contacts">No contact's address or name contains “{search}”.</Empty>
    ) : (
      <Empty title="No contacts yet">Contacts are created when an email to or from a new address is logged.</Empty>
    );
  } else {
    const { edges, pageInfo } = data.contacts;
    body = (
      <Stack gap="sm">
        <Table.ScrollContainer minWidth={560} visibleFrom="sm">
          <Table striped highlightOnHover aria-label="Contacts">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Address</Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th>Legal basis</Table.Th>
                <Table.Th>Last opened</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {edges.map(({ node }) => (
                <Table.Tr key={node.id}>
                  <Table.Td style={{ overflowWrap: "anywhere" }} data-key-column>
                    <Anchor component={Link} to={`/contacts/${encodeURIComponent(node.id)}`}>
                      {node.address}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{node.name ?? "—"}</Table.Td>
                  <Table.Td>{LEGAL_BASES[node.legalBasis]}</Table.Td>
                  <Table.Td data-key-column>{when(node.lastSalesEmailOpenedAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {/* A card per contact on a phone: the address and its last open stay on screen (issue 15, item 9). */}
        <Stack component="ul" gap="xs" p={0} m={0} hiddenFrom="sm" style={{ listStyle: "none" }} aria-label="Contacts">
          {edges.map(({ node }) => (
            <Card component="li" key={node.id} withBorder padding="sm">
              <Anchor component={Link} to={`/contacts/${encodeURIComponent(node.id)}`} fw={500} style={{ overflowWrap: "anywhere" }} data-key-column>
                {node.address}
              </Anchor>
              {node.name && <Text size="sm">{node.name}</Text>}
              <Text size="sm" data-key-column>
                Last opened: {when(node.lastSalesEmailOpenedAt)}
              </Text>
              <Text size="xs" c="dimmed">
                Legal basis: {LEGAL_BASES[node.legalBasis]}
              </Text>
            </Card>
          ))}
        </Stack>
        <Pager pages={pages} hasNextPage={pageInfo.hasNextPage} endCursor={pageInfo.endCursor} label="Contact pages" />
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        Contacts
      </Title>
      <Text c="dimmed">Everyone your account has logged email with, and what is held about them.</Text>
      {erased && (
        <Alert
          color="green"
          title={`${erased.address} was erased`}
          role="status"
          withCloseButton
          closeButtonLabel="Dismiss"
          onClose={() => navigate(location.pathname + location.search, { replace: true, state: null })}
        >
          Erased {when(erased.erasedAt)}: {erased.engagements} engagement(s), {erased.loggedEmails} logged email(s) and{" "}
          {erased.attachments} attachment(s) removed. A keyed hash of the address is kept so that opens and clicks of emails sent to them are no longer recorded.
        </Alert>
      )}
      <form onSubmit={submit} role="search" aria-label="Contact search">
        <Group gap="sm" align="flex-end" wrap="nowrap">
          <TextInput
            label="Search contacts"
            description="Matches address or name"
            value={draft}
            onChange={(event) => setDraft(event.currentTarget.value)}
            style={{ flex: 1, minWidth: 0 }}
            type="search"
          />
          <Button type="submit" variant="default">
            Search
          </Button>
        </Group>
      </form>
      {body}
    </Stack>
  );
}
