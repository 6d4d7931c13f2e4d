// The content of a logged email on its page (R23): what was logged by BCC, forwarding or
// logEmail, or the logged copy of a tracked email (R2). Nothing is shown for an email that
// was not logged: tracked-only emails keep no copy.
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "urql";

import { describeError } from "../../api/client";
import { graphql } from "../../gql";
import { Failed } from "../../shell/States";
import { MessageContent } from "../records/MessageContent";

const MessageQuery = graphql(`
  query EmailMessage($id: ID!) {
    email(id: $id) {
      id
      subject
      text
      htmlUrl
      attachments {
        id
        filename
        contentType
        size
        downloadUrl
      }
    }
  }
`);

export function LoggedMessage({ emailId, logged, children }: { emailId: string; logged: boolean; children: (body: ReactNode) => ReactNode }) {
  const { t } = useTranslation("emails", { keyPrefix: "message" });
  const [{ data, error }, refetch] = useQuery({ query: MessageQuery, variables: { id: emailId }, pause: !logged });
  if (!logged) return null;
  if (error) {
    return children(
      <Failed title={t("loadFailed")} message={describeError(error)} onRetry={() => refetch({ requestPolicy: "network-only" })} />,
    );
  }
  if (!data) return null;
  const message = data.email;
  if (!message.htmlUrl && !message.text && message.attachments.length === 0) return null;
  return children(<MessageContent message={message} height={360} />);
}
