// The one GraphQL client: urql over fetch (same origin, session cookie + CSRF header) and
// graphql-ws for subscriptions (the socket opens only when something subscribes).
import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from "urql";
import { createClient as createSocketClient } from "graphql-ws";

import i18n from "../i18n";
import type { Session } from "./auth";

let current: Pick<Session, "csrfHeader" | "csrfToken"> | null = null;

/** The CSRF token every cookie-authenticated POST must echo (null when signed out). */
export function setCsrfSession(session: Session | null): void {
  current = session;
}

function socketUrl(): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/graphql`;
}

export type SocketState = "connecting" | "connected" | "closed";

/** The subscription socket's state as graphql-ws reports it, for the "Live" badge. */
export const socketStatus = (() => {
  let state: SocketState = "closed";
  const listeners = new Set<() => void>();
  return {
    get: (): SocketState => state,
    set(next: SocketState): void {
      state = next;
      listeners.forEach((listener) => listener());
    },
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
})();

/** Support staff name the account they inspect in this header (platform/web/principal.py). */
const ACCOUNT_HEADER = "X-Sendtrail-Account";

/** `supportAccount`: for support staff, a client (own cache) that reads that account. */
export function createGraphQLClient(onSignedOut: () => void, supportAccount?: string): Client {
  const socket = createSocketClient({
    url: socketUrl(),
    lazy: true,
    on: {
      connecting: () => socketStatus.set("connecting"),
      connected: () => socketStatus.set("connected"),
      closed: () => socketStatus.set("closed"),
    },
  });
  return new Client({
    url: "/graphql",
    fetchOptions: () => ({
      credentials: "same-origin",
      headers: {
        ...(current ? { [current.csrfHeader]: current.csrfToken } : {}),
        ...(supportAccount ? { [ACCOUNT_HEADER]: supportAccount } : {}),
      },
    }),
    exchanges: [
      cacheExchange,
      mapExchange({
        onResult(result) {
          // An ended session (expired, signed out elsewhere) sends the person to sign in.
          const ended = result.error?.graphQLErrors.some(
            (error) => error.extensions["code"] === "UNAUTHENTICATED",
          );
          if (ended && current !== null) onSignedOut();
          return result;
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = socket.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}

/** The first error's message, for an Alert (network failures in words too): the server's in
 * the reader's language (its cookie), ours from i18next. */
export function describeError(error: { networkError?: Error; graphQLErrors: { message: string }[] }): string {
  if (error.networkError) return i18n.t("shell:errors.unreachable");
  return error.graphQLErrors[0]?.message ?? i18n.t("shell:errors.somethingWrong");
}
