// Live notifications (R22) for the whole signed-in app, not just the Activity page: one
// subscription per tab; for each HUMAN open, click or reply (the server sends nothing else,
// R10) a toast on whatever page the sender is, a count on the "Activity" link until they
// look, and a desktop notification if they asked for one; the socket's state for the feed.
import { type ReactNode, createContext, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { Anchor, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { Trans } from "react-i18next";
import { useLocation, useNavigate } from "react-router";
import { useSubscription } from "urql";

import { socketStatus } from "../../api/client";
import { graphql } from "../../gql";
import type { DeliveryNotificationsSubscription, EngagementNotificationsSubscription } from "../../gql/graphql";
import i18n from "../../i18n";
import { useSignedIn } from "../session/SessionProvider";
import { useUnread } from "./unread";

const LIVE_KEEP = 100;

const EngagementNotifications = graphql(`
  subscription EngagementNotifications {
    engagementNotifications {
      id
      type
      occurredAt
      who
      contactName
      emailId
      emailSubject
      linkUrl
      message
      reclassified
    }
  }
`);

const DeliveryNotifications = graphql(`
  subscription DeliveryNotifications {
    deliveryNotifications {
      emailId
      emailSubject
      recipient
      reason
      message
    }
  }
`);

type DeliveryFailure = DeliveryNotificationsSubscription["deliveryNotifications"];

/** A copy that failed for good (R27): a toast on whatever page the sender is, and a
 * desktop notification when allowed; either opens the email's delivery status. */
function DeliveryFailures() {
  const navigate = useNavigate();
  const [subscription] = useSubscription<DeliveryNotificationsSubscription, DeliveryFailure[]>(
    { query: DeliveryNotifications },
    (previous = [], event) => [event.deliveryNotifications, ...previous].slice(0, LIVE_KEEP),
  );
  const shown = useRef(new Set<string>());
  useEffect(() => {
    for (const failure of subscription.data ?? []) {
      const key = `${failure.emailId}/${failure.recipient}`;
      if (shown.current.has(key)) continue;
      shown.current.add(key);
      const open = () => navigate(`/emails/${failure.emailId}`);
      notifications.show({
        color: "red",
        title: i18n.t("activity:toast.notDelivered"),
        message: failure.message,
        autoClose: false,
        onClick: open,
        style: { cursor: "pointer" },
      });
      if (supportsDesktop && Notification.permission === "granted") {
        const desktop = new Notification(i18n.t("activity:toast.notDeliveredDesktop"), { body: failure.message, tag: key });
        desktop.onclick = open;
      }
    }
  }, [subscription.data, navigate]);
  return null;
}

export type LiveEvent = EngagementNotificationsSubscription["engagementNotifications"];
export type LiveState = "live" | "connecting" | "down" | "offline" | "off";

interface LiveActivityApi {
  /** Newest first, at most LIVE_KEEP. */
  events: LiveEvent[];
  state: LiveState;
  reconnect: () => void;
  /** Live activity that arrived while the user was not on the Activity page. */
  unread: number;
}

const LiveContext = createContext<LiveActivityApi>({ events: [], state: "off", reconnect: () => undefined, unread: 0 });

/** Who did it, as the feed names people: the contact's name when known (issue 15, item 7). */
export function whoOf(event: LiveEvent): string {
  return event.contactName ?? event.who;
}

/** More at once than this (a burst after a reconnect, a forwarded email) is one toast. */
const TOASTS_AT_ONCE = 3;
const TOAST_SECONDS = 10;

/** A toast on any page; clicking it (or its link, from the keyboard) opens the email. */
function toast(event: LiveEvent, open: (path: string) => void) {
  const id = `engagement-${event.id}`;
  const path = `/emails/${event.emailId}`;
  notifications.show({
    id,
    color: "blue",
    title: i18n.t(`activity:toast.${event.type}`),
    message: (
      <Text size="sm" style={{ overflowWrap: "anywhere" }}>
        {/* The toasts live outside the router: the click bubbles to the toast's onClick. */}
        <Trans
          ns="activity"
          i18nKey={`feed.row.${event.type}` as const}
          values={{ who: whoOf(event), subject: event.emailSubject, address: "" }}
          components={{ who: <strong />, address: <span />, email: <Anchor href={path} onClick={(click) => click.preventDefault()} /> }}
        />
      </Text>
    ),
    autoClose: TOAST_SECONDS * 1000,
    onClick: () => {
      notifications.hide(id);
      open(path);
    },
    style: { cursor: "pointer" },
  });
}

/** An earlier notification taken back (R30): it was a scanner; its own toast goes. */
function takenBackToast(event: LiveEvent) {
  notifications.hide(`engagement-${event.id}`);
  notifications.show({
    id: `taken-back-${event.id}`,
    color: "gray",
    title: i18n.t("activity:toast.takenBack"),
    message: (
      <Text size="sm" style={{ overflowWrap: "anywhere" }}>
        {event.message}
      </Text>
    ),
    autoClose: TOAST_SECONDS * 1000,
  });
}

function burstToast(events: LiveEvent[], open: (path: string) => void) {
  const emails = new Set(events.map((event) => event.emailId));
  const path = emails.size === 1 ? `/emails/${events[0]?.emailId}` : "/activity";
  const id = `engagements-${events[0]?.id}`;
  notifications.show({
    id,
    color: "blue",
    title: i18n.t("activity:toast.burst", { count: events.length }),
    message:
      emails.size === 1
        ? i18n.t("activity:toast.burstOne", { subject: events[0]?.emailSubject ?? "" })
        : i18n.t("activity:toast.burstMany"),
    autoClose: TOAST_SECONDS * 1000,
    onClick: () => {
      notifications.hide(id);
      open(path);
    },
    style: { cursor: "pointer" },
  });
}

export const supportsDesktop = typeof window !== "undefined" && "Notification" in window;

export function useLiveActivity(): LiveActivityApi {
  return useContext(LiveContext);
}

function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    return () => {
      window.removeEventListener("online", update);
      window.removeEventListener("offline", update);
    };
  }, []);
  return online;
}

