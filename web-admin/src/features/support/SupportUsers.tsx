// An inspected account's users, read-only for support staff: who they are and what access
// they hold (role, seat, active or not) — a free seat tracks no clicks (R19), a deactivated
// user sends nothing. On a phone each user is a card led by their access.
import { Badge, Card, Group, Stack, Table, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { SupportUsersQuery } from "../../gql/graphql";
import { formatDateTime, formatNumber } from "../../i18n/format";
import { Empty, Failed, Loading } from "../../shell/States";
import { ROLE_LABELS, SEAT_LABELS } from "../tenancy/labels";

const PAGE = 100;

const UsersQuery = graphql(`
  query SupportUsers($first: Int!) {
    users(first: $first) {
      edges {
        node {
          id
          email
          name
          role
          seat
          active
          createdAt
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`);

type User = SupportUsersQuery["users"]["edges"][number]["node"];

function Access({ user }: { user: User }) {
  const { t } = useTranslation("support");
  return (
    <Group gap={4} wrap="wrap">
      <Badge variant="outline" color={user.role === "ADMIN" ? "blue" : "gray"}>
        {ROLE_LABELS[user.role]}
      </Badge>
      <Badge variant="light" color={user.seat === "FREE" ? "gray" : "teal"}>
        {SEAT_LABELS[user.seat]}
      </Badge>
      <Badge variant="light" color={user.active ? "green" : "red"}>
        {user.active ? t("users.active") : t("users.deactivated")}
      </Badge>
    </Group>
  );
}

function Who({ user }: { user: User }) {
  return (
    <Stack gap={0} style={{ minWidth: 0, overflowWrap: "anywhere" }}>
      <Text size="sm" fw={600}>
        {user.name || user.email}
      </Text>
      {user.name && (
        <Text size="xs" c="dimmed">
          {user.email}
        </Text>
      )}
    </Stack>
  );
}

export function SupportUsers() {
  const { t } = useTranslation("support");
  const [{ data, fetching, error }, refetch] = useQuery({ query: UsersQuery, variables: { first: PAGE } });
  if (fetching && !data) return <Loading label={t("users.loading")} />;
  if (error || !data) {
    return (
      <Failed title={t("users.failed")} message={error ? describeError(error) : t("noAnswer")} onRetry={() => refetch({ requestPolicy: "network-only" })} />
    );
  }
  const users = data.users.edges.map((edge) => edge.node);
  if (users.length === 0) return <Empty title={t("users.none")}>{t("users.noneText")}</Empty>;
  const label = t("users.table");
  return (
    <Stack gap="xs">
      <Table.ScrollContainer minWidth={520} visibleFrom="sm">
        <Table aria-label={label} verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("users.user")}</Table.Th>
              <Table.Th>{t("users.access")}</Table.Th>
              <Table.Th>{t("users.since")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {users.map((user) => (
              <Table.Tr key={user.id}>
                <Table.Td>
                  <Who user={user} />
                </Table.Td>
                <Table.Td data-key-column>
                  <Access user={user} />
                </Table.Td>
                <Table.Td>{formatDateTime(user.createdAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Stack component="ul" gap="xs" p={0} m={0} hiddenFrom="sm" style={{ listStyle: "none" }} aria-label={label}>
        {users.map((user) => (
          <Card withBorder padding="xs" component="li" key={user.id}>
            <Stack gap={4}>
              <Who user={user} />
              <div data-key-column>
                <Access user={user} />
              </div>
            </Stack>
          </Card>
        ))}
      </Stack>
      {data.users.pageInfo.hasNextPage && (
        <Text size="sm" c="dimmed">
          {t("users.firstOnly", { limit: formatNumber(PAGE) })}
        </Text>
      )}
    </Stack>
  );
}
