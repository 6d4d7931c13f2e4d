// One email of an inspected account, for support staff (R25): the account's own email page,
// read through the console's client (every read audited, nothing to change), so that the
// console's links open the email rather than "Email not found" (staff have no account).
import { Stack } from "@mantine/core";

import { EmailPage } from "../emails/EmailPage";
import { SupportAccountFrame } from "./SupportFrame";

export function SupportEmailPage() {
  return (
    <Stack gap="md">
      <SupportAccountFrame>
        <EmailPage />
      </SupportAccountFrame>
    </Stack>
  );
}