function Subscribed({ children }: { children: ReactNode }) {
  const navigate = useNavigate();
  const onActivityPage = useLocation().pathname === "/activity";
  const unread = useUnread(useSignedIn());
  const [subscription, resubscribe] = useSubscription<EngagementNotificationsSubscription, LiveEvent[]>(
    { query: EngagementNotifications },
    (previous = [], event) => [event.engagementNotifications, ...previous].slice(0, LIVE_KEEP),
  );
  const online = useOnline();
  // graphql-ws reconnects by itself after a drop; the subscription errs once it gives up.
  const socket = useSyncExternalStore(socketStatus.subscribe, socketStatus.get);
  const received = useMemo(() => subscription.data ?? [], [subscription.data]);
  // A reclassification takes its engagement back out of the live rows (R30).
  const events = useMemo(() => {
    const takenBack = new Set(received.filter((event) => event.reclassified).map((event) => event.id));
    return received.filter((event) => !event.reclassified && !takenBack.has(event.id));
  }, [received]);

  // Read when an event arrives, not a reason to look at the events again.
  const onActivityNow = useRef(onActivityPage);
  onActivityNow.current = onActivityPage;
  const { add: addUnread, clear: clearUnread } = unread;
  const notified = useRef(new Set<string>());
  useEffect(() => {
    // Keyed with the flag: a reclassification carries its engagement's id.
    const key = (event: LiveEvent) => `${event.id}:${event.reclassified}`;
    const arrived = received.filter((event) => !notified.current.has(key(event))).reverse(); // oldest first
    if (arrived.length === 0) return;
    for (const event of arrived) notified.current.add(key(event));
    const fresh = arrived.filter((event) => !event.reclassified);
    for (const event of arrived) if (event.reclassified && !onActivityNow.current) takenBackToast(event);
    if (fresh.length === 0) return;
    const open = (path: string) => {
      window.focus();
      navigate(path);
    };
    if (supportsDesktop && Notification.permission === "granted") {
      for (const event of fresh) {
        if (event.type !== "OPEN" && event.type !== "CLICK") continue;
        const desktop = new Notification(i18n.t(`activity:toast.${event.type}`), { body: event.message, tag: event.id });
        desktop.onclick = () => open(`/emails/${event.emailId}`);
      }
    }
    // On the Activity page the feed itself shows them, marked "New", as they arrive.
    if (onActivityNow.current) return;
    addUnread(fresh.map((event) => event.id));
    if (fresh.length > TOASTS_AT_ONCE) burstToast(fresh, open);
    else for (const event of fresh) toast(event, open);
  }, [received, navigate, addUnread]);
  // Looking at the Activity page is seeing it all, in this tab and the user's others.
  useEffect(() => {
    if (onActivityPage && unread.count > 0) clearUnread();
  }, [onActivityPage, unread.count, clearUnread]);

  const state: LiveState = !online ? "offline" : subscription.error ? "down" : socket === "connected" ? "live" : "connecting";
  const api = useMemo(
    () => ({ events, state, reconnect: () => resubscribe({}), unread: unread.count }),
    [events, state, resubscribe, unread.count],
  );
  return (
    <LiveContext.Provider value={api}>
      <DeliveryFailures />
      {children}
    </LiveContext.Provider>
  );
}

/** Senders get live activity; support staff belong to no account and have none. */
export function LiveActivity({ children }: { children: ReactNode }) {
  return useSignedIn().isStaff ? children : <Subscribed>{children}</Subscribed>;
}
