/**
 * Serves one webxdc app on its own origin (its own 127.0.0.1 port): our
 * shell page at `/` frames the app's `index.html`; `/webxdc.js` is the
 * bridge (web/webxdc/webxdc.js with this app's selfAddr, selfName and
 * limits); `/.walkaway/...` is the bridge's API:
 *
 * - `GET  /.walkaway/open?t=TOKEN`: sets the token cookie, redirects to `/`
 * - `GET  /.walkaway/events?after=N`: server-sent events: `update` for each
 *   update after serial N (then `caught-up`), then each new one
 * - `POST /.walkaway/update`: the update object as JSON (413 past 128000 bytes)
 * - `GET  /.walkaway/realtime`: server-sent events `data` (base64): joined while open
 * - `POST /.walkaway/realtime`: one data item (application/octet-stream)
 * - `POST /.walkaway/send-to-chat`: `{ text }` to the room the app was shared in
 *
 * Every request passes app-guard.ts first. Other files come from the app.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { isWalkawayError } from '../core/index.ts';
import { APP_CSP, COMMON_HEADERS, contentType, cookieName, cookieValue, newAppToken, ownOrigin, SHELL_CSP, tokenMatches } from './app-guard.ts';
import type { StoredUpdate } from './update-log.ts';
import type { WebxdcApp } from './webxdc-app.ts';
import { REALTIME_MAX_SIZE, SEND_UPDATE_MAX_SIZE } from './wire.ts';

const MAX_STREAMS = 16;
const MAX_STREAM_BACKLOG = 8 * 1024 * 1024;
const REPLAY_PAGE = 256;
/** What the bridge tells apps about pacing (the spec's `sendUpdateInterval`): no e-mail server to spare here. */
export const SEND_UPDATE_INTERVAL = 1000;
/**
 * An app is someone else's code, and what it publishes every peer stores
 * (updates) or receives (realtime): a runaway app is held to a burst of 100
 * updates, then 5 a second, and 200 realtime items, then 50 a second (429).
 */
const UPDATE_RATE = { burst: 100, perSecond: 5 };
const REALTIME_RATE = { burst: 200, perSecond: 50 };

/** A token bucket; time in milliseconds from a monotonic clock. */
export class RateLimit {
  #tokens: number;
  #at: number;
  constructor(
    readonly burst: number,
    readonly perSecond: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }

  take(now: number): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.perSecond);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** A port from 20000 to 39999 picked by the topic: the same app instance keeps its origin (and localStorage) across restarts. */
export function portForTopic(topic: Uint8Array): number {
  return 20000 + (((topic[0] << 8) | topic[1]) % 20000);
}

export interface AppServerOptions {
  /** 0: any free port. */
  port: number;
  /** Try the next ports when `port` is taken. */
  nextFreeIfTaken?: boolean;
  random?: (n: number) => Uint8Array;
  /** Milliseconds, monotonic (default performance.now): the rate limits' clock. */
  now?: () => number;
  /** `webxdc.sendToChat` with text: where it goes (the chat the app was shared in); absent: the shell offers a download only. */
  sendToChat?: (text: string) => Promise<void>;
}

export interface AppServer {
  /** The URL that opens the app (it carries the launch token once; the browser keeps it in a cookie). */
  url: string;
  origin: string;
  port: number;
  close(): Promise<void>;
}

