// The viewer's activity feed (R4) with live notifications over graphql-ws (R22): recent
// human opens, clicks and replies, new ones on top as they happen (ActivityFeed), desktop
// notifications on request, and the viewer's choice of what notifies them.
import { Badge, Button, Card, Group, Radio, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useEffect, useState } from "react";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { NotificationPreference } from "../../gql/graphql";
import { Failed, Loading } from "../../shell/States";
import { usePageTitle } from "../../shell/usePageTitle";
import { ActivityFeed } from "./ActivityFeed";
import { type LiveState, supportsDesktop, useLiveActivity } from "./LiveActivity";

const ActivityViewerQuery = graphql(`
  query ActivityViewer {
    viewer {
      id
      notificationPreference
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

export function ActivityPage() {
  usePageTitle("Activity");
  const [{ data, fetching, error }, refetch] = useQuery({ query: ActivityViewerQuery });
  const { state: socketState, reconnect } = useLiveActivity();

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
          <ActivityFeed viewerId={data.viewer.id} />
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
