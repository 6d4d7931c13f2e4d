/** A URL the API built from its public address (SENDTRAIL_PUBLIC_URL), as the same path on
 * the origin this page was opened on. The admin may be reached by another name (localhost
 * and 127.0.0.1, a proxy): there the public address would be another origin, whose frames
 * the admin's CSP (`frame-src 'self'`) blocks and whose requests go without the session
 * cookie. */
export function sameOrigin(url: string): string {
  const parsed = new URL(url, window.location.origin);
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}
