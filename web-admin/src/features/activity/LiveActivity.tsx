// Live notifications (R22) for the whole signed-in app, not just the Activity page: one
// subscription per tab, a desktop notification per HUMAN open or click (the server sends
// nothing else, R10) on whatever page the sender is, and the socket's state for the feed.
import { type ReactNode, createContext, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { notifications } from "@mantine/notifications";
import { useNavigate } from "react-router";
import { useSubscription } from "urql";

import { socketStatus } from "../../api/client";
import { graphql } from "../../gql";
import type { DeliveryNotificationsSubscription, EngagementNotificationsSubscription } from "../../gql/graphql";
import { useSignedIn } from "../session/SessionProvider";

const LIVE_KEEP = 100;

const EngagementNotifications = graphql(`
  subscription EngagementNotifications {
    engagementNotifications {
      id
      type
      occurredAt
      who
      emailId
      emailSubject
      linkUrl
      message
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
        title: "Not delivered",
        message: failure.message,
        autoClose: false,
        onClick: open,
        style: { cursor: "pointer" },
      });
      if (supportsDesktop && Notification.permission === "granted") {
        const desktop = new Notification("Email not delivered", { body: failure.message, tag: key });
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
}

const LiveContext = createContext<LiveActivityApi>({ events: [], state: "off", reconnect: () => undefined });

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
  const [subscription, resubscribe] = useSubscription<EngagementNotificationsSubscription, LiveEvent[]>(
    { query: EngagementNotifications },
    (previous = [], event) => [event.engagementNotifications, ...previous].slice(0, LIVE_KEEP),
  );
  const online = useOnline();
  // graphql-ws reconnects by itself after a drop; the subscription errs once it gives up.
  const socket = useSyncExternalStore(socketStatus.subscribe, socketStatus.get);
  const events = useMemo(() => subscription.data ?? [], [subscription.data]);

  const notified = useRef(new Set<string>());
  useEffect(() => {
    for (const event of events) {
      if (notified.current.has(event.id)) continue;
      notified.current.add(event.id);
      if (!supportsDesktop || Notification.permission !== "granted") continue;
      if (event.type !== "OPEN" && event.type !== "CLICK") continue;
      new Notification(event.type === "OPEN" ? "Email opened" : "Link clicked", { body: event.message, tag: event.id });
    }
  }, [events]);

  const state: LiveState = !online ? "offline" : subscription.error ? "down" : socket === "connected" ? "live" : "connecting";
  const api = useMemo(() => ({ events, state, reconnect: () => resubscribe({}) }), [events, state, resubscribe]);
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
