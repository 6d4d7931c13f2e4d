// Invitations on the Users page (issue 15, defect 3): a user's status with their pending
// invitation, and the link an admin may copy. The link exists only in the answer that made
// it (only its hash is stored), so it is shown once, right after inviting or "Copy link".
import { Alert, Badge, Button, Code, CopyButton, Group, Stack, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

import type { InvitationState, UserStatus } from "../../gql/graphql";
import { formatDateTime as when } from "../../i18n/format";

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

/** The user's status badge, and for an invited user what became of the invitation. */
export function UserStatusCell({ status, invitation }: { status: UserStatus; invitation: InvitationFacts | null | undefined }) {
  const { t } = useTranslation("users");
  const expired = status === "INVITED" && invitation?.state === "EXPIRED";
  const [color, label] =
    status === "ACTIVE"
      ? ["green", t("status.ACTIVE")]
      : status === "DEACTIVATED"
        ? ["gray", invitation?.state === "REVOKED" ? t("status.REVOKED") : t("status.DEACTIVATED")]
        : expired
          ? ["orange", t("status.EXPIRED")]
          : ["blue", t("status.INVITED")];
  return (
    <Stack gap={2}>
      <Badge color={color} variant="light" style={{ flexShrink: 0 }}>
        {label}
      </Badge>
      {status === "INVITED" && invitation && (
        <Text size="xs" c="dimmed">
          {invitation.sentAt ? t("status.emailed", { when: when(invitation.sentAt) }) : t("status.notEmailed")}
          {t(expired ? "status.expiredOn" : "status.worksUntil", { when: when(invitation.expiresAt) })}
        </Text>
      )}
    </Stack>
  );
}

/** What became of an invitation just made, with its link to copy (shown this once). */
export function IssuedLink({ issued, onDone }: { issued: IssuedInvitation; onDone: () => void }) {
  const { t } = useTranslation("users");
  const emailed = Boolean(issued.sentAt);
  return (
    <Alert
      color={emailed ? "green" : "yellow"}
      role="status"
      title={t(emailed ? "issued.emailed" : "issued.notEmailed", { email: issued.email })}
    >
      <Stack gap="sm">
        <Text size="sm" style={{ overflowWrap: "anywhere" }}>
          {emailed ? t("issued.emailedText") : t("issued.notEmailedText", { problem: issued.emailProblem ?? t("issued.noEmail") })}
        </Text>
        {issued.link && (
          <>
            <Code block style={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }} aria-label={t("issued.link")}>
              {issued.link}
            </Code>
            <Group>
              <CopyButton value={issued.link}>
                {({ copied, copy }) => (
                  <Button size="xs" color={copied ? "teal" : undefined} onClick={copy}>
                    {copied ? t("issued.copied") : t("issued.copy")}
                  </Button>
                )}
              </CopyButton>
              <Button size="xs" variant="default" onClick={onDone}>
                {t("issued.done")}
              </Button>
            </Group>
          </>
        )}
      </Stack>
    </Alert>
  );
}
