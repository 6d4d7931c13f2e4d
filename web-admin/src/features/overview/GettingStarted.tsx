// The first run's checklist on the Overview (issue 15, item 8): connect outbound mail,
// point a mail client at the relay, send a first tracked email, invite a colleague, add a
// tracking domain. Each step is read from what exists (gettingStarted), so it ticks itself;
// the card goes away when every step is done, or when the person hides it.
import {
  Alert,
  Anchor,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  List,
  Progress,
  Stack,
  Table,
  Tabs,
  Text,
  ThemeIcon,
  Title,
} from "@mantine/core";
import { type ReactNode, useState } from "react";
import { Link } from "react-router";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { GettingStartedQuery, GettingStartedStepId } from "../../gql/graphql";
import { useSignedIn } from "../session/SessionProvider";

const GettingStartedDocument = graphql(`
  query GettingStarted {
    gettingStarted {
      complete
      steps {
        id
        done
        adminOnly
      }
      relay {
        host
        port
        starttls
        username
      }
    }
  }
`);

const CreateRelayPassword = graphql(`
  mutation CreateRelayPassword($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      secret
      apiToken {
        id
      }
    }
  }
`);

type Relay = NonNullable<GettingStartedQuery["gettingStarted"]["relay"]>;

interface StepText {
  title: string;
  /** What to do, for whoever can do it. */
  todo: string;
  /** For a user who is not an admin, when only an admin can take the step. */
  forAdmins?: string;
  link?: { to: string; label: string };
}

const STEPS: Record<GettingStartedStepId, StepText> = {
  OUTBOUND_MAIL: {
    title: "Connect your outbound mail",
    todo: "Emails leave through your own mail server, so your SPF, DKIM and Sent folder stay yours.",
    forAdmins: "An admin connects the account's mail server; you can send once it is done.",
    link: { to: "/settings/outbound", label: "Set up outbound mail" },
  },
  MAIL_CLIENT: {
    title: "Point your mail client at the relay",
    todo: "Send from Thunderbird, Outlook, Apple Mail or Gmail as usual: every recipient gets their own tracked copy.",
  },
  FIRST_EMAIL: {
    title: "Send a first tracked email from a contact",
    todo: "Open a contact and choose “Email”, or write one from Emails with “New email”.",
    link: { to: "/contacts", label: "Open your contacts" },
  },
  INVITE_COLLEAGUE: {
    title: "Invite a colleague",
    todo: "Give your team their own sign-in, role and seat.",
    forAdmins: "An admin invites colleagues to the account.",
    link: { to: "/settings/users", label: "Invite someone" },
  },
  TRACKING_DOMAIN: {
    title: "Add a tracking domain",
    todo: "Pixels and links on your own domain look like yours and reach more inboxes.",
    forAdmins: "An admin adds the account's tracking domains.",
    link: { to: "/settings/domains", label: "Add a domain" },
  },
};

function hiddenKey(account: string | null, email: string): string {
  return `sendtrail.gettingStarted.hidden.${account ?? ""}.${email}`;
}

function Copyable({ label, value }: { label: string; value: string }) {
  return (
    <Table.Tr>
      <Table.Th scope="row">{label}</Table.Th>
      <Table.Td style={{ overflowWrap: "anywhere" }}>
        <Code>{value}</Code>
      </Table.Td>
      <Table.Td>
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Button size="compact-xs" variant="light" color={copied ? "teal" : undefined} onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>
              {copied ? "Copied" : "Copy"}
            </Button>
          )}
        </CopyButton>
      </Table.Td>
    </Table.Tr>
  );
}

/** Where each mail client keeps its outgoing server, in its own menu's words. */
const CLIENTS: { id: string; name: string; steps: (relay: Relay) => string[] }[] = [
  {
    id: "thunderbird",
    name: "Thunderbird",
    steps: (relay) => [
      "Settings → Account Settings → Outgoing Server (SMTP) → Add.",
      `Server name ${relay.host}, port ${relay.port}, connection security ${relay.starttls ? "STARTTLS" : "None"}.`,
      `Authentication method “Normal password”, user name ${relay.username}.`,
      "Choose this server for your account (Account Settings → your account → Outgoing Server).",
    ],
  },
  {
    id: "outlook",
    name: "Outlook",
    steps: (relay) => [
      "File → Account Settings → Account Settings → your account → Change → More Settings.",
      `Outgoing server: “My outgoing server (SMTP) requires authentication”, with user name ${relay.username}.`,
      `Advanced: outgoing server (SMTP) ${relay.host}, port ${relay.port}, encrypted connection ${relay.starttls ? "STARTTLS" : "None"}.`,
    ],
  },
  {
    id: "apple",
    name: "Apple Mail",
    steps: (relay) => [
      "Mail → Settings → Accounts → your account → Server Settings.",
      `Outgoing Mail Server (SMTP): Edit SMTP Server List → add ${relay.host}.`,
      `Untick “Automatically manage connection settings”; port ${relay.port}, ${relay.starttls ? "Use TLS/SSL" : "no TLS"}, authentication Password, user name ${relay.username}.`,
    ],
  },
  {
    id: "gmail",
    name: "Gmail",
    steps: (relay) => [
      "Settings → See all settings → Accounts and Import → Send mail as → Add another email address (or edit yours).",
      `SMTP Server ${relay.host}, port ${relay.port}, user name ${relay.username}, ${relay.starttls ? "secured connection using TLS" : "unsecured connection"}.`,
      "Gmail sends one verification email through the relay: open it to confirm.",
    ],
  },
];

