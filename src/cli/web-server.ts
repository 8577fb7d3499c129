/**
 * The chat page, served by the node on 127.0.0.1: the page itself (web/),
 * and an API for it: GET /api/snapshot, GET /api/events (server-sent
 * events), POST /api/send, GET /api/invite (the room's ticket) and POST
 * /api/name (the name on your next messages); GET and POST /api/members (a
 * private topic's members; a manager adds and removes). Every request passes the checks of
 * web-guard.ts; the API also needs the per-launch token, which the URL the
 * CLI prints carries in its fragment (never sent to a server, never in a
 * Referer) and the page sends as `Authorization: Bearer <token>`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { ChatSession, ChatEvent } from './chat-session.ts';
import { MANAGE } from '../auth/index.ts';
import { groupChatCommand, memberList } from './chat-private.ts';
import { ChatApps, handleAppRequest } from './chat-apps.ts';
import { SECURITY_HEADERS, bearerToken, isJson, newToken, originOfHost, tokenMatches } from './web-guard.ts';

const MAX_BODY = 64 * 1024;
const MAX_TEXT = 16_000;
const MAX_EVENT_STREAMS = 16;
const MAX_NAME = 64;
/** Send ids remembered per launch, so a page that retries a send publishes it once. */
const MAX_SEND_IDS = 1024;
const SEND_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** An event stream whose client stops reading is dropped once this much waits for it. */
const MAX_STREAM_BACKLOG = 1024 * 1024;

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/chat.js': { file: 'chat.js', type: 'text/javascript; charset=utf-8' },
  '/chat.css': { file: 'chat.css', type: 'text/css; charset=utf-8' },
  '/qr.js': { file: 'qr.js', type: 'text/javascript; charset=utf-8' },
  '/outbox.js': { file: 'outbox.js', type: 'text/javascript; charset=utf-8' },
  '/sidebar.js': { file: 'sidebar.js', type: 'text/javascript; charset=utf-8' },
  '/members.js': { file: 'members.js', type: 'text/javascript; charset=utf-8' },
};

export interface WebServerOptions {
  /** The token's randomness (32 bytes); default node:crypto randomBytes. */
  random?: (n: number) => Uint8Array;
  maxEventStreams?: number;
}

export interface WebServer {
  /** The page's URL with the token in its fragment: what the CLI prints. */
  url: string;
  /** The page's origin, e.g. http://127.0.0.1:7077 */
  origin: string;
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

/** Answers with a status and a typed JSON error: `{ "error": CODE, "message": ... }`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startWebServer(chat: ChatSession, port: number, nextFreeIfTaken: boolean, options: WebServerOptions = {}): Promise<WebServer> {
  const token = newToken(options.random);
  const files = new Map(Object.entries(FILES).map(([path, f]) => [path, { body: readFileSync(new URL(`../../web/${f.file}`, import.meta.url)), type: f.type }]));
  const streams = new Set<ServerResponse>();
  const maxStreams = options.maxEventStreams ?? MAX_EVENT_STREAMS;
  const sent = new Map<string, Promise<string>>();
  const apps = new ChatApps(chat);
  const onEvent = (event: ChatEvent) => {
    const data = `data: ${JSON.stringify(event)}\n\n`;
    for (const res of streams) {
      if (res.writableLength > MAX_STREAM_BACKLOG) {
        streams.delete(res);
        res.destroy();
      } else res.write(data);
    }
  };
  chat.on('event', onEvent);
  let listening = 0;
  const server = createServer((req, res) => {
    const ctx: Context = { chat, token, port: listening, files, streams, maxStreams, sent, apps };
    handle(ctx, req, res).catch((err: unknown) => answerError(res, err));
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxConnections = 256;
  for (let attempt = 0; ; attempt++) {
    const tryPort = port === 0 ? 0 : port + attempt;
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
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !nextFreeIfTaken || attempt >= 50) throw err;
    }
  }
  server.on('error', () => {});
  server.unref();
  const address = server.address();
  listening = typeof address === 'object' && address ? address.port : port;
  const origin = `http://127.0.0.1:${listening}`;
  const close = () =>
    new Promise<void>((resolve) => {
      chat.off('event', onEvent);
      void apps.close();
      for (const res of streams) res.destroy();
      streams.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url: `${origin}/#token=${token}`, origin, port: listening, token, server, close };
}

interface Context {
  chat: ChatSession;
  token: string;
  port: number;
  files: Map<string, { body: Buffer; type: string }>;
  streams: Set<ServerResponse>;
  maxStreams: number;
  /** Send id -> its publication, oldest first, at most MAX_SEND_IDS. */
  sent: Map<string, Promise<string>>;
  apps: ChatApps;
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  req.on('error', () => res.destroy());
  // DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends Host: evil.example.
  const origin = originOfHost(req.headers.host, ctx.port);
  if (!origin) throw new HttpError(403, 'FORBIDDEN_HOST', 'the Host header must name this server: 127.0.0.1 or localhost with its port');
  // Browsers send Origin on cross-origin requests and on every POST: it must be the page's own.
  const claimed = req.headers.origin;
  if (claimed !== undefined && claimed !== origin) throw new HttpError(403, 'FORBIDDEN_ORIGIN', 'requests from other origins are refused');
  if (req.method !== 'GET' && claimed === undefined) throw new HttpError(403, 'FORBIDDEN_ORIGIN', 'a request other than GET must carry the Origin of the page');
  const target = req.url ?? '';
  if (!target.startsWith('/') || target.startsWith('//')) throw new HttpError(400, 'INVALID_ARGUMENT', 'the request target must be a path');
  const path = new URL(target, origin).pathname;

