// The web admin's session: POST /auth/login sets an HttpOnly cookie and returns the CSRF
// token that every cookie-authenticated GraphQL POST must echo (README, "Authentication").
// The server's refusals come in the reader's language (its cookie); the sentences here,
// for when it says nothing itself, are read from i18next when they are needed.
import i18n from "../i18n";

export type Role = "ADMIN" | "USER";

export interface Session {
  email: string;
  isStaff: boolean;
  accountId: string | null;
  role: Role | null;
  csrfToken: string;
  csrfHeader: string;
}

/** A refused or failed auth request, with a sentence a person can act on. */
export class AuthError extends Error {
  readonly status: number;
  readonly retryAfterSeconds: number | null;

  constructor(message: string, status: number, retryAfterSeconds: number | null = null) {
    super(message);
    this.name = "AuthError";
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

function retryAfter(response: Response): number | null {
  const value = Number(response.headers.get("Retry-After"));
  return Number.isFinite(value) && value > 0 ? value : null;
}

function fallbackMessage(status: number, retryAfterSeconds: number | null): string {
  if (status === 429) {
    const minutes = Math.max(1, Math.ceil((retryAfterSeconds ?? 60) / 60));
    return i18n.t("session:errors.tooMany", { minutes });
  }
  if (status === 401) return i18n.t("session:errors.ended");
  if (status === 400) return i18n.t("session:errors.enterBoth");
  return i18n.t("session:errors.ourSide");
}

/** `refused`: what a status means for this request when the server says nothing itself. */
async function authRequest(
  path: string,
  init: RequestInit,
  refused: Partial<Record<number, string>> = {},
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: "same-origin", ...init });
  } catch {
    throw new AuthError(i18n.t("session:errors.unreachable"), 0);
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const seconds = retryAfter(response);
    const message = errorMessage(body) ?? refused[response.status] ?? fallbackMessage(response.status, seconds);
    throw new AuthError(message, response.status, seconds);
  }
  return body;
}

function errorMessage(body: unknown): string | null {
  if (typeof body !== "object" || body === null || !("error" in body)) return null;
  const error = body.error;
  if (typeof error !== "object" || error === null || !("message" in error)) return null;
  return typeof error.message === "string" ? error.message : null;
}

function asSession(body: unknown): Session {
  if (typeof body !== "object" || body === null || !("csrfToken" in body)) {
    throw new AuthError(i18n.t("session:errors.unexpected"), 500);
  }
  return body as Session;
}

export async function signIn(email: string, password: string): Promise<Session> {
  return asSession(
    await authRequest(
      "/auth/login",
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }) },
      { 401: i18n.t("session:errors.wrongCredentials") },
    ),
  );
}

/** The session behind the cookie; call only when signed in (it answers 401 otherwise). */
export async function currentSession(): Promise<Session> {
  return asSession(await authRequest("/auth/session", { method: "GET" }));
}

/** Ends the session; one that has ended already (expired, or signed out in another tab)
 * answers 401, which is just as signed out. */
export async function signOut(session: Session): Promise<void> {
  try {
    await authRequest("/auth/logout", {
      method: "POST",
      headers: { [session.csrfHeader]: session.csrfToken },
    });
  } catch (error) {
    if (!(error instanceof AuthError && error.status === 401)) throw error;
  }
}

/** What an invitation link shows before the invitee chooses a password. */
export interface InvitationDetails {
  email: string;
  name: string | null;
  accountName: string;
  invitedBy: string;
  expiresAt: string;
}

const INVITATION_HEADER = "X-Sendtrail-Invitation";

/** The invitation behind `token` (from the page's #fragment: it goes in a header, never in a
 * URL the server logs); refused in the server's words when used, expired or revoked. */
export async function showInvitation(token: string): Promise<InvitationDetails> {
  // One URL for every link (the token is a header): never answer one link with another's.
  const init: RequestInit = { method: "GET", cache: "no-store", headers: { [INVITATION_HEADER]: token } };
  const body = await authRequest("/auth/invitation", init, { 404: i18n.t("session:errors.unknownLink") });
  if (typeof body !== "object" || body === null || !("accountName" in body)) {
    throw new AuthError(i18n.t("session:errors.unexpected"), 500);
  }
  return body as InvitationDetails;
}

/** Sets the invitee's password and signs them in (the link never works again). */
export async function acceptInvitation(token: string, password: string): Promise<Session> {
  return asSession(
    await authRequest(
      "/auth/invitation/accept",
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token, password }) },
      { 404: i18n.t("session:errors.unknownLink") },
    ),
  );
}
