// A secret the server shows once (API token, webhook signing secret): copy it, then dismiss.
import { Alert, Button, Code, CopyButton, Group, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";

export function SecretOnce({
  title,
  secret,
  label,
  copyLabel,
  onDone,
  children,
}: {
  title: string;
  secret: string;
  /** What the secret is, for screen readers (e.g. "New token"). */
  label: string;
  copyLabel: string;
  onDone: () => void;
  /** Why it must be stored now, and where. */
  children: ReactNode;
}) {
  const { t } = useTranslation("shell");
  return (
    <Alert color="yellow" title={title} role="status">
      <Stack gap="sm">
        <Text size="sm">{children}</Text>
        <Code block style={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }} aria-label={label}>
          {secret}
        </Code>
        <Group>
          <CopyButton value={secret}>
            {({ copied, copy }) => (
              <Button size="xs" color={copied ? "teal" : undefined} onClick={copy}>
                {copied ? t("copied") : copyLabel}
              </Button>
            )}
          </CopyButton>
          <Button size="xs" variant="default" onClick={onDone}>
            {t("storedIt")}
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}