  const file = ctx.files.get(path);
  if (file) {
    if (req.method !== 'GET') throw methodNotAllowed('GET');
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type });
    return void res.end(file.body);
  }
  if (!path.startsWith('/api/')) throw new HttpError(404, 'NOT_FOUND', 'no such page');

  if (!tokenMatches(ctx.token, bearerToken(req.headers.authorization))) {
    res.setHeader('www-authenticate', 'Bearer');
    throw new HttpError(401, 'UNAUTHORIZED', 'send the token of the printed URL as "Authorization: Bearer <token>"');
  }
  if (path === '/api/snapshot') {
    if (req.method !== 'GET') throw methodNotAllowed('GET');
    return answerJson(res, 200, ctx.chat.snapshot());
  }
  if (path === '/api/events') {
    if (req.method !== 'GET') throw methodNotAllowed('GET');
    return openEventStream(ctx, req, res);
  }
  if (path === '/api/send') {
    if (req.method !== 'POST') throw methodNotAllowed('POST');
    if (!isJson(req.headers['content-type'])) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send Content-Type: application/json');
    const { text, id } = parseSend(await readBody(req, res));
    return answerJson(res, 200, { hash: await sendOnce(ctx, text, id) });
  }
  if (path.startsWith('/api/apps/')) {
    const answer = await handleAppRequest(ctx.apps, req, path);
    return answerJson(res, answer.status, answer.body);
  }
  if (path === '/api/invite') {
    if (req.method !== 'GET') throw methodNotAllowed('GET');
    const ready = ctx.chat.ready();
    return answerJson(res, 200, { ticket: ctx.chat.ticket(), topic: ctx.chat.topicHex, room: ready.room ?? null });
  }
  if (path === '/api/members') return answerMembers(ctx, req, res);
  if (path === '/api/name') {
    if (req.method !== 'POST') throw methodNotAllowed('POST');
    if (!isJson(req.headers['content-type'])) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send Content-Type: application/json');
    const name = parseName(await readBody(req, res));
    // ChatSession reads `name` on every send and presence announcement; see the note in docs/interfaces.md.
    ctx.chat.rename(name);
    return answerJson(res, 200, { name });
  }
  throw new HttpError(404, 'NOT_FOUND', 'no such endpoint');
}

