import { type ReactNode, createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { Provider as UrqlProvider } from "urql";

import { AuthError, type Session, currentSession, signIn as postSignIn, signOut as postSignOut } from "../../api/auth";
import { createGraphQLClient, describeError, setCsrfSession } from "../../api/client";
import { graphql } from "../../gql";

// A GET query needs no CSRF header and answers 200 with an UNAUTHENTICATED error when there
// is no session, so checking "am I signed in?" logs no failed request in the console.
const SessionProbe = graphql(`
  query SessionProbe {
    viewer {
      id
    }
  }
`);

type State =
  | { status: "checking" }
  | { status: "failed"; message: string }
  | { status: "signedOut" }
  | { status: "signedIn"; session: Session };

interface SessionApi {
  state: State;
  signIn: (email: string, password: string) => Promise<void>;
  /** A session the server opened another way (accepting an invitation). */
  adopt: (session: Session) => void;
  signOut: () => Promise<void>;
  retry: () => void;
}

const SessionContext = createContext<SessionApi | null>(null);

export function useSession(): SessionApi {
  const api = useContext(SessionContext);
  if (api === null) throw new Error("useSession outside <SessionProvider>");
  return api;
}

/** The signed-in session; only for components rendered behind <RequireSession>. */
export function useSignedIn(): Session {
  const { state } = useSession();
  if (state.status !== "signedIn") throw new Error("useSignedIn while not signed in");
  return state.session;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: "checking" });
  const [attempt, setAttempt] = useState(0);

  const ended = useCallback(() => {
    setCsrfSession(null);
    setState({ status: "signedOut" });
  }, []);
  // A new client per session: nothing cached for one person is shown to the next.
  const client = useMemo(
    () => createGraphQLClient(ended),
    [ended, state.status === "signedIn" ? state.session.email : null],
  );

  useEffect(() => {
    if (state.status !== "checking") return;
    let cancelled = false;
    (async () => {
      const probe = await client
        .query(SessionProbe, {}, { preferGetMethod: "force", requestPolicy: "network-only" })
        .toPromise();
      if (cancelled) return;
      const codes = probe.error?.graphQLErrors.map((error) => error.extensions["code"]) ?? [];
      if (codes.includes("UNAUTHENTICATED")) {
        setState({ status: "signedOut" });
        // Support staff are signed in but no account's user: `viewer` refuses, not "sign in".
      } else if (probe.error && !codes.some((code) => code === "BAD_USER_INPUT" || code === "FORBIDDEN")) {
        setState({ status: "failed", message: describeError(probe.error) });
      } else {
        const session = await currentSession();
        if (cancelled) return;
        setCsrfSession(session);
        setState({ status: "signedIn", session });
      }
    })().catch((error: unknown) => {
      if (cancelled) return;
      // The session ended between the probe and /auth/session: signed out, not a failure.
      if (error instanceof AuthError && error.status === 401) setState({ status: "signedOut" });
      else setState({ status: "failed", message: String(error instanceof Error ? error.message : error) });
    });
    return () => {
      cancelled = true;
    };
  }, [client, state.status, attempt]);

  const api = useMemo<SessionApi>(
    () => ({
      state,
      async signIn(email, password) {
        const session = await postSignIn(email, password);
        setCsrfSession(session);
        setState({ status: "signedIn", session });
      },
      adopt(session) {
        setCsrfSession(session);
        setState({ status: "signedIn", session });
      },
      async signOut() {
        if (state.status === "signedIn") await postSignOut(state.session);
        ended();
      },
      retry() {
        setState({ status: "checking" });
        setAttempt((n) => n + 1);
      },
    }),
    [state, ended],
  );

  return (
    <SessionContext.Provider value={api}>
      <UrqlProvider value={client}>{children}</UrqlProvider>
    </SessionContext.Provider>
  );
}
