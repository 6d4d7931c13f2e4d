// Opens the compose window (its own chunk with the rich-text editor, loaded on first use)
// from a contact's page, from Emails and as a reply on an email's page.
import { Suspense, lazy } from "react";

const ComposeWindow = lazy(() => import("./ComposeWindow").then((module) => ({ default: module.ComposeWindow })));

/** What the window starts with. */
export interface ComposeDraft {
  to?: string[];
  cc?: string[];
  subject?: string;
  /** The email answered: the server adds In-Reply-To and References. */
  inReplyTo?: string | null;
}

/** The subject of a reply: "Re: " once, however many replies came before. */
export function replySubject(subject: string): string {
  return /^re:/i.test(subject.trim()) ? subject.trim() : `Re: ${subject.trim()}`;
}

/** Shown while `draft` is set; a new draft starts a new window. */
export function Compose({ draft, onClose }: { draft: ComposeDraft | null; onClose: () => void }) {
  if (draft === null) return null;
  return (
    <Suspense fallback={null}>
      <ComposeWindow draft={draft} onClose={onClose} />
    </Suspense>
  );
}
