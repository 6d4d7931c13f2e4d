import { Alert, Anchor, Button, Card, Group, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
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
  const { t } = useTranslation("contacts");
  usePageTitle(t("title"));
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
    body = <Loading label={t("list.loading")} />;
  } else if (error || !data) {
    body = (
      <Failed
        title={t("list.loadFailed")}
        message={error ? describeError(error) : t("noAnswerLoad")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else if (data.contacts.edges.length === 0) {
    body = search ? (
      <Empty title={t("list.noMatch")}>{t("list.noMatchText", { search })}</Empty>
    ) : (
      <Empty title={t("list.none")}>{t("list.noneText")}</Empty>
    );
  } else {
    const { edges, pageInfo } = data.contacts;
    body = (
      <Stack gap="sm">
        <Table.ScrollContainer minWidth={560} visibleFrom="sm">
          <Table striped highlightOnHover aria-label={t("list.label")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("list.address")}</Table.Th>
                <Table.Th>{t("list.name")}</Table.Th>
                <Table.Th>{t("list.legalBasis")}</Table.Th>
                <Table.Th>{t("list.lastOpened")}</Table.Th>
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
        <Stack component="ul" gap="xs" p={0} m={0} hiddenFrom="sm" style={{ listStyle: "none" }} aria-label={t("list.label")}>
          {edges.map(({ node }) => (
            <Card component="li" key={node.id} withBorder padding="sm">
              <Anchor component={Link} to={`/contacts/${encodeURIComponent(node.id)}`} fw={500} style={{ overflowWrap: "anywhere" }} data-key-column>
                {node.address}
              </Anchor>
              {node.name && <Text size="sm">{node.name}</Text>}
              <Text size="sm" data-key-column>
                {t("list.lastOpenedCard", { when: when(node.lastSalesEmailOpenedAt) })}
              </Text>
              <Text size="xs" c="dimmed">
                {t("list.legalBasisCard", { basis: LEGAL_BASES[node.legalBasis] })}
              </Text>
            </Card>
          ))}
        </Stack>
        <Pager pages={pages} hasNextPage={pageInfo.hasNextPage} endCursor={pageInfo.endCursor} label={t("list.pages")} />
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        {t("title")}
      </Title>
      <Text c="dimmed">{t("intro")}</Text>
      {erased && (
        <Alert
          color="green"
          title={t("list.erasedTitle", { address: erased.address })}
          role="status"
          withCloseButton
          closeButtonLabel={t("list.dismiss")}
          onClose={() => navigate(location.pathname + location.search, { replace: true, state: null })}
        >
          {t("list.erasedText", {
            when: when(erased.erasedAt),
            engagements: erased.engagements,
            loggedEmails: erased.loggedEmails,
            attachments: erased.attachments,
          })}
        </Alert>
      )}
      <form onSubmit={submit} role="search" aria-label={t("list.searchForm")}>
        <Group gap="sm" align="flex-end" wrap="nowrap">
          <TextInput
            label={t("list.search")}
            description={t("list.searchHint")}
            value={draft}
            onChange={(event) => setDraft(event.currentTarget.value)}
            style={{ flex: 1, minWidth: 0 }}
            type="search"
          />
          <Button type="submit" variant="default">
            {t("list.searchButton")}
          </Button>
        </Group>
      </form>
      {body}
    </Stack>
  );
}
