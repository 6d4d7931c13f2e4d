// Invitations on the Users page (issue 15, defect 3): a user's status with their pending
// invitation, and the link an admin may copy. The link exists only in the answer that made
// it (only its hash is stored), so it is shown once, right after inviting or "Copy link".
import { Alert, Badge, Button, Code, CopyButton, Group, Stack, Text } from "@mantine/core";

import type { InvitationState, UserStatus } from "../../gql/graphql";
import { currentLanguage } from "../../i18n";

export interface InvitationFacts {
  state: InvitationState;
  expiresAt: string;
  sentAt?: string | null;
  emailProblem?: string | null;
}

export interface IssuedInvitation {
  email: string;
  sentAt?: string | null;
  emailProblem?: string | null;
  link?: string | null;
}

const when = (iso: string) => new Date(iso).toLocaleString(currentLanguage(), { dateStyle: "medium", timeStyle: "short" });

/** The user's status badge, and for an invited user what became of the invitation. */
export function UserStatusCell({ status, invitation }: { status: UserStatus; invitation: InvitationFacts | null | undefined }) {
  const expired = status === "INVITED" && invitation?.state === "EXPIRED";
  const [color, label] =
    status === "ACTIVE"
      ? ["green", "Active"]
      : status === "DEACTIVATED"
        ? ["gray", invitation?.state === "REVOKED" ? "Invitation revoked" : "Deactivated"]
        : expired
          ? ["orange", "Invitation expired"]
          : ["blue", "Invited"];
  return (
    <Stack gap={2}>
      <Badge color={color} variant="light" style={{ flexShrink: 0 }}>
        {label}
      </Badge>
      {status === "INVITED" && invitation && (
        <Text size="xs" c="dimmed">
          {invitation.sentAt ? `Emailed ${when(invitation.sentAt)}. ` : "Not emailed. "}
          {expired ? `The link expired ${when(invitation.expiresAt)}.` : `The link works until ${when(invitation.expiresAt)}.`}
        </Text>
      )}
    </Stack>
  );
}

/** What became of an invitation just made, with its link to copy (shown this once). */
export function IssuedLink({ issued, onDone }: { issued: IssuedInvitation; onDone: () => void }) {
  const emailed = Boolean(issued.sentAt);
  return (
    <Alert
      color={emailed ? "green" : "yellow"}
      role="status"
      title={emailed ? `Invitation emailed to ${issued.email}` : `${issued.email} has not been emailed`}
    >
      <Stack gap="sm">
        <Text size="sm" style={{ overflowWrap: "anywhere" }}>
          {emailed
            ? "They set their password with the link in the email. You can also copy the link and send it another way: it is shown only now."
            : `${issued.emailProblem ?? "No email was sent."} The link is shown only now.`}
        </Text>
        {issued.link && (
          <>
            <Code block style={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }} aria-label="Invitation link">
              {issued.link}
            </Code>
            <Group>
              <CopyButton value={issued.link}>
                {({ copied, copy }) => (
                  <Button size="xs" color={copied ? "teal" : undefined} onClick={copy}>
                    {copied ? "Copied" : "Copy link"}
                  </Button>
                )}
              </CopyButton>
              <Button size="xs" variant="default" onClick={onDone}>
                Done
              </Button>
            </Group>
          </>
        )}
      </Stack>
    </Alert>
  );
}
