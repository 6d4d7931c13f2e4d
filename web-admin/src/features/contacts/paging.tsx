// Cursor paging for a table: the cursors of the pages before this one, so Previous works
// without asking the server to page backwards.
import { Button, Group, Text } from "@mantine/core";
import { useCallback, useState } from "react";
import { useTranslation } from "react-i18next";

import { formatDateTime } from "../../i18n/format";

export interface CursorPages {
  after: string | null;
  page: number;
  next: (endCursor: string | null | undefined) => void;
  previous: () => void;
  reset: () => void;
}

export function useCursorPages(): CursorPages {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const next = useCallback((endCursor: string | null | undefined) => {
    if (endCursor) setStack((current) => [...current, endCursor]);
  }, []);
  const previous = useCallback(() => setStack((current) => (current.length > 1 ? current.slice(0, -1) : current)), []);
  const reset = useCallback(() => setStack([null]), []);
  return { after: stack[stack.length - 1] ?? null, page: stack.length, next, previous, reset };
}

export function Pager({
  pages,
  hasNextPage,
  endCursor,
  label,
}: {
  pages: CursorPages;
  hasNextPage: boolean;
  endCursor: string | null | undefined;
  label: string;
}) {
  const { t } = useTranslation("contacts");
  if (pages.page === 1 && !hasNextPage) return null;
  return (
    <Group gap="sm" component="nav" aria-label={label}>
      <Button variant="default" size="xs" disabled={pages.page === 1} onClick={pages.previous}>
        {t("pager.previous")}
      </Button>
      <Text size="sm" aria-live="polite">
        {t("pager.page", { page: pages.page })}
      </Text>
      <Button variant="default" size="xs" disabled={!hasNextPage} onClick={() => pages.next(endCursor)}>
        {t("pager.next")}
      </Button>
    </Group>
  );
}

/** A server timestamp for people, in the reader's language; "—" when there is none. */
export function when(value: string | null | undefined): string {
  return formatDateTime(value);
}
