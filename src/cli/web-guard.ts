/**
 * The checks every request to the chat page's server passes before it is
 * answered: the Host header (against DNS rebinding), the Origin header
 * (against other sites posting as the user), and the per-launch token
 * (against other local programs and pages). Pure functions: the server
 * (web-server.ts) applies them in order.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_BYTES = 32;

/** A fresh per-launch token: 32 random bytes, base64url. */
export function newToken(random: (n: number) => Uint8Array = randomBytes): string {
  const bytes = random(TOKEN_BYTES);
  if (bytes.length !== TOKEN_BYTES) throw new Error(`the token source gave ${bytes.length} bytes, not ${TOKEN_BYTES}`);
  return Buffer.from(bytes).toString('base64url');
}

/**
 * The origins the page may be loaded from: the listening address by IP and
 * as localhost, with the exact port. The server listens on 127.0.0.1 only,
 * so [::1] is not one of them.
 */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** The page's own origin when the Host header names one of ours, else undefined. */
export function originOfHost(host: string | undefined, port: number): string | undefined {
  if (typeof host !== 'string') return undefined;
  const lower = host.toLowerCase();
  return allowedHosts(port).includes(lower) ? `http://${lower}` : undefined;
}

/** The bearer token of an `Authorization: Bearer <token>` header, else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(header.trim());
  return match ? match[1] : undefined;
}

/**
 * Whether `presented` is the token, compared in constant time over the
 * decoded 32 bytes (the length is public: every token has 32 bytes).
 */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const want = Buffer.from(expected, 'base64url');
  const got = Buffer.from(presented, 'base64url');
  if (got.length !== want.length) return false;
  // base64url decoding ignores stray characters; the canonical form must match too.
  const same = timingSafeEqual(want, got);
  return same && got.toString('base64url') === presented;
}

/** Whether a Content-Type header names JSON (parameters such as charset allowed). */
export function isJson(contentType: string | undefined): boolean {
  if (typeof contentType !== 'string') return false;
  return contentType.split(';')[0].trim().toLowerCase() === 'application/json';
}

/**
 * Sent with every response. The page has no inline script or style
 * (web/chat.js, web/chat.css), so the policy allows only same-origin files.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-store',
};
