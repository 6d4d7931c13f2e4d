// The signed-in user's own defaults for new emails (R2): track and log, each following the
// account's default or set on or off. Any user may change their own; saved on each choice.
import { Card, Group, Radio, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import type { EmailDefault, EmailDefaultsInput } from "../../gql/graphql";
import i18n from "../../i18n";
import { Failed, Loading } from "../../shell/States";

const MyDefaultsQuery = graphql(`
  query MyEmailDefaults {
    viewer {
      id
      defaultTrack
      defaultLog
    }
    account {
      id
      settings {
        defaultTrack
        defaultLog
      }
    }
  }
`);

const UpdateMyDefaults = graphql(`
  mutation UpdateEmailDefaults($input: EmailDefaultsInput!) {
    updateEmailDefaults(input: $input) {
      id
      defaultTrack
      defaultLog
    }
  }
`);

function Choice(props: {
  label: string;
  description: string;
  value: EmailDefault;
  accountDefault: boolean;
  disabled: boolean;
  /** Saves the choice; false if it was not saved (the choice then goes back). */
  onChange: (value: EmailDefault) => Promise<boolean>;
}) {
  const { t } = useTranslation("tracking", { keyPrefix: "mine" });
  // Shown at once; the saved value returns if saving fails.
  const [choice, setChoice] = useState(props.value);
  useEffect(() => setChoice(props.value), [props.value]);
  async function choose(value: string) {
    setChoice(value as EmailDefault);
    if (!(await props.onChange(value as EmailDefault))) setChoice(props.value);
  }
  return (
    <Radio.Group label={props.label} description={props.description} value={choice} onChange={choose}>
      <Group gap="md" mt="xs">
        <Radio value="ACCOUNT" label={t("asAccount", { state: props.accountDefault ? t("accountOn") : t("accountOff") })} disabled={props.disabled} />
        <Radio value="ON" label={t("on")} disabled={props.disabled} />
        <Radio value="OFF" label={t("off")} disabled={props.disabled} />
      </Group>
    </Radio.Group>
  );
}

export function MyEmailDefaults() {
  const { t } = useTranslation("tracking", { keyPrefix: "mine" });
  const [{ data, fetching, error }, refetch] = useQuery({ query: MyDefaultsQuery });
  const [saving, save] = useMutation(UpdateMyDefaults);

  async function change(input: EmailDefaultsInput): Promise<boolean> {
    const result = await save({ input });
    const saved = !result.error && Boolean(result.data);
    notifications.show(
      saved
        ? { color: "green", title: t("saved"), message: t("savedText") }
        : {
            color: "red",
            title: t("saveFailed"),
            message: result.error ? describeError(result.error) : i18n.t("tracking:noAnswer"),
          },
    );
    return saved;
  }

  let body;
  if (fetching && !data) {
    body = <Loading label={t("loading")} />;
  } else if (error || !data) {
    body = (
      <Failed
        title={t("loadFailed")}
        message={error ? describeError(error) : i18n.t("tracking:noAnswerLoad")}
        onRetry={() => refetch({ requestPolicy: "network-only" })}
      />
    );
  } else {
    const account = data.account.settings;
    body = (
      <Stack gap="md">
        <Choice
          label={t("track")}
          description={t("trackText")}
          value={data.viewer.defaultTrack}
          accountDefault={account.defaultTrack}
          disabled={saving.fetching}
          onChange={(track) => change({ track })}
        />
        <Choice
          label={t("log")}
          description={t("logText")}
          value={data.viewer.defaultLog}
          accountDefault={account.defaultLog}
          disabled={saving.fetching}
          onChange={(log) => change({ log })}
        />
      </Stack>
    );
  }

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="my-email-defaults">
      <Title order={2} size="h4" id="my-email-defaults">
        {t("title")}
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        {t("intro")}
      </Text>
      {body}
    </Card>
  );
}
