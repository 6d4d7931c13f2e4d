// The viewer's activity feed (R4) with live notifications over graphql-ws (R22): recent
// human opens, clicks and replies, new ones on top as they happen (ActivityFeed), desktop
// notifications on request, and the viewer's choice of what notifies them.
import { Badge, Button, Card, Group, Radio, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
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

// Each choice's words are activity.preferences.<value> (i18n).
const PREFERENCES: NotificationPreference[] = ["OPENS_AND_CLICKS", "OPENS", "CLICKS", "NONE"];

function LiveIndicator(props: { state: LiveState; muted: boolean; onReconnect: () => void }) {
  const { t } = useTranslation("activity");
  const { state, onReconnect } = props;
  const label = t(`live.${state}`);
  const explanation = t(`liveText.${state === "live" && props.muted ? "muted" : state}`);
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
          {t("reconnect")}
        </Button>
      )}
    </Group>
  );
}

function DesktopNotifications() {
  const { t } = useTranslation("activity", { keyPrefix: "desktop" });
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
    return <Text size="sm">{t("unsupported")}</Text>;
  }
  if (permission === "granted") {
    return (
      <Text size="sm" aria-live="polite">
        {t("granted")}
      </Text>
    );
  }
  if (permission === "denied") {
    return <Text size="sm">{t("denied")}</Text>;
  }
  return (
    <Group gap="sm">
      <Button variant="light" onClick={enable} loading={asking}>
        {t("enable")}
      </Button>
      <Text size="sm" c="dimmed">
        {t("enableText")}
      </Text>
    </Group>
  );
}

function PreferenceChoice({ current }: { current: NotificationPreference }) {
  const { t } = useTranslation("activity");
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
        title: t("changeFailed"),
        message: result.error ? describeError(result.error) : t("noAnswer"),
      });
      return;
    }
    notifications.show({ color: "green", title: t("saved"), message: t("savedText") });
  }

  return (
    <Radio.Group label={t("notifyMe")} value={choice} onChange={choose} aria-busy={saving.fetching}>
      <Stack gap="xs" mt="xs">
        {PREFERENCES.map((option) => (
          <Radio
            key={option}
            value={option}
            label={t(`preferences.${option}.label`)}
            description={t(`preferences.${option}.description`)}
            disabled={saving.fetching}
          />
        ))}
      </Stack>
    </Radio.Group>
  );
}

export function ActivityPage() {
  const { t } = useTranslation("activity");
  usePageTitle(t("title"));
  const [{ data, fetching, error }, refetch] = useQuery({ query: ActivityViewerQuery });
  const { state: socketState, reconnect } = useLiveActivity();

  let body;
  if (fetching && !data) {
    body = <Loading label={t("loading")} />;
  } else if (error || !data) {
    body = (
      <Failed
        title={t("loadFailed")}
        message={error ? describeError(error) : t("noAnswerLoad")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else {
    body = (
      <Stack gap="lg">
        <Card withBorder padding="md">
          <Stack gap="md">
            <Title order={2} size="h4">
              {t("notifications")}
            </Title>
            <DesktopNotifications />
            <PreferenceChoice current={data.viewer.notificationPreference} />
          </Stack>
        </Card>
        <section aria-labelledby="feed-title">
          <Title order={2} size="h3" id="feed-title" mb="sm">
            {t("recent")}
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
          {t("title")}
        </Title>
        <LiveIndicator
          state={socketState}
          muted={data?.viewer.notificationPreference === "NONE"}
          onReconnect={reconnect}
        />
      </Group>
      <Text c="dimmed">{t("intro")}</Text>
      {body}
    </Stack>
  );
}
