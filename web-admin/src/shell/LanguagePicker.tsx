// Choose the admin's language (issue 15, item 12). The choice is kept in the browser; the
// page reloads so that every date and number already on it is written the new way too.
import { NativeSelect } from "@mantine/core";
import { useTranslation } from "react-i18next";

import i18n, { LANGUAGES, type Language, currentLanguage } from "../i18n";

export function LanguagePicker() {
  const { t } = useTranslation("shell");
  return (
    <NativeSelect
      size="xs"
      aria-label={t("language")}
      value={currentLanguage()}
      data={(Object.keys(LANGUAGES) as Language[]).map((value) => ({ value, label: LANGUAGES[value] }))}
      onChange={(event) => {
        void i18n.changeLanguage(event.currentTarget.value).then(() => window.location.reload());
      }}
    />
  );
}
