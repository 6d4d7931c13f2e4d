// Unsaved changes are never lost silently (issue 15, item 11): leaving a form with changes
// in it — a link, Back, another page, closing the tab — asks first. Within the admin the
// router's blocker asks in our own words; a reload or a closed tab gets the browser's own
// question (browsers no longer show a page's text there).
import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { useBlocker } from "react-router";

import { ConfirmDialog } from "./ConfirmDialog";

/** Asks before leaving while ``dirty``; ``what`` names the form ("tracking settings"). */
export function UnsavedChanges({ dirty, what }: { dirty: boolean; what: string }) {
  const { t } = useTranslation("shell");
  const blocker = useBlocker(({ currentLocation, nextLocation }) =>
    dirty && (currentLocation.pathname !== nextLocation.pathname || currentLocation.search !== nextLocation.search));

  useEffect(() => {
    if (!dirty) return;
    const ask = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      // Older browsers only ask when a value is set.
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", ask);
    return () => window.removeEventListener("beforeunload", ask);
  }, [dirty]);

  return (
    <ConfirmDialog
      opened={blocker.state === "blocked"}
      title={t("unsaved.title")}
      confirmLabel={t("unsaved.leave")}
      errorTitle=""
      error={null}
      busy={false}
      onCancel={() => blocker.reset?.()}
      onConfirm={() => blocker.proceed?.()}
    >
      {t("unsaved.text", { what })}
    </ConfirmDialog>
  );
}
