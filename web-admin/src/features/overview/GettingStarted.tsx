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
import { useTranslation } from "react-i18next";
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

/** Which of a step's words exist (i18n/en.ts, overview.gettingStarted.<STEP>). */
const HAS: Record<GettingStartedStepId, { forAdmins: boolean; link?: string }> = {
  OUTBOUND_MAIL: { forAdmins: true, link: "/settings/outbound" },
  MAIL_CLIENT: { forAdmins: false },
  FIRST_EMAIL: { forAdmins: false, link: "/contacts" },
  INVITE_COLLEAGUE: { forAdmins: true, link: "/settings/users" },
  TRACKING_DOMAIN: { forAdmins: true, link: "/settings/domains" },
};

function hiddenKey(account: string | null, email: string): string {
  return `sendtrail.gettingStarted.hidden.${account ?? ""}.${email}`;
}

function Copyable({ label, value }: { label: string; value: string }) {
  const { t } = useTranslation("overview", { keyPrefix: "gettingStarted.relay" });
  return (
    <Table.Tr>
      <Table.Th scope="row">{label}</Table.Th>
      <Table.Td style={{ overflowWrap: "anywhere" }}>
        <Code>{value}</Code>
      </Table.Td>
      <Table.Td>
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Button size="compact-xs" variant="light" color={copied ? "teal" : undefined} onClick={copy} aria-label={t("copyLabel", { what: label })}>
              {copied ? t("copied") : t("copy")}
            </Button>
          )}
        </CopyButton>
      </Table.Td>
    </Table.Tr>
  );
}

/** Where each mail client keeps its outgoing server, in its own menu's words. */
const CLIENTS = [
  { id: "thunderbird", name: "Thunderbird" },
  { id: "outlook", name: "Outlook" },
  { id: "apple", name: "Apple Mail" },
  { id: "gmail", name: "Gmail" },
] as const;

function RelayPassword() {
  const { t } = useTranslation("overview", { keyPrefix: "gettingStarted.relay" });
  const [created, create] = useMutation(CreateRelayPassword);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function make() {
    setError(null);
    const result = await create({ input: { name: t("passwordName"), scopes: ["SEND"] } });
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error) : t("noAnswer"));
      return;
    }
    setSecret(result.data.createApiToken.secret);
  }

  if (secret) {
    return (
      <Alert color="teal" title={t("passwordShown")}>
        <Stack gap="xs">
          <Code block style={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }} aria-label={t("password")}>
            {secret}
          </Code>
          <Group gap="xs">
            <CopyButton value={secret}>
              {({ copied, copy }) => (
                <Button size="xs" variant="light" color={copied ? "teal" : undefined} onClick={copy}>
                  {copied ? t("copied") : t("copyPassword")}
                </Button>
              )}
            </CopyButton>
            <Text size="sm">{t("passwordNote")}</Text>
          </Group>
        </Stack>
      </Alert>
    );
  }
  return (
    <Stack gap={4} align="flex-start">
      <Text size="sm">{t("passwordIntro")}</Text>
      <Button size="xs" variant="light" loading={created.fetching} onClick={make}>
        {t("createPassword")}
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
  const { t } = useTranslation("overview", { keyPrefix: "gettingStarted.relay" });
  if (!relay) return <Text size="sm">{t("off")}</Text>;
  const security = relay.starttls ? "STARTTLS" : t("noneSecurity");
  const values = {
    host: relay.host,
    port: relay.port,
    username: relay.username,
    security,
  };
  const lines: Record<(typeof CLIENTS)[number]["id"], readonly string[]> = {
    thunderbird: t("thunderbird", { returnObjects: true, ...values }),
    outlook: t("outlook", { returnObjects: true, ...values }),
    apple: t("apple", { returnObjects: true, ...values, tls: relay.starttls ? t("appleTls") : t("appleNoTls") }),
    gmail: t("gmail", { returnObjects: true, ...values, tls: relay.starttls ? t("gmailTls") : t("gmailNoTls") }),
  };
  return (
    <Stack gap="sm">
      <Table withRowBorders={false} verticalSpacing={4} aria-label={t("signIn")} style={{ tableLayout: "auto" }}>
        <Table.Tbody>
          <Copyable label={t("server")} value={relay.host} />
          <Copyable label={t("port")} value={String(relay.port)} />
          <Copyable label={t("security")} value={relay.starttls ? "STARTTLS" : t("securityNone")} />
          <Copyable label={t("username")} value={relay.username} />
        </Table.Tbody>
      </Table>
      <RelayPassword />
      <Tabs defaultValue="thunderbird" keepMounted={false}>
        <Tabs.List aria-label={t("clients")}>
          {CLIENTS.map((client) => (
            <Tabs.Tab value={client.id} key={client.id}>
              {client.name}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {CLIENTS.map((client) => (
          <Tabs.Panel value={client.id} key={client.id} pt="xs">
            <List type="ordered" size="sm" spacing={2}>
              {lines[client.id].map((line) => (
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
  const { t } = useTranslation("overview", { keyPrefix: "gettingStarted" });
  const has = HAS[id];
  // Keys are checked against en.ts: each step's title and todo, and forAdmins/link where HAS says.
  const words = (key: "title" | "todo" | "forAdmins" | "link") => t(`${id}.${key}` as "OUTBOUND_MAIL.title");
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
          {words("title")}
          <Text span size="sm" fw={400} c={done ? "teal.8" : "dimmed"}>
            {done ? t("done") : t("todo")}
          </Text>
        </Text>
        {!done && (
          <>
            <Text size="sm">{canTake || !has.forAdmins ? words("todo") : words("forAdmins")}</Text>
            {canTake && has.link && (
              <Anchor component={Link} to={has.link} size="sm">
                {words("link")}
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
  const { t } = useTranslation("overview", { keyPrefix: "gettingStarted" });
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
              {t("title")}
            </Title>
            <Text size="sm" c="dimmed">
              {t("progress", { done, total: steps.length })}
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
            {t("hide")}
          </Button>
        </Group>
        <Progress value={(done / steps.length) * 100} aria-label={t("progressLabel", { done, total: steps.length })} />
        <List spacing="md" center={false} aria-label={t("steps")}>
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
