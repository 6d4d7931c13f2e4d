// Users, roles and seats (R19): seat usage against purchases, invitations, and per-user
// role / seat / active changes. The server's refusal (no paid seat left) is shown in its
// own words: next to a user's seat that asked for it, or above an invitation's button.
// Invited users wait for their emailed link (issue 15, defect 3): resend, revoke, or copy a
// new link; deactivating and revoking ask first.
import { Alert, Button, Card, Group, NativeSelect, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { type FormError, NO_FORM_ERROR, formError } from "../../api/errors";
import { graphql } from "../../gql";
import type { Role, Seat, UpdateUserInput, UsersAndSeatsQuery } from "../../gql/graphql";
import { formatNumber } from "../../i18n/format";
import { ConfirmDialog } from "../../shell/ConfirmDialog";
import { Empty, Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { usePhoneLayout } from "../../shell/usePhoneLayout";
import { useSignedIn } from "../session/SessionProvider";
import { type IssuedInvitation, IssuedLink, UserStatusCell } from "./Invitations";
import { ROLE_LABELS, SEAT_LABELS, roleOptions, seatOptions } from "./labels";

const UsersQuery = graphql(`
  query UsersAndSeats {
    viewer {
      id
      role
    }
    account {
      id
      name
      seats {
        seat
        purchased
        used
        available
      }
    }
    users(first: 100) {
      edges {
        node {
          id
          email
          name
          role
          seat
          active
          status
          invitation {
            state
            expiresAt
            sentAt
            emailProblem
          }
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`);

// What inviting and resending answer: the link is only in these answers (shown once).
graphql(`
  fragment InvitedUserFields on User {
    id
    email
    status
    invitation {
      state
      sentAt
      emailProblem
      link
    }
  }
`);

const InviteUser = graphql(`
  mutation InviteUser($input: InviteUserInput!) {
    inviteUser(input: $input) {
      ...InvitedUserFields
    }
  }
`);

const ResendInvitation = graphql(`
  mutation ResendInvitation($id: ID!, $sendEmail: Boolean!) {
    resendInvitation(id: $id, sendEmail: $sendEmail) {
      ...InvitedUserFields
    }
  }
`);

const RevokeInvitation = graphql(`
  mutation RevokeInvitation($id: ID!) {
    revokeInvitation(id: $id) {
      id
      status
      active
    }
  }
`);

const UpdateUser = graphql(`
  mutation UpdateUser($input: UpdateUserInput!) {
    updateUser(input: $input) {
      id
      role
      seat
      active
    }
  }
`);

type Change = Omit<UpdateUserInput, "id">;

type User = UsersAndSeatsQuery["users"]["edges"][number]["node"];

type Confirming = { kind: "deactivate" | "revoke"; id: string; email: string };

function InviteForm({ onInvited }: { onInvited: (issued: IssuedInvitation) => void }) {
  const { t } = useTranslation("users");
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("USER");
  const [seat, setSeat] = useState<Seat>("FREE");
  const [error, setError] = useState<FormError>(NO_FORM_ERROR);
  const [state, invite] = useMutation(InviteUser);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(NO_FORM_ERROR);
    const result = await invite({ input: { email: email.trim(), name: name.trim() || null, role, seat } });
    if (result.error || !result.data) {
      // The name's one rule is kept by its field, so input the server refuses is the address.
      setError(formError(result.error));
      return;
    }
    const invited = result.data.inviteUser;
    notifications.show({ color: "green", title: t("invite.done"), message: t("invite.doneText", { email: invited.email }) });
    setEmail("");
    setName("");
    onInvited({ email: invited.email, ...invited.invitation });
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="invite-title">
      <Title order={2} size="h4" mb="sm" id="invite-title">
        {t("invite.title")}
      </Title>
      <form onSubmit={submit} aria-label={t("invite.title")}>
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }}>
            <TextInput
              label={t("invite.email")}
              type="email"
              required
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
              error={error.field ?? undefined}
            />
            <TextInput label={t("invite.name")} maxLength={200} value={name} onChange={(e) => setName(e.currentTarget.value)} />
            <NativeSelect label={t("role")} data={roleOptions()} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} />
            <NativeSelect label={t("seat")} data={seatOptions()} value={seat} onChange={(e) => setSeat(e.currentTarget.value as Seat)} />
          </SimpleGrid>
          {error.form && (
            <Alert color="red" title={t("invite.failed")} role="alert">
              {error.form}
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={state.fetching}>
              {t("invite.submit")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

export function UsersPage() {
  const { t } = useTranslation("users");
  usePageTitle(t("title"));
  const session = useSignedIn();
  const phone = usePhoneLayout();
  const [{ data, fetching, error }, refetch] = useQuery({ query: UsersQuery });
  const [updating, update] = useMutation(UpdateUser);
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [issued, setIssued] = useState<IssuedInvitation | null>(null);
  const [confirming, setConfirming] = useState<Confirming | null>(null);
  const [confirmError, setConfirmError] = useState<string | null>(null);
  const [, resend] = useMutation(ResendInvitation);
  const [revoking, revoke] = useMutation(RevokeInvitation);

  const reload = () => refetch({ requestPolicy: "network-only" });

  /** A new link (emailed unless only copied); the previous one stops working. */
  async function reinvite(id: string, sendEmail: boolean) {
    setBusy(id);
    const result = await resend({ id, sendEmail });
    setBusy(null);
    if (result.error || !result.data) {
      const message = result.error ? describeError(result.error) : t("noAnswer");
      notifications.show({ color: "red", title: t("newLinkFailed"), message });
      return;
    }
    const user = result.data.resendInvitation;
    setIssued({ email: user.email, ...user.invitation });
    reload();
  }

  async function confirm() {
    if (!confirming) return;
    setConfirmError(null);
    if (confirming.kind === "revoke") {
      const result = await revoke({ id: confirming.id });
      if (result.error || !result.data) {
        setConfirmError(result.error ? describeError(result.error) : t("noAnswer"));
        return;
      }
      notifications.show({ color: "green", title: t("revoked"), message: t("revokedText", { email: confirming.email }) });
      reload();
    } else {
      const result = await update({ input: { id: confirming.id, active: false } });
      if (result.error || !result.data) {
        setConfirmError(result.error ? describeError(result.error) : t("noAnswer"));
        return;
      }
      notifications.show({ color: "green", title: t("deactivated"), message: t("deactivatedText", { email: confirming.email }) });
      reload();
    }
    setConfirming(null);
  }

  async function change(id: string, email: string, input: Change) {
    setBusy(id);
    setRowErrors((current) => {
      const next = { ...current };
      delete next[id];
      return next;
    });
    const result = await update({ input: { id, ...input } });
    setBusy(null);
    if (result.error || !result.data) {
      const message = result.error ? describeError(result.error) : t("noAnswer");
      setRowErrors((current) => ({ ...current, [id]: message }));
      return;
    }
    notifications.show({ color: "green", title: t("updated"), message: t("updatedText", { email }) });
    reload(); // seat usage changes with every seat or active change
  }

  const askingToRevoke = confirming?.kind === "revoke";
  let body;
  if (fetching && !data) {
    body = <Loading label={t("loading")} />;
  } else if (error || !data) {
    body = (
      <Failed
        title={t("loadFailed")}
        message={error ? describeError(error) : t("noAnswerLoad")}
        onRetry={reload}
      />
    );
  } else {
    const canEdit = data.viewer.role === "ADMIN" && !session.isStaff;
    const users = data.users.edges.map((edge) => edge.node);
    /** What the table's cells and the phone's cards show of one user. */
    const cellsOf = (user: User) => {
      const locked = !canEdit || busy === user.id || user.id === data.viewer.id;
      return {
        who: (
          <>
            <Text size="sm" fw={500} style={{ overflowWrap: "anywhere" }}>
              {user.email}
            </Text>
            {user.name && (
              <Text size="xs" c="dimmed">
                {user.name}
              </Text>
            )}
          </>
        ),
        role: (
          <>
          {canEdit ? (
            <NativeSelect
              aria-label={t("roleOf", { email: user.email })}
              miw={130} // "Benutzer" whole
              data={roleOptions()}
              value={user.role}
              disabled={locked}
              onChange={(e) => change(user.id, user.email, { role: e.currentTarget.value as Role })}
            />
          ) : (
            ROLE_LABELS[user.role]
          )}
          </>
        ),
        seat: (
          <>
          {canEdit ? (
            <NativeSelect
              aria-label={t("seatOf", { email: user.email })}
              data={seatOptions()}
              value={user.seat}
              disabled={busy === user.id || updating.fetching}
              error={rowErrors[user.id]}
              onChange={(e) => change(user.id, user.email, { seat: e.currentTarget.value as Seat })}
            />
          ) : (
            SEAT_LABELS[user.seat]
          )}
          </>
        ),
        status: (
          <>
            <UserStatusCell status={user.status} invitation={user.invitation} />
            {canEdit && user.status === "INVITED" && (
              <Group gap="xs" mt={4} wrap="nowrap">
                <Button size="compact-xs" variant="light" disabled={locked} onClick={() => reinvite(user.id, true)} aria-label={t("actions.resendLabel", { email: user.email })}>
                  {t("actions.resend")}
                </Button>
                <Button size="compact-xs" variant="default" disabled={locked} onClick={() => reinvite(user.id, false)} aria-label={t("actions.copyLinkLabel", { email: user.email })}>
                  {t("actions.copyLink")}
                </Button>
              </Group>
            )}
          </>
        ),
        access: canEdit ? (
          <>
          {user.id === data.viewer.id ? (
            <Text size="xs" c="dimmed">
              {t("you")}
            </Text>
          ) : user.status === "INVITED" ? (
            <Button
              size="xs"
              variant="default"
              color="red"
              disabled={locked}
              onClick={() => setConfirming({ kind: "revoke", id: user.id, email: user.email })}
              aria-label={t("actions.revokeLabel", { email: user.email })}
            >
              {t("actions.revoke")}
            </Button>
          ) : !user.active && user.invitation && user.invitation.state !== "ACCEPTED" ? (
            // Never joined: a new invitation, not an account without a password.
            <Button size="xs" variant="light" disabled={locked} onClick={() => reinvite(user.id, true)} aria-label={t("actions.inviteAgainLabel", { email: user.email })}>
              {t("actions.inviteAgain")}
            </Button>
          ) : (
            <Button
              size="xs"
              variant={user.active ? "default" : "light"}
              color={user.active ? "red" : undefined}
              disabled={locked}
              onClick={() =>
                user.active ? setConfirming({ kind: "deactivate", id: user.id, email: user.email }) : change(user.id, user.email, { active: true })
              }
              aria-label={t(user.active ? "actions.deactivateLabel" : "actions.reactivateLabel", { email: user.email })}
            >
              {user.active ? t("actions.deactivate") : t("actions.reactivate")}
            </Button>
          )}
          </>
        ) : null,
      };
    };
    body = (
      <Stack gap="lg">
        {!canEdit && (
          <Alert color="blue" title={t("readOnly")}>
            {t("readOnlyText", { account: data.account.name })}
          </Alert>
        )}
        <section aria-labelledby="seat-usage">
          <Title order={2} size="h4" mb="sm" id="seat-usage">
            {t("seatUsage")}
          </Title>
          <Table.ScrollContainer minWidth={320}>
            <Table striped aria-labelledby="seat-usage">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("seat")}</Table.Th>
                  <Table.Th>{t("inUse")}</Table.Th>
                  <Table.Th>{t("purchased")}</Table.Th>
                  <Table.Th>{t("available")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.account.seats.map((usage) => (
                  <Table.Tr key={usage.seat}>
                    <Table.Td>{SEAT_LABELS[usage.seat]}</Table.Td>
                    <Table.Td>{formatNumber(usage.used)}</Table.Td>
                    <Table.Td>{usage.purchased === null || usage.purchased === undefined ? t("unlimited") : formatNumber(usage.purchased)}</Table.Td>
                    <Table.Td data-key-column>
                      {usage.available === null || usage.available === undefined ? t("unlimited") : formatNumber(usage.available)}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </section>
        {canEdit && (
          <InviteForm
            onInvited={(made) => {
              setIssued(made);
              reload();
            }}
          />
        )}
        {issued && <IssuedLink issued={issued} onDone={() => setIssued(null)} />}
        <section aria-labelledby="user-list">
          <Title order={2} size="h4" mb="sm" id="user-list">
            {t("users")}
          </Title>
          {users.length === 0 ? (
            <Empty title={t("none")}>{t("noneText")}</Empty>
          ) : phone ? (
            // A card per user on a phone: the status and access stay on screen (issue 15, item 9).
            <Stack component="ul" gap="xs" p={0} m={0} style={{ listStyle: "none" }} aria-labelledby="user-list">
              {users.map((user) => {
                const cells = cellsOf(user);
                return (
                  <Card component="li" key={user.id} withBorder padding="sm">
                    {cells.who}
                    <Group justify="space-between" align="flex-start" gap="xs" mt="xs" data-key-column>
                      <div>{cells.status}</div>
                      {cells.access}
                    </Group>
                    <SimpleGrid cols={2} spacing="xs" mt="xs">
                      <div>
                        <Text size="xs" c="dimmed">
                          {t("role")}
                        </Text>
                        {cells.role}
                      </div>
                      <div>
                        <Text size="xs" c="dimmed">
                          {t("seat")}
                        </Text>
                        {cells.seat}
                      </div>
                    </SimpleGrid>
                  </Card>
                );
              })}
            </Stack>
          ) : (
            <Table.ScrollContainer minWidth={640}>
              <Table aria-labelledby="user-list" verticalSpacing="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t("user")}</Table.Th>
                    <Table.Th>{t("role")}</Table.Th>
                    <Table.Th>{t("seat")}</Table.Th>
                    <Table.Th>{t("statusColumn")}</Table.Th>
                    {canEdit && <Table.Th>{t("access")}</Table.Th>}
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {users.map((user) => {
                    const cells = cellsOf(user);
                    return (
                      <Table.Tr key={user.id}>
                        <Table.Td>{cells.who}</Table.Td>
                        <Table.Td>{cells.role}</Table.Td>
                        <Table.Td maw={320}>{cells.seat}</Table.Td>
                        <Table.Td data-key-column>{cells.status}</Table.Td>
                        {canEdit && <Table.Td data-key-column>{cells.access}</Table.Td>}
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
          {data.users.pageInfo.hasNextPage && (
            <Text size="sm" c="dimmed" mt="xs">
              {t("firstOnly", { count: users.length })}
            </Text>
          )}
        </section>
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        {t("title")}
      </Title>
      <Text c="dimmed">{t("intro")}</Text>
      {body}
      <ConfirmDialog
        opened={confirming !== null}
        title={t(askingToRevoke ? "confirm.revokeTitle" : "confirm.deactivateTitle", { email: confirming?.email ?? "" })}
        confirmLabel={t(askingToRevoke ? "confirm.revoke" : "confirm.deactivate")}
        errorTitle={t(askingToRevoke ? "confirm.revokeFailed" : "confirm.deactivateFailed")}
        error={confirmError}
        busy={revoking.fetching || updating.fetching}
        onCancel={() => {
          setConfirming(null);
          setConfirmError(null);
        }}
        onConfirm={confirm}
      >
        {t(askingToRevoke ? "confirm.revokeText" : "confirm.deactivateText")}
      </ConfirmDialog>
    </Stack>
  );
}
