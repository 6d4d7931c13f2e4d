// "Are you sure?" for destructive actions: what will happen, the server's refusal if any.
import { Alert, Button, Group, Modal, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";

export function ConfirmDialog({
  opened,
  title,
  confirmLabel,
  errorTitle,
  error,
  busy,
  onCancel,
  onConfirm,
  children,
}: {
  opened: boolean;
  title: string;
  confirmLabel: string;
  errorTitle: string;
  error: string | null;
  busy: boolean;
  onCancel: () => void;
  onConfirm: () => void;
  /** What confirming does, in a sentence or two. */
  children: ReactNode;
}) {
  const { t } = useTranslation("shell");
  return (
    <Modal opened={opened} onClose={onCancel} title={title} centered>
      <Stack gap="sm">
        <Text size="sm" style={{ overflowWrap: "anywhere" }}>
          {children}
        </Text>
        {error && (
          <Alert color="red" title={errorTitle} role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t("cancel")}
          </Button>
          <Button color="red" onClick={onConfirm} loading={busy}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