function RelayPassword() {
  const [created, create] = useMutation(CreateRelayPassword);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function make() {
    setError(null);
    const result = await create({ input: { name: "Mail client (relay)", scopes: ["SEND"] } });
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error) : "The server did not answer.");
      return;
    }
    setSecret(result.data.createApiToken.secret);
  }

  if (secret) {
    return (
      <Alert color="teal" title="Your relay password (shown once)">
        <Stack gap="xs">
          <Code block style={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }} aria-label="Relay password">
            {secret}
          </Code>
          <Group gap="xs">
            <CopyButton value={secret}>
              {({ copied, copy }) => (
                <Button size="xs" variant="light" color={copied ? "teal" : undefined} onClick={copy}>
                  {copied ? "Copied" : "Copy password"}
                </Button>
              )}
            </CopyButton>
            <Text size="sm">It can only send mail as you. Revoke it any time under API tokens.</Text>
          </Group>
        </Stack>
      </Alert>
    );
  }
  return (
    <Stack gap={4} align="flex-start">
      <Text size="sm">The password is an API token that can only send mail as you.</Text>
      <Button size="xs" variant="light" loading={created.fetching} onClick={make}>
        Create a relay password
      </Button>
      {error && (
        <Text size="sm" c="red" role="alert">
          {error}
        </Text>
      )}
    </Stack>
  );
}

function RelaySetup({ relay }: { relay: Relay | null | undefined }) {
  if (!relay) {
    return (
      <Text size="sm">
        The relay is off on this server: whoever runs Sendtrail turns it on with <Code>SENDTRAIL_SUBMISSION_PORT</Code>.
      </Text>
    );
  }
  return (
    <Stack gap="sm">
      <Table withRowBorders={false} verticalSpacing={4} aria-label="Relay sign-in" style={{ tableLayout: "auto" }}>
        <Table.Tbody>
          <Copyable label="Server" value={relay.host} />
          <Copyable label="Port" value={String(relay.port)} />
          <Copyable label="Security" value={relay.starttls ? "STARTTLS" : "None (this computer only)"} />
          <Copyable label="User name" value={relay.username} />
        </Table.Tbody>
      </Table>
      <RelayPassword />
      <Tabs defaultValue="thunderbird" keepMounted={false}>
        <Tabs.List aria-label="Mail clients">
          {CLIENTS.map((client) => (
            <Tabs.Tab value={client.id} key={client.id}>
              {client.name}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {CLIENTS.map((client) => (
          <Tabs.Panel value={client.id} key={client.id} pt="xs">
            <List type="ordered" size="sm" spacing={2}>
              {client.steps(relay).map((line) => (
                <List.Item key={line} style={{ overflowWrap: "anywhere" }}>
                  {line}
                </List.Item>
              ))}
            </List>
          </Tabs.Panel>
        ))}
      </Tabs>
    </Stack>
  );
}

function StepItem({ id, done, canTake, children }: { id: GettingStartedStepId; done: boolean; canTake: boolean; children?: ReactNode }) {
  const text = STEPS[id];
  return (
    <List.Item
      data-step={id}
      data-done={done}
      icon={
        <ThemeIcon size={22} radius="xl" color={done ? "teal" : "gray"} variant={done ? "filled" : "light"} aria-hidden>
          {done ? "✓" : "·"}
        </ThemeIcon>
      }
    >
      <Stack gap={4}>
        <Text fw={600} td={done ? "line-through" : undefined}>
          {text.title}
          <Text span size="sm" fw={400} c={done ? "teal.8" : "dimmed"}>
            {done ? " — done" : " — to do"}
          </Text>
        </Text>
        {!done && (
          <>
            <Text size="sm">{canTake ? text.todo : (text.forAdmins ?? text.todo)}</Text>
            {canTake && text.link && (
              <Anchor component={Link} to={text.link.to} size="sm">
                {text.link.label}
              </Anchor>
            )}
            {canTake && children}
          </>
        )}
      </Stack>
    </List.Item>
  );
}

export function GettingStarted() {
  const session = useSignedIn();
  const key = hiddenKey(session.accountId, session.email);
  const [hidden, setHidden] = useState(() => window.localStorage.getItem(key) === "1");
  // Fresh on every visit: a step done elsewhere ticks itself when the person comes back.
  const [{ data }] = useQuery({ query: GettingStartedDocument, requestPolicy: "cache-and-network", pause: hidden || session.isStaff });
  if (hidden || session.isStaff || !data || data.gettingStarted.complete) return null;

  const { steps, relay } = data.gettingStarted;
  const done = steps.filter((step) => step.done).length;
  const isAdmin = session.role === "ADMIN";
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="getting-started-title">
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" gap="xs">
          <Stack gap={2}>
            <Title order={2} size="h3" id="getting-started-title">
              Get started
            </Title>
            <Text size="sm" c="dimmed">
              {done} of {steps.length} done. Each step ticks itself once it is done.
            </Text>
          </Stack>
          <Button
            variant="subtle"
            size="xs"
            onClick={() => {
              window.localStorage.setItem(key, "1");
              setHidden(true);
            }}
          >
            Hide the checklist
          </Button>
        </Group>
        <Progress value={(done / steps.length) * 100} aria-label={`${done} of ${steps.length} steps done`} />
        <List spacing="md" center={false} aria-label="Getting started steps">
          {steps.map((step) => (
            <StepItem key={step.id} id={step.id} done={step.done} canTake={!step.adminOnly || isAdmin}>
              {step.id === "MAIL_CLIENT" && <RelaySetup relay={relay} />}
            </StepItem>
          ))}
        </List>
      </Stack>
    </Card>
  );
}
