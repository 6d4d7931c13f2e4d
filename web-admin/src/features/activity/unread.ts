// Live activity the signed-in user has not seen yet (the count on the "Activity" link),
// kept in the browser per user, so that a reload or a second tab agrees. Engagement ids,
// not a counter: two tabs hear the same event, and it must count once.
import { useCallback, useSyncExternalStore } from "react";

import type { Session } from "../../api/auth";

/** Beyond this the badge says "99+" anyway; the list must not grow without end. */
const KEEP = 200;
const CHANGED = "sendtrail:unread-activity";

function keyOf(session: Session): string {
  return `sendtrail.unreadActivity.${session.accountId ?? "none"}.${session.email.toLowerCase()}`;
}

function read(key: string): string[] {
  try {
    const stored: unknown = JSON.parse(window.localStorage.getItem(key) ?? "[]");
    return Array.isArray(stored) ? stored.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return []; // storage blocked or damaged: nothing unread is a safe answer
  }
}

function write(key: string, ids: string[]): void {
  try {
    window.localStorage.setItem(key, JSON.stringify(ids.slice(-KEEP)));
  } catch {
    // Private mode with storage off: the badge simply stays at what this tab counted.
  }
  window.dispatchEvent(new Event(CHANGED));
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener(CHANGED, onChange); // this tab
  window.addEventListener("storage", onChange); // the user's other tabs
  return () => {
    window.removeEventListener(CHANGED, onChange);
    window.removeEventListener("storage", onChange);
  };
}

export interface Unread {
  count: number;
  /** New activity arrived while the user was elsewhere. */
  add: (ids: string[]) => void;
  /** The user is looking at the Activity page. */
  clear: () => void;
}

export function useUnread(session: Session): Unread {
  const key = keyOf(session);
  const count = useSyncExternalStore(subscribe, () => read(key).length);
  const add = useCallback(
    (ids: string[]) => {
      const known = read(key);
      const fresh = ids.filter((id) => !known.includes(id));
      if (fresh.length > 0) write(key, [...known, ...fresh]);
    },
    [key],
  );
  const clear = useCallback(() => {
    if (read(key).length > 0) write(key, []);
  }, [key]);
  return { count, add, clear };
}
