// The Overview: who is signed in, and the engagement report of their emails (admins can
// switch to the whole account's).
import { Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useQuery } from "urql";

import { graphql } from "../../gql";
import { usePageTitle } from "../../shell/usePageTitle";
import { EngagementReportView } from "./EngagementReportView";
import { GettingStarted } from "./GettingStarted";

const OverviewDocument = graphql(`
  query Overview {
    viewer {
      id
      name
      email
      role
    }
    account {
      id
      name
      loggingAddress
    }
  }
`);

export function OverviewPage() {
  const { t } = useTranslation("overview");
  usePageTitle(t("title"));
  // The report loads at the same time; this only adds who is signed in, and the admin's choice.
  const [{ data }] = useQuery({ query: OverviewDocument });
  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        {t("title")}
      </Title>
      <GettingStarted />
      <EngagementReportView
        accountName={data?.account.name ?? "your account"}
        chooseScope={data?.viewer.role === "ADMIN"}
        scope="MINE"
      />
      {data && (
        <Text size="sm" c="dimmed" style={{ overflowWrap: "anywhere" }}>
          {t("signedInAs", { who: data.viewer.name ?? data.viewer.email, account: data.account.name, address: data.account.loggingAddress })}
        </Text>
      )}
    </Stack>
  );
}
