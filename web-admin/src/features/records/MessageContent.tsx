// A logged email's content (R23): its HTML, sanitised by the server and shown in a frame
// sandboxed without scripts (the server also sends a strict CSP), else its text, and its
// attachments to download. Shown on a contact's timeline and on the email's page.
import { Anchor, Box, List, Stack, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

import { sameOrigin } from "../../api/urls";
import { currentLanguage } from "../../i18n";
import { useAccountScope } from "../../shell/AccountScope";

export type MessageAttachment = {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  downloadUrl: string;
};

export type Message = {
  subject: string;
  htmlUrl?: string | null;
  text?: string | null;
  attachments: readonly MessageAttachment[];
};

const tenths = new Map<string, Intl.NumberFormat>();

/** 1.5 KB / 1,5 KB: one decimal, written as the chosen language writes numbers. */
function oneDecimal(value: number): string {
  const language = currentLanguage();
  let format = tenths.get(language);
  if (!format) {
    format = new Intl.NumberFormat(language, { minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: false });
    tenths.set(language, format);
  }
  return format.format(value);
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${oneDecimal(bytes / 1024)} KB`;
  return `${oneDecimal(bytes / 1024 / 1024)} MB`;
}

export function MessageContent({ message, height = 260 }: { message: Message; height?: number }) {
  const { t } = useTranslation("emails", { keyPrefix: "message" });
  const { link } = useAccountScope(); // support staff name the account they read
  return (
    <Stack gap="xs">
      {message.htmlUrl ? (
        <Box style={{ resize: "vertical", overflow: "auto", height, border: "1px solid var(--mantine-color-default-border)" }}>
          {/* sandbox="" (no allow-scripts, no allow-same-origin); the server also sends a strict CSP. */}
          <iframe
            sandbox=""
            src={link(sameOrigin(message.htmlUrl))}
            title={t("body", { subject: message.subject })}
            referrerPolicy="no-referrer"
            style={{ border: 0, width: "100%", height: "100%", background: "white", display: "block" }}
          />
        </Box>
      ) : message.text ? (
        <Text size="sm" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
          {message.text}
        </Text>
      ) : null}
      {message.attachments.length > 0 && (
        <Box>
          <Text size="sm" fw={600}>
            {t("attachments")}
          </Text>
          <List size="sm">
            {message.attachments.map((attachment) => (
              <List.Item key={attachment.id}>
                <Anchor href={link(sameOrigin(attachment.downloadUrl))} download={attachment.filename} style={{ overflowWrap: "anywhere" }}>
                  {attachment.filename}
                </Anchor>{" "}
                <Text span size="sm" c="dimmed">
                  ({attachment.contentType}, {formatSize(attachment.size)})
                </Text>
              </List.Item>
            ))}
          </List>
        </Box>
      )}
    </Stack>
  );
}