/** GET: a private topic's members and whether this node manages; POST {action: add|remove, member, level?}: a manager changes them. */
async function answerMembers(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const room = ctx.chat.private;
  if (!room) throw new HttpError(404, 'NOT_FOUND', 'this topic is not private');
  if (req.method === 'GET') return answerJson(res, 200, { members: memberList(room), manager: (room.ownAccess()?.level ?? -1) >= MANAGE });
  if (req.method !== 'POST') throw methodNotAllowed('GET, POST');
  if (!isJson(req.headers['content-type'])) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send Content-Type: application/json');
  const { action, member, level } = parseJsonObject(await readBody(req, res));
  if ((action !== 'add' && action !== 'remove') || typeof member !== 'string' || (level !== undefined && typeof level !== 'string')) {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'send {"action": "add" | "remove", "member": "<public key>", "level"?: "read" | "write" | "manage"}');
  }
  const answer = await groupChatCommand(room, action, [member, ...(level ? [level] : [])]);
  if (answer.type === 'error') throw new HttpError(400, 'INVALID_ARGUMENT', String(answer.message));
  return answerJson(res, 200, { members: memberList(room) });
}

function openEventStream(ctx: Context, req: IncomingMessage, res: ServerResponse): void {
  if (ctx.streams.size >= ctx.maxStreams) throw new HttpError(503, 'TOO_MANY_STREAMS', `at most ${ctx.maxStreams} event streams at once`);
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
  res.write(': connected\n\n');
  ctx.streams.add(res);
  const drop = () => ctx.streams.delete(res);
  req.on('close', drop);
  res.on('close', drop);
  res.on('error', drop);
}

function parseJsonObject(body: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function parseSend(body: string): { text: string; id?: string } {
  const { text, id } = parseJsonObject(body);
  if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_TEXT) {
    throw new HttpError(400, 'INVALID_ARGUMENT', `send {"text": "..."} with a non-empty text of at most ${MAX_TEXT} characters`);
  }
  if (id !== undefined && (typeof id !== 'string' || !SEND_ID.test(id))) {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'a send id is 8 to 64 characters of A-Z a-z 0-9 _ -');
  }
  return { text: text.trim(), id };
}

/** Publishes a text; a send id seen before in this launch answers the first publication's hash instead. */
function sendOnce(ctx: Context, text: string, id: string | undefined): Promise<string> {
  if (id === undefined) return ctx.chat.send(text);
  const known = ctx.sent.get(id);
  if (known) return known;
  const publication = ctx.chat.send(text);
  ctx.sent.set(id, publication);
  // A failed publication may be retried under the same id.
  publication.catch(() => ctx.sent.get(id) === publication && ctx.sent.delete(id));
  if (ctx.sent.size > MAX_SEND_IDS) ctx.sent.delete(ctx.sent.keys().next().value!);
  return publication;
}

function parseName(body: string): string {
  const { name } = parseJsonObject(body);
  const trimmed = typeof name === 'string' ? name.trim() : '';
  // No control characters: names print in terminals.
  if (trimmed === '' || trimmed.length > MAX_NAME || /[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) {
    throw new HttpError(400, 'INVALID_ARGUMENT', `send {"name": "..."} with a name of 1 to ${MAX_NAME} characters, no control characters`);
  }
  return trimmed;
}

/** Reads at most MAX_BODY bytes; more (declared or sent) is a 413 and the connection closes. */
function readBody(req: IncomingMessage, res: ServerResponse): Promise<string> {
  const tooLarge = () => {
    res.setHeader('connection', 'close');
    return new HttpError(413, 'TOO_LARGE', `a request body is at most ${MAX_BODY} bytes`);
  };
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    let size = 0;
    let done = false;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY) {
        done = true;
        chunks.length = 0;
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
      done = true;
    });
    req.on('close', () => {
      if (!done) reject(new HttpError(400, 'INVALID_ARGUMENT', 'the request ended early'));
      done = true;
    });
  });
}

function methodNotAllowed(allow: string): HttpError {
  return new HttpError(405, 'METHOD_NOT_ALLOWED', `only ${allow} here`);
}

function answerJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value));
}

/** Every failure answers (or, once a response has started, closes the connection). */
function answerError(res: ServerResponse, err: unknown): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const e = err instanceof HttpError ? err : new HttpError(500, 'INTERNAL', err instanceof Error ? err.message : 'internal error');
  try {
    answerJson(res, e.status, { error: e.code, message: e.message });
  } catch {
    res.destroy();
  }
}
