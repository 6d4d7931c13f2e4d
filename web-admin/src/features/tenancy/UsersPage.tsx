// Users, roles and seats (R19): seat usage against purchases, invitations, and per-user
// role / seat / active changes. The server's refusal (no paid seat left) is shown in its
// own words: next to a user's seat that asked for it, or above an invitation's button.
// Invited users wait for their emailed link (issue 15, defect 3): resend, revoke, or copy a
// new link; deactivating and revoking ask first.
import { Alert, Button, Card, Group, NativeSelect, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { type FormEvent, useState } from "react";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { type FormError, NO_FORM_ERROR, formError } from "../../api/errors";
import { graphql } from "../../gql";
import type { Role, Seat, UpdateUserInput, UsersAndSeatsQuery } from "../../gql/graphql";
import { ConfirmDialog } from "../../shell/ConfirmDialog";
import { Empty, Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { usePhoneLayout } from "../../shell/usePhoneLayout";
import { useSignedIn } from "../session/SessionProvider";
import { type IssuedInvitation, IssuedLink, UserStatusCell } from "./Invitations";
import { ROLE_LABELS, ROLE_OPTIONS, SEAT_LABELS, SEAT_OPTIONS } from "./labels";

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
    notifications.show({ color: "green", title: "User invited", message: `${invited.email} was added.` });
    setEmail("");
    setName("");
    onInvited({ email: invited.email, ...invited.invitation });
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="invite-title">
      <Title order={2} size="h4" mb="sm" id="invite-title">
        Invite a user
      </Title>
      <form onSubmit={submit} aria-label="Invite a user">
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }}>
            <TextInput
              label="Email address"
              type="email"
              required
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
              error={error.field ?? undefined}
            />
            <TextInput label="Name" maxLength={200} value={name} onChange={(e) => setName(e.currentTarget.value)} />
            <NativeSelect label="Role" data={ROLE_OPTIONS} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} />
            <NativeSelect label="Seat" data={SEAT_OPTIONS} value={seat} onChange={(e) => setSeat(e.currentTarget.value as Seat)} />
          </SimpleGrid>
          {error.form && (
            <Alert color="red" title="Couldn't invite the user" role="alert">
              {error.form}
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={state.fetching}>
              Invite
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

export function UsersPage() {
  usePageTitle("Users & seats");
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
      const message = result.error ? describeError(result.error) : "The server did not answer.";
      notifications.show({ color: "red", title: "Couldn't make a new invitation", message });
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
        setConfirmError(result.error ? describeError(result.error) : "The server did not answer.");
        return;
      }
      notifications.show({ color: "green", title: "Invitation revoked", message: `${confirming.email} can no longer use their link.` });
      reload();
    } else {
      const result = await update({ input: { id: confirming.id, active: false } });
      if (result.error || !result.data) {
        setConfirmError(result.error ? describeError(result.error) : "The server did not answer.");
        return;
      }
      notifications.show({ color: "green", title: "User deactivated", message: `${confirming.email} can no longer sign in.` });
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
      const message = result.error ? describeError(result.error) : "The server did not answer.";
      setRowErrors((current) => ({ ...current, [id]: message }));
      return;
    }
    notifications.show({ color: "green", title: "User updated", message: `${email} is up to date.` });
    reload(); // seat usage changes with every seat or active change
  }

  let body;
  if (fetching && !data) {
    body = <Loading label="Loading users…" />;
  } else if (error || !data) {
    body = (
      <Failed
        title="Couldn't load the users"
        message={error ? describeError(error) : "No answer from the server."}
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
              aria-label={`Role of ${user.email}`}
              data={ROLE_OPTIONS}
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
              aria-label={`Seat of ${user.email}`}
              data={SEAT_OPTIONS}
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
                <Button size="compact-xs" variant="light" disabled={locked} onClick={() => reinvite(user.id, true)} aria-label={`Resend the invitation to ${user.email}`}>
                  Resend
                </Button>
                <Button size="compact-xs" variant="default" disabled={locked} onClick={() => reinvite(user.id, false)} aria-label={`Copy a new invitation link for ${user.email}`}>
                  Copy link
                </Button>
              </Group>
            )}
          </>
        ),
        access: canEdit ? (
          <>
          {user.id === data.viewer.id ? (
            <Text size="xs" c="dimmed">
              You
            </Text>
          ) : user.status === "INVITED" ? (
            <Button
              size="xs"
              variant="default"
              color="red"
              disabled={locked}
              onClick={() => setConfirming({ kind: "revoke", id: user.id, email: user.email })}
              aria-label={`Revoke the invitation of ${user.email}`}
            >
              Revoke
            </Button>
          ) : !user.active && user.invitation && user.invitation.state !== "ACCEPTED" ? (
            // Never joined: a new invitation, not an account without a password.
            <Button size="xs" variant="light" disabled={locked} onClick={() => reinvite(user.id, true)} aria-label={`Invite ${user.email} again`}>
              Invite again
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
              aria-label={`${user.active ? "Deactivate" : "Reactivate"} ${user.email}`}
            >
              {user.active ? "Deactivate" : "Reactivate"}
            </Button>
          )}
          </>
        ) : null,
      };
    };
    body = (
      <Stack gap="lg">
        {!canEdit && (
          <Alert color="blue" title="Read only">
            Only admins of {data.account.name} can invite users or change their roles and seats.
          </Alert>
        )}
        <section aria-labelledby="seat-usage">
          <Title order={2} size="h4" mb="sm" id="seat-usage">
            Seat usage
          </Title>
          <Table.ScrollContainer minWidth={320}>
            <Table striped aria-labelledby="seat-usage">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Seat</Table.Th>
                  <Table.Th>In use</Table.Th>
                  <Table.Th>Purchased</Table.Th>
                  <Table.Th>Available</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.account.seats.map((usage) => (
                  <Table.Tr key={usage.seat}>
                    <Table.Td>{SEAT_LABELS[usage.seat]}</Table.Td>
                    <Table.Td>{usage.used}</Table.Td>
                    <Table.Td>{usage.purchased ?? "Unlimited"}</Table.Td>
                    <Table.Td data-key-column>{usage.available ?? "Unlimited"}</Table.Td>
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
            Users
          </Title>
          {users.length === 0 ? (
            <Empty title="No users yet">Invite the people who send emails from this account.</Empty>
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
                          Role
                        </Text>
                        {cells.role}
                      </div>
                      <div>
                        <Text size="xs" c="dimmed">
                          Seat
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
                    <Table.Th>User</Table.Th>
                    <Table.Th>Role</Table.Th>
                    <Table.Th>Seat</Table.Th>
                    <Table.Th>Status</Table.Th>
                    {canEdit && <Table.Th>Access</Table.Th>}
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
              Showing the first {users.length} users.
            </Text>
          )}
        </section>
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        Users &amp; seats
      </Title>
      <Text c="dimmed">Who can send from this account, with which role and seat.</Text>
      {body}
      <ConfirmDialog
        opened={confirming !== null}
        title={confirming?.kind === "revoke" ? `Revoke the invitation of ${confirming.email}?` : `Deactivate ${confirming?.email ?? ""}?`}
        confirmLabel={confirming?.kind === "revoke" ? "Revoke invitation" : "Deactivate"}
        errorTitle={confirming?.kind === "revoke" ? "Couldn't revoke the invitation" : "Couldn't deactivate the user"}
        error={confirmError}
        busy={revoking.fetching || updating.fetching}
        onCancel={() => {
          setConfirming(null);
          setConfirmError(null);
        }}
        onConfirm={confirm}
      >
        {confirming?.kind === "revoke"
          ? "The link they were sent stops working and they are deactivated, which frees their seat. You can invite them again later."
          : "They can no longer sign in, and their seat becomes free. You can reactivate them later."}
      </ConfirmDialog>
    </Stack>
  );
}
