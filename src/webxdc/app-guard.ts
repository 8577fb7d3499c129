/**
 * The checks an app's server applies to every request, and the headers it
 * sends: what keeps the app off the network and other pages off the app.
 * Pure functions and constants; app-server.ts applies them.
 *
 * - Host must name the server (127.0.0.1:PORT or localhost:PORT): DNS rebinding.
 * - Origin, when the browser sends one, must be the app's own: other sites
 *   and other apps (other ports are other origins) cannot post or read.
 * - Every request carries the per-launch token in an HttpOnly, SameSite=Strict
 *   cookie named after the port (cookies ignore ports; one name per app):
 *   other local programs and pages cannot reach the app or its state.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_BYTES = 32;

export function newAppToken(random: (n: number) => Uint8Array = randomBytes): string {
  const bytes = random(TOKEN_BYTES);
  if (bytes.length !== TOKEN_BYTES) throw new Error(`the token source gave ${bytes.length} bytes, not ${TOKEN_BYTES}`);
  return Buffer.from(bytes).toString('base64url');
}

export function cookieName(port: number): string {
  return `walkaway-xdc-${port}`;
}

/** The app's origin when the Host header names this server, else undefined. */
export function ownOrigin(host: string | undefined, port: number): string | undefined {
  if (typeof host !== 'string') return undefined;
  const lower = host.toLowerCase();
  return lower === `127.0.0.1:${port}` || lower === `localhost:${port}` ? `http://${lower}` : undefined;
}

/** The value of cookie `name` in a Cookie header (the last one wins, as browsers send the most specific first). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) found ??= part.slice(eq + 1).trim();
  }
  return found;
}

/** Constant-time comparison of a presented token with the launch's (both base64url of 32 bytes). */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (typeof presented !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(presented)) return false;
  const want = Buffer.from(expected, 'base64url');
  const got = Buffer.from(presented, 'base64url');
  return got.length === want.length && timingSafeEqual(want, got) && got.toString('base64url') === presented;
}

/**
 * The app's files. No network but this origin: `connect-src 'self'` is the
 * bridge (and the app's own files); inline scripts and eval are allowed
 * because apps use them, and they reach nothing more than the app's files.
 * `frame-ancestors 'self'`: only our shell page frames the app.
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval' blob:",
  "style-src 'self' 'unsafe-inline' blob:",
  "img-src 'self' data: blob:",
  "media-src 'self' data: blob:",
  "font-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-src 'self' blob: data:",
  "form-action 'self'",
  "base-uri 'self'",
  "object-src 'none'",
  "manifest-src 'self'",
  "frame-ancestors 'self'",
].join('; ');

/** Our shell page around the app: only its own files, and the app in a frame of the same origin. */
export const SHELL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Sent with every answer. */
export const COMMON_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'x-dns-prefetch-control': 'off',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), payment=()',
  'cache-control': 'no-store',
};

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  map: 'application/json',
  txt: 'text/plain; charset=utf-8',
  md: 'text/plain; charset=utf-8',
  toml: 'text/plain; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  ico: 'image/x-icon',
  wasm: 'application/wasm',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  webm: 'video/webm',
  xml: 'application/xml',
};

export function contentType(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';
  return TYPES[ext] ?? 'application/octet-stream';
}
