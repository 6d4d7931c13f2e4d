// The compose window: To/Cc/Bcc completed from contacts, subject, a rich-text body
// (@mantine/tiptap), attachments (sent as a GraphQL multipart upload), Track and Log
// pre-filled from the sender's defaults (R2), and, before sending, what will apply
// (composeCheck: opens only on a free seat, "Someone" under privacy mode, tracking off...).
// Sending shows the new email's page, with each recipient's delivery status.
import "@mantine/tiptap/styles.css";

import { Alert, Anchor, Button, CloseButton, Group, List, Modal, Paper, Stack, TagsInput, Text, TextInput } from "@mantine/core";
import { useDebouncedValue, useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { Link, RichTextEditor } from "@mantine/tiptap";
import { useEditor } from "@tiptap/react";
import StarterKit from "@tiptap/starter-kit";
import { type FormEvent, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { ComposeCheckInput } from "../../gql/graphql";
import type { ComposeDraft } from "./Compose";
import { formatSize } from "./labels";
import { SettingSwitch } from "../../shell/SettingSwitch";

const ComposeDefaultsQuery = graphql(`
  query ComposeDefaults {
    viewer {
      id
      email
      name
      defaultTrack
      defaultLog
    }
    account {
      id
      settings {
        trackingEnabled
        defaultTrack
        defaultLog
      }
    }
  }
`);

const ContactSuggestionsQuery = graphql(`
  query ContactSuggestions($search: String!) {
    contacts(first: 8, search: $search) {
      edges {
        node {
          id
          address
          name
        }
      }
    }
  }
`);

const ComposeCheckQuery = graphql(`
  query ComposeCheck($input: ComposeCheckInput!) {
    composeCheck(input: $input) {
      canSend
      track
      log
      notes
    }
  }
`);

const SendEmail = graphql(`
  mutation SendEmail($input: SendEmailInput!) {
    sendEmail(input: $input) {
      email {
        id
        subject
      }
      deliveries {
        recipient
        status
      }
    }
  }
`);

/** Loose on purpose: the server checks each address and answers in words. */
const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/** "Ann <ann@example.com>" pasted or typed: keep the address. */
function addressOf(value: string): string {
  const inBrackets = /<([^<>]+)>\s*$/.exec(value);
  return (inBrackets?.[1] ?? value).trim();
}

function AddressField({ label, value, onChange, autoFocus }: { label: string; value: string[]; onChange: (value: string[]) => void; autoFocus?: boolean }) {
  const { t } = useTranslation("compose");
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search.trim(), 200);
  const [{ data }] = useQuery({ query: ContactSuggestionsQuery, variables: { search: debounced }, pause: debounced.length < 2 });
  const suggestions = useMemo(() => {
    if (debounced.length < 2 || !data) return [];
    return data.contacts.edges.map((edge) => edge.node).filter((contact) => !value.includes(contact.address));
  }, [data, debounced, value]);
  const names = useMemo(() => new Map(suggestions.map((contact) => [contact.address, contact.name])), [suggestions]);
  const wrong = value.filter((address) => !ADDRESS.test(address));

  return (
    <TagsInput
      label={label}
      data={suggestions.map((contact) => contact.address)}
      value={value}
      onChange={(next) => onChange([...new Set(next.map(addressOf).filter(Boolean))])}
      searchValue={search}
      onSearchChange={setSearch}
      splitChars={[",", ";", " "]}
      filter={({ options }) => options}
      renderOption={({ option }) => {
        const name = names.get(option.value);
        return (
          <Stack gap={0}>
            {name && <Text size="sm">{name}</Text>}
            <Text size={name ? "xs" : "sm"} c={name ? "dimmed" : undefined}>
              {option.value}
            </Text>
          </Stack>
        );
      }}
      error={wrong.length > 0 ? t("notAnAddress", { addresses: wrong.join(", ") }) : undefined}
      data-autofocus={autoFocus || undefined}
      comboboxProps={{ withinPortal: true }}
    />
  );
}

/** What the server says will apply to this email, given its recipients and switches. */
function WhatApplies({ check, fetching }: { check: { canSend: boolean; track: boolean; log: boolean; notes: string[] } | null; fetching: boolean }) {
  const { t } = useTranslation("compose");
  if (!check) {
    return (
      <Text size="sm" c="dimmed">
        {fetching ? t("checking") : t("addRecipient")}
      </Text>
    );
  }
  return (
    <Stack gap={4}>
      <Text size="sm" fw={600}>
        {t("applies", { track: check.track ? t("tracked") : t("notTracked"), log: check.log ? t("logged") : t("notLogged") })}
      </Text>
      {check.notes.length > 0 && (
        <List size="sm" spacing={2}>
          {check.notes.map((note) => (
            <List.Item key={note}>{note}</List.Item>
          ))}
        </List>
      )}
    </Stack>
  );
}

export function ComposeWindow({ draft, onClose }: { draft: ComposeDraft; onClose: () => void }) {
  const { t } = useTranslation("compose");
  const phone = useMediaQuery("(max-width: 48em)");
  const navigate = useNavigate();
  const [{ data: defaults }] = useQuery({ query: ComposeDefaultsQuery });
  const [to, setTo] = useState<string[]>(draft.to ?? []);
  const [cc, setCc] = useState<string[]>(draft.cc ?? []);
  const [bcc, setBcc] = useState<string[]>([]);
  const [showCopies, setShowCopies] = useState((draft.cc ?? []).length > 0);
  const [subject, setSubject] = useState(draft.subject ?? "");
  const [files, setFiles] = useState<File[]>([]);
  const [track, setTrack] = useState<boolean | null>(null);
  const [log, setLog] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sending, send] = useMutation(SendEmail);
  const fileInput = useRef<HTMLInputElement>(null);

  const editor = useEditor({
    extensions: [StarterKit.configure({ link: false }), Link],
    content: "",
    editorProps: { attributes: { "aria-label": t("message"), "aria-multiline": "true", role: "textbox" } },
  });

  // The switches start from the sender's own defaults, or the account's where they follow it (R2).
  const viewer = defaults?.viewer;
  const account = defaults?.account.settings;
  const defaultTrack = viewer && account ? (viewer.defaultTrack === "ACCOUNT" ? account.defaultTrack : viewer.defaultTrack === "ON") : null;
  const defaultLog = viewer && account ? (viewer.defaultLog === "ACCOUNT" ? account.defaultLog : viewer.defaultLog === "ON") : null;
  // Tracking turned off for the whole account wins over any switch (R18): shown off, fixed.
  const trackingOff = account?.trackingEnabled === false;
  const trackValue = !trackingOff && (track ?? defaultTrack ?? true);
  const logValue = log ?? defaultLog ?? true;

  // Debounced as text: a new object on every render would restart the timer forever.
  const [checkKey] = useDebouncedValue(JSON.stringify({ to, cc, bcc, track: trackValue, log: logValue }), 300);
  const debouncedCheck = useMemo(() => JSON.parse(checkKey) as ComposeCheckInput, [checkKey]);
  const [{ data: checked, fetching: checking, error: checkError }] = useQuery({
    query: ComposeCheckQuery,
    variables: { input: debouncedCheck },
    pause: defaults === undefined,
    requestPolicy: "cache-and-network",
  });
  const check = checked?.composeCheck ?? null;

  const recipients = to.length + cc.length + bcc.length;
  const wrongAddress = [...to, ...cc, ...bcc].some((address) => !ADDRESS.test(address));
  const blocked = check !== null && !check.canSend;

  function addFiles(list: FileList | null) {
    if (!list) return;
    const added = [...list];
    setFiles((current) => [...current, ...added.filter((file) => !current.some((kept) => kept.name === file.name && kept.size === file.size))]);
    if (fileInput.current) fileInput.current.value = "";
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    if (to.length === 0) {
      setError(t("needTo"));
      return;
    }
    if (wrongAddress) {
      setError(t("fixAddresses"));
      return;
    }
    const html = editor && !editor.isEmpty ? editor.getHTML() : null;
    // With HTML, the server writes the plain-text part from it.
    const text = html === null ? "" : null;
    const result = await send({
      input: {
        to,
        cc: cc.length ? cc : null,
        bcc: bcc.length ? bcc : null,
        subject: subject.trim(),
        html,
        text,
        attachments: files.length ? files : null,
        track: trackValue,
        log: logValue,
        inReplyTo: draft.inReplyTo ?? null,
      },
    });
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error) : t("noAnswer"));
      return;
    }
    const sent = result.data.sendEmail;
    notifications.show({
      color: "green",
      title: t("sentTitle"),
      message: t("sentText", { count: sent.deliveries.length }),
    });
    onClose();
    navigate(`/emails/${sent.email.id}`);
  }

  const editorLabels = useMemo(
    () => ({
      boldControlLabel: t("editor.bold"),
      italicControlLabel: t("editor.italic"),
      underlineControlLabel: t("editor.underline"),
      strikeControlLabel: t("editor.strike"),
      clearFormattingControlLabel: t("editor.clearFormatting"),
      bulletListControlLabel: t("editor.bulletList"),
      orderedListControlLabel: t("editor.orderedList"),
      blockquoteControlLabel: t("editor.blockquote"),
      linkControlLabel: t("editor.link"),
      unlinkControlLabel: t("editor.unlink"),
      linkEditorInputLabel: t("editor.linkInput"),
      linkEditorInputPlaceholder: t("editor.linkPlaceholder"),
      linkEditorExternalLink: t("editor.linkExternal"),
      linkEditorInternalLink: t("editor.linkInternal"),
      linkEditorSave: t("editor.linkSave"),
    }),
    [t],
  );

  const from = viewer ? (viewer.name ? `${viewer.name} <${viewer.email}>` : viewer.email) : "…";

  return (
    <Modal
      opened
      onClose={() => !sending.fetching && onClose()}
      title={draft.inReplyTo ? t("reply") : t("newEmail")}
      size="xl"
      fullScreen={phone}
      closeOnClickOutside={false}
      closeButtonProps={{ "aria-label": t("close") }}
    >
      <form onSubmit={submit} aria-label={t("form")}>
        <Stack gap="sm">
          <Text size="sm" c="dimmed" style={{ overflowWrap: "anywhere" }}>
            {t("from", { from })}
          </Text>
          <AddressField label={t("to")} value={to} onChange={setTo} autoFocus={to.length === 0} />
          {showCopies ? (
            <>
              <AddressField label={t("cc")} value={cc} onChange={setCc} />
              <AddressField label={t("bcc")} value={bcc} onChange={setBcc} />
            </>
          ) : (
            <Anchor component="button" type="button" size="sm" onClick={() => setShowCopies(true)} style={{ alignSelf: "flex-start" }}>
              {t("addCopies")}
            </Anchor>
          )}
          <TextInput label={t("subject")} value={subject} onChange={(e) => setSubject(e.currentTarget.value)} data-autofocus={to.length > 0 || undefined} />
          <Stack gap={4}>
            <Text size="sm" fw={500} id="compose-body">
              {t("message")}
            </Text>
            <RichTextEditor editor={editor} aria-labelledby="compose-body" labels={editorLabels}>
              <RichTextEditor.Toolbar>
                <RichTextEditor.ControlsGroup>
                  <RichTextEditor.Bold />
                  <RichTextEditor.Italic />
                  <RichTextEditor.Underline />
                  <RichTextEditor.Strikethrough />
                  <RichTextEditor.ClearFormatting />
                </RichTextEditor.ControlsGroup>
                <RichTextEditor.ControlsGroup>
                  <RichTextEditor.BulletList />
                  <RichTextEditor.OrderedList />
                  <RichTextEditor.Blockquote />
                </RichTextEditor.ControlsGroup>
                <RichTextEditor.ControlsGroup>
                  <RichTextEditor.Link />
                  <RichTextEditor.Unlink />
                </RichTextEditor.ControlsGroup>
              </RichTextEditor.Toolbar>
              <RichTextEditor.Content mih={180} />
            </RichTextEditor>
          </Stack>
          <Stack gap={4}>
            <Group gap="sm">
              <Button variant="default" size="xs" onClick={() => fileInput.current?.click()}>
                {t("attach")}
              </Button>
              <Text size="xs" c="dimmed">
                {files.length === 0
                  ? t("noAttachments")
                  : t("attached", { count: files.length, size: formatSize(files.reduce((sum, file) => sum + file.size, 0)) })}
              </Text>
              <input ref={fileInput} type="file" multiple hidden aria-label={t("attachments")} onChange={(e) => addFiles(e.currentTarget.files)} />
            </Group>
            {files.length > 0 && (
              <Stack component="ul" gap={4} p={0} m={0} style={{ listStyle: "none" }} aria-label={t("attachedFiles")}>
                {files.map((file, index) => (
                  <Group component="li" key={`${file.name}-${index}`} gap="xs" wrap="nowrap">
                    <Text size="sm" truncate style={{ minWidth: 0 }}>
                      {file.name}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {formatSize(file.size)}
                    </Text>
                    <CloseButton size="sm" aria-label={t("remove", { name: file.name })} onClick={() => setFiles((current) => current.filter((_, at) => at !== index))} />
                  </Group>
                ))}
              </Stack>
            )}
          </Stack>
          <Group gap="lg">
            <SettingSwitch
              label={t("track")}
              checked={trackValue}
              disabled={trackingOff}
              description={trackingOff ? t("trackOff") : undefined}
              onChange={(e) => setTrack(e.currentTarget.checked)}
            />
            <SettingSwitch label={t("log")} checked={logValue} onChange={(e) => setLog(e.currentTarget.checked)} />
          </Group>
          <Paper withBorder p="sm" component="section" aria-label={t("whatApplies")} bg={blocked ? "red.0" : undefined}>
            {checkError && !check ? (
              <Text size="sm" c="red">
                {t("checkFailed", { error: describeError(checkError) })}
              </Text>
            ) : (
              <WhatApplies check={recipients > 0 || check ? check : null} fetching={checking} />
            )}
          </Paper>
          {error && (
            <Alert color="red" title={t("sendFailed")} role="alert">
              {error}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose} disabled={sending.fetching}>
              {t("discard")}
            </Button>
            <Button type="submit" loading={sending.fetching} disabled={blocked || to.length === 0}>
              {t("send")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
