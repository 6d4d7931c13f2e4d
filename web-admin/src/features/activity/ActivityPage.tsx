// The viewer's activity feed (R4) with live notifications over graphql-ws (R22): recent
// human opens, clicks and replies, new ones on top as they happen, desktop notifications
// on request, and the viewer's choice of what notifies them.
import { Anchor, Badge, Button, Card, Group, Radio, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useEffect, useMemo, useState } from "react";
import { Link } from "react-router";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { EngagementType, NotificationPreference } from "../../gql/graphql";
import { Empty, Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { formatWhen, verbOf } from "../emails/labels";
import { type LiveState, supportsDesktop, useLiveActivity } from "./LiveActivity";

const FEED_SIZE = 30;

const ActivityQuery = graphql(`
  query Activity($first: Int!) {
    viewer {
      id
      notificationPreference
    }
    activityFeed(first: $first) {
      edges {
        node {
          id
          type
          occurredAt
          inferred
          inferredFrom
          recipient {
            id
            address
          }
          email {
            id
            subject
          }
          link {
            url
          }
        }
      }
    }
  }
`);


const UpdateNotificationPreference = graphql(`
  mutation UpdateNotificationPreference($preference: NotificationPreference!) {
    updateNotificationPreference(preference: $preference) {
      id
      notificationPreference
    }
  }
`);

interface Row {
  id: string;
  type: EngagementType;
  occurredAt: string;
  who: string;
  emailId: string;
  subject: string;
  linkUrl: string | null;
  note: string | null;
  live: boolean;
}

const PREFERENCES: { value: NotificationPreference; label: string; description: string }[] = [
  { value: "OPENS_AND_CLICKS", label: "Opens and clicks", description: "Clicks need a paid Sales seat." },
  { value: "OPENS", label: "Opens only", description: "Clicks still join the feed below, after a reload." },
  {
    value: "CLICKS",
    label: "Clicks only",
    description: "Clicks need a paid Sales seat. Opens still join the feed below, after a reload.",
  },
  { value: "NONE", label: "Nothing", description: "New activity joins the feed below after a reload." },
];


function LiveIndicator(props: { state: LiveState; muted: boolean; onReconnect: () => void }) {
  const { state, onReconnect } = props;
  const label = { live: "Live", connecting: "Connecting…", down: "Not live", offline: "Offline", off: "Not live" }[state];
  const explanation = {
    live: props.muted
      ? "You chose no notifications: new activity shows after a reload."
      : "New activity appears here as it happens.",
    connecting: "Opening the live connection; new activity will appear as it happens.",
    down: "The live connection closed; new activity shows after a reload.",
    offline: "This device is offline; new activity shows once it is back.",
    off: "Live activity is for the account's users.",
  }[state];
  return (
    <Group gap="xs" role="status" aria-live="polite" wrap="nowrap">
      <Badge color={state === "live" ? "green" : "gray"} variant="dot" size="lg">
        {label}
      </Badge>
      <Text size="sm" c="dimmed" visibleFrom="sm">
        {explanation}
      </Text>
      {state === "down" && (
        <Button size="xs" variant="light" onClick={onReconnect}>
          Reconnect
        </Button>
      )}
    </Group>
  );
}

function DesktopNotifications() {
  const [permission, setPermission] = useState<NotificationPermission | "unsupported">(
    supportsDesktop ? Notification.permission : "unsupported",
  );
  const [asking, setAsking] = useState(false);

  async function enable() {
    setAsking(true);
    try {
      setPermission(await Notification.requestPermission());
    } finally {
      setAsking(false);
    }
  }

  if (permission === "unsupported") {
    return <Text size="sm">This browser can't show desktop notifications.</Text>;
  }
  if (permission === "granted") {
    return (
      <Text size="sm" aria-live="polite">
        Desktop notifications are on while Sendtrail is open in this tab, on any page.
      </Text>
    );
  }
  if (permission === "denied") {
    return <Text size="sm">Desktop notifications are blocked; allow them in the browser's site settings.</Text>;
  }
  return (
    <Group gap="sm">
      <Button variant="light" onClick={enable} loading={asking}>
        Enable desktop notifications
      </Button>
      <Text size="sm" c="dimmed">
        Get a notification for each open and click while Sendtrail is open in this tab.
      </Text>
    </Group>
  );
}

function PreferenceChoice({ current }: { current: NotificationPreference }) {
  const [saving, save] = useMutation(UpdateNotificationPreference);
  const [choice, setChoice] = useState<NotificationPreference>(current);
  useEffect(() => setChoice(current), [current]);

  async function choose(value: string) {
    const preference = value as NotificationPreference;
    const before = choice;
    setChoice(preference);
    const result = await save({ preference });
    if (result.error || !result.data) {
      setChoice(before);
      notifications.show({
        color: "red",
        title: "Couldn't change your notifications",
        message: result.error ? describeError(result.error) : "The server did not answer.",
      });
      return;
    }
    notifications.show({ color: "green", title: "Saved", message: "Your notification choice is saved." });
  }

  return (
    <Radio.Group label="Notify me about" value={choice} onChange={choose} aria-busy={saving.fetching}>
      <Stack gap="xs" mt="xs">
        {PREFERENCES.map((option) => (
          <Radio
            key={option.value}
            value={option.value}
            label={option.label}
            description={option.description || undefined}
            disabled={saving.fetching}
          />
        ))}
      </Stack>
    </Radio.Group>
  );
}

function FeedRow({ row }: { row: Row }) {
  return (
    <Card withBorder padding="sm" component="li" data-testid="activity-row">
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="xs">
        <Text style={{ overflowWrap: "anywhere" }}>
          <strong>{row.who}</strong> {verbOf(row.type)}{" "}
          <Anchor component={Link} to={`/emails/${row.emailId}`}>
            {`\u201c${row.subject}\u201d`}
          </Anchor>
        </Text>
        <Group gap="xs">
          {row.live && (
            <Badge color="blue" variant="light">
              New
            </Badge>
          )}
          <Text size="sm" c="dimmed" component="time" dateTime={row.occurredAt}>
            {formatWhen(row.occurredAt)}
          </Text>
        </Group>
      </Group>
      {row.linkUrl && (
        <Text size="sm" c="dimmed" style={{ overflowWrap: "anywhere" }}>
          Link: {row.linkUrl}
        </Text>
      )}
      {row.note && (
        <Text size="sm" c="dimmed">
          {row.note}
        </Text>
      )}
    </Card>
  );
}

export function ActivityPage() {
  usePageTitle("Activity");
  const [{ data, fetching, error }, refetch] = useQuery({ query: ActivityQuery, variables: { first: FEED_SIZE } });
  const { events: live, state: socketState, reconnect } = useLiveActivity();

  const rows = useMemo<Row[]>(() => {
    const seen = new Set<string>();
    const all: Row[] = [];
    for (const event of live) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      all.push({
        id: event.id,
        type: event.type,
        occurredAt: event.occurredAt,
        who: event.who,
        emailId: event.emailId,
        subject: event.emailSubject,
        linkUrl: event.linkUrl ?? null,
        note: null,
        live: true,
      });
    }
    for (const { node } of data?.activityFeed.edges ?? []) {
      if (seen.has(node.id)) continue;
      seen.add(node.id);
      all.push({
        id: node.id,
        type: node.type,
        occurredAt: node.occurredAt,
        who: node.recipient?.address ?? "Someone",
        emailId: node.email.id,
        subject: node.email.subject,
        linkUrl: node.link?.url ?? null,
        note: node.inferred
          ? `Inferred open: no pixel loaded, but the recipient ${node.inferredFrom === "REPLY" ? "replied" : "clicked a link"}.`
          : null,
        live: false,
      });
    }
    return all;
  }, [live, data]);


  let body;
  if (fetching && !data) {
    body = <Loading label="Loading your activity…" />;
  } else if (error || !data) {
    body = (
      <Failed
        title="Couldn't load your activity"
        message={error ? describeError(error) : "No answer from the server."}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else {
    body = (
      <Stack gap="lg">
        <Card withBorder padding="md">
          <Stack gap="md">
            <Title order={2} size="h4">
              Notifications
            </Title>
            <DesktopNotifications />
            <PreferenceChoice current={data.viewer.notificationPreference} />
          </Stack>
        </Card>
        <section aria-labelledby="feed-title">
          <Title order={2} size="h3" id="feed-title" mb="sm">
            Recent activity
          </Title>
          {rows.length === 0 ? (
            <Empty title="No activity yet">
              Opens, clicks and replies by people on the emails you send appear here, as they happen. Machines
              (scanners, proxies) and your own opens are never listed.
            </Empty>
          ) : (
            <Stack component="ol" gap="xs" p={0} m={0} style={{ listStyle: "none" }} aria-label="Activity" aria-live="polite">
              {rows.map((row) => (
                <FeedRow key={row.id} row={row} />
              ))}
            </Stack>
          )}
        </section>
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap" gap="sm">
        <Title order={1} size="h2">
          Activity
        </Title>
        <LiveIndicator
          state={socketState}
          muted={data?.viewer.notificationPreference === "NONE"}
          onReconnect={reconnect}
        />
      </Group>
      <Text c="dimmed">People opening, clicking and replying to the emails you sent, newest first.</Text>
      {body}
    </Stack>
  );
}