const web = (file: string) => readFileSync(new URL(`../../web/webxdc/${file}`, import.meta.url));
const OWN_FILES: Record<string, { file: string; type: string }> = {
  '/.walkaway/shell.js': { file: 'shell.js', type: 'text/javascript; charset=utf-8' },
  '/.walkaway/shell.css': { file: 'shell.css', type: 'text/css; charset=utf-8' },
  '/.walkaway/guard.js': { file: 'guard.js', type: 'text/javascript; charset=utf-8' },
};
const GUARD_TAG = Buffer.from('<script src="/.walkaway/guard.js"></script>');

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startAppServer(app: WebxdcApp, options: AppServerOptions): Promise<AppServer> {
  const token = newAppToken(options.random);
  const own = new Map(Object.entries(OWN_FILES).map(([path, f]) => [path, { body: web(f.file), type: f.type }]));
  const shell = web('shell.html');
  const bridgeTemplate = web('webxdc.js').toString('utf8');
  const updateStreams = new Set<{ res: ServerResponse; after: number; live: boolean }>();
  const realtimeStreams = new Set<ServerResponse>();
  let port = 0;
  const now = options.now ?? (() => performance.now());
  const updateRate = new RateLimit(UPDATE_RATE.burst, UPDATE_RATE.perSecond, now());
  const realtimeRate = new RateLimit(REALTIME_RATE.burst, REALTIME_RATE.perSecond, now());
  const limited = (rate: RateLimit, what: string) => {
    if (!rate.take(now())) throw new HttpError(429, 'RATE_LIMITED', `too many ${what}: at most ${rate.perSecond} a second after a burst of ${rate.burst}`);
  };

  const write = (res: ServerResponse, data: string, all: Set<unknown>, entry: unknown) => {
    if (res.writableLength > MAX_STREAM_BACKLOG) {
      all.delete(entry);
      res.destroy();
    } else res.write(data);
  };
  const onUpdate = (u: StoredUpdate) => {
    for (const s of updateStreams) if (s.live && u.serial > s.after) write(s.res, updateEvent(u, u.serial), updateStreams, s);
  };
  const onRealtime = (data: Uint8Array) => {
    const event = `event: data\ndata: ${Buffer.from(data).toString('base64')}\n\n`;
    for (const res of realtimeStreams) write(res, event, realtimeStreams, res);
  };
  app.on('update', onUpdate);
  app.on('realtime', onRealtime);

  const bridge = () => {
    const info = {
      selfAddr: app.selfAddr,
      selfName: app.selfName,
      sendUpdateInterval: SEND_UPDATE_INTERVAL,
      sendUpdateMaxSize: SEND_UPDATE_MAX_SIZE,
      realtimeMaxSize: REALTIME_MAX_SIZE,
    };
    // JSON inside a script: escape "<" so no value can close the script element.
    // The formatter may put a space after the marker comment: match either.
    return bridgeTemplate.replace(/\/\*WALKAWAY_INFO\*\/\s*\{\}/, () => JSON.stringify(info).replace(/</g, '\\u003c'));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = ownOrigin(req.headers.host, port);
    if (!origin) throw new HttpError(421, 'BAD_HOST', 'this server answers to 127.0.0.1 and localhost only');
    if (req.headers.origin !== undefined && req.headers.origin !== origin) throw new HttpError(403, 'BAD_ORIGIN', 'requests from other origins are refused');
    const url = new URL(req.url ?? '/', origin);
    const path = decodeURIComponent(url.pathname);
    if (path === '/.walkaway/open' && req.method === 'GET') {
      if (!tokenMatches(token, url.searchParams.get('t') ?? undefined))
        throw new HttpError(403, 'BAD_TOKEN', 'this link is from another launch: use the URL the command printed');
      res.writeHead(303, { ...COMMON_HEADERS, location: '/', 'set-cookie': `${cookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict` });
      return void res.end();
    }
    if (!tokenMatches(token, cookieValue(req.headers.cookie, cookieName(port)))) throw new HttpError(403, 'BAD_TOKEN', 'open the app with the URL the command printed');
    // Fetches the app and its bridge make are same-origin; from another origin (another port is another origin,
    // though the same site) only a navigation, such as the chat page opening the app, is let through.
    const site = req.headers['sec-fetch-site'];
    const navigation = req.headers['sec-fetch-mode'] === 'navigate' && site === 'same-site';
    if (site !== undefined && site !== 'same-origin' && site !== 'none' && !navigation) throw new HttpError(403, 'BAD_ORIGIN', 'requests from other origins are refused');

    if (req.method === 'GET') {
      if (path === '/') return send(res, 200, shell, 'text/html; charset=utf-8', SHELL_CSP);
      const mine = own.get(path);
      if (mine) return send(res, 200, mine.body, mine.type, SHELL_CSP);
      if (path === '/webxdc.js') return send(res, 200, Buffer.from(bridge()), 'text/javascript; charset=utf-8', APP_CSP);
      if (path === '/.walkaway/info') return sendJson(res, 200, { ...info(app), chat: options.sendToChat !== undefined });
      if (path === '/.walkaway/events') return void (await streamUpdates(app, req, res, url, updateStreams));
      if (path === '/.walkaway/realtime') return void streamRealtime(req, res, realtimeStreams);
      const file = app.archive?.files.get(path.replace(/^\//, '').normalize('NFC') || 'index.html');
      if (file && !path.startsWith('/.walkaway/')) {
        const type = contentType(path);
        return send(res, 200, type.startsWith('text/html') ? withGuard(file) : file, type, APP_CSP);
      }
      throw new HttpError(404, 'NOT_FOUND', 'no such file in the app');
    }
    if (req.method !== 'POST') throw new HttpError(405, 'METHOD', 'GET or POST');
    if (path === '/.walkaway/update') {
      const body = await readBody(req, SEND_UPDATE_MAX_SIZE + 1024, 'application/json');
      limited(updateRate, 'updates');
      await app.sendUpdate(body.toString('utf8'));
      return sendJson(res, 200, { ok: true });
    }
    if (path === '/.walkaway/realtime') {
      const body = await readBody(req, REALTIME_MAX_SIZE, 'application/octet-stream');
      limited(realtimeRate, 'realtime items');
      await app.sendRealtime(new Uint8Array(body));
      return sendJson(res, 200, { ok: true });
    }
    if (path === '/.walkaway/send-to-chat') {
      if (!options.sendToChat) throw new HttpError(404, 'NO_CHAT', 'this app was not opened from a chat');
      const body = JSON.parse((await readBody(req, 16 * 1024, 'application/json')).toString('utf8')) as { text?: unknown };
      if (typeof body.text !== 'string' || body.text.length === 0 || body.text.length > 8000)
        throw new HttpError(400, 'INVALID_ARGUMENT', 'text is 1 to 8000 characters');
      await options.sendToChat(body.text);
      return sendJson(res, 200, { ok: true });
    }
    throw new HttpError(404, 'NOT_FOUND', 'no such endpoint');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => answerError(res, err));
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // event streams stay open
  server.maxConnections = 256;
  for (let attempt = 0; ; attempt++) {
    const tryPort = options.port === 0 ? 0 : options.port + attempt;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(tryPort, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !options.nextFreeIfTaken || attempt >= 20) throw err;
    }
  }
  server.on('error', () => {});
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : options.port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/.walkaway/open?t=${token}`,
    origin,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        app.off('update', onUpdate);
        app.off('realtime', onRealtime);
        for (const s of updateStreams) s.res.destroy();
        for (const res of realtimeStreams) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The page with guard.js first: after a doctype (a script before it would switch the page to quirks mode), else at the start. */
export function withGuard(html: Uint8Array): Buffer {
  const head = Buffer.from(html.subarray(0, 1024)).toString('latin1');
  const doctype = /^(\ufeff|\xef\xbb\xbf)?\s*<!doctype[^>]*>/i.exec(head);
  const at = doctype ? doctype[0].length : 0;
  return Buffer.concat([html.subarray(0, at), GUARD_TAG, html.subarray(at)]);
}

function info(app: WebxdcApp) {
  return {
    name: app.archive?.name ?? 'app',
    icon: app.archive?.icon ?? null,
    sourceCodeUrl: app.archive?.sourceCodeUrl ?? null,
    selfAddr: app.selfAddr,
    selfName: app.selfName,
    document: app.log.document ?? null,
    summary: app.log.summary ?? null,
    maxSerial: app.log.maxSerial,
    topic: app.topicHex,
  };
}

/** `{"serial","max_serial","update"}` built around the stored JSON text (never re-serialized). */
function updateEvent(u: StoredUpdate, maxSerial: number): string {
  return `event: update\ndata: {"serial":${u.serial},"max_serial":${maxSerial},"update":${u.json}}\n\n`;
}

async function streamUpdates(
  app: WebxdcApp,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  streams: Set<{ res: ServerResponse; after: number; live: boolean }>,
): Promise<void> {
  const raw = url.searchParams.get('after') ?? '0';
  if (!/^\d{1,15}$/.test(raw)) throw new HttpError(400, 'INVALID_ARGUMENT', 'after is a serial (an integer >= 0)');
  if (streams.size >= MAX_STREAMS) throw new HttpError(429, 'TOO_MANY_STREAMS', `at most ${MAX_STREAMS} pages at once`);
  const entry = { res, after: Number(raw), live: false };
  streams.add(entry);
  req.on('close', () => streams.delete(entry));
  res.writeHead(200, { ...COMMON_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
  // Replay what is stored after `after`, in pages, minding backpressure; then go live from where the replay ended.
  const maxSerial = app.log.maxSerial;
  for (let after = entry.after; after < maxSerial && !res.destroyed; ) {
    const page = app.log.after(after, REPLAY_PAGE).filter((u) => u.serial <= maxSerial);
    if (page.length === 0) break;
    let ok = true;
    for (const u of page) ok = res.write(updateEvent(u, maxSerial)) && ok;
    after = page[page.length - 1].serial;
    entry.after = after;
    if (!ok) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
  }
  if (res.destroyed) return;
  res.write(`event: caught-up\ndata: {"max_serial":${maxSerial}}\n\n`);
  // Updates that arrived during the replay.
  for (const u of app.log.after(Math.max(entry.after, maxSerial))) res.write(updateEvent(u, u.serial));
  entry.after = Math.max(entry.after, app.log.maxSerial);
  entry.live = true;
}

function streamRealtime(req: IncomingMessage, res: ServerResponse, streams: Set<ServerResponse>): void {
  if (streams.size >= MAX_STREAMS) throw new HttpError(429, 'TOO_MANY_STREAMS', `at most ${MAX_STREAMS} realtime channels at once`);
  streams.add(res);
  req.on('close', () => streams.delete(res));
  res.writeHead(200, { ...COMMON_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
  res.write(`event: joined\ndata: {}\n\n`);
}

async function readBody(req: IncomingMessage, max: number, type: string): Promise<Buffer> {
  if ((req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() !== type) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `send ${type}`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw new HttpError(413, 'TOO_LARGE', `the body is ${declared} bytes, more than ${max}`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError(413, 'TOO_LARGE', `the body is more than ${max} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

function send(res: ServerResponse, status: number, body: Uint8Array, type: string, csp: string): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': type, 'content-security-policy': csp, 'content-length': body.length });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

function answerError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.destroy();
  if (err instanceof HttpError) return sendJson(res, err.status, { error: err.code, message: err.message });
  if (isWalkawayError(err)) {
    const status = err.code === 'TOO_LARGE' ? 413 : err.code === 'INVALID_ARGUMENT' ? 400 : err.code === 'CLOSED' ? 503 : 500;
    return sendJson(res, status, { error: err.code, message: err.message.replace(/^[A-Z_]+: /, '') });
  }
  if (err instanceof SyntaxError || err instanceof URIError) return sendJson(res, 400, { error: 'MALFORMED', message: 'malformed request' });
  sendJson(res, 500, { error: 'INTERNAL', message: 'internal error' });
}
