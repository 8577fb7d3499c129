/**
 * webxdc apps shared into a chat room. Sharing an `.xdc` starts a new app
 * instance on a topic of its own (32 random bytes), puts the file on that
 * topic (so whoever opens it gets it from the peers, checked against its
 * BLAKE3) and announces it in the room: `{"type":"app","name","app":
 * {"topic","title","sha","size"}}`. Opening an announced app joins its
 * topic, waits for the file and serves the app on its own origin
 * (src/webxdc/app-server.ts); the app's sendToChat posts into the room.
 * The chat page reaches this through POST /api/apps/share and /api/apps/open.
 */
import type { IncomingMessage } from 'node:http';
import { fromHex, toHex, WalkawayError } from '../core/index.ts';
import { openXdc, portForTopic, startAppServer, WebxdcApp, type AppServer } from '../webxdc/index.ts';
import type { ChatSession } from './chat-session.ts';

/** Apps one chat serves at once; past it the oldest is closed. */
const MAX_OPEN = 8;
const MAX_XDC = 32 * 1024 * 1024;
/** How long opening waits for the app's file to arrive from peers. */
const FETCH_TIMEOUT_MS = 60_000;

export interface AppAnnouncement {
  topic: string;
  title: string;
  sha: string;
  size: number;
}

export class ChatApps {
  readonly #chat: ChatSession;
  readonly #open = new Map<string, Promise<{ app: WebxdcApp; server: AppServer }>>();

  constructor(chat: ChatSession) {
    this.#chat = chat;
  }

  /** Shares an `.xdc` into the room; resolves to what the room is told. */
  async share(bytes: Uint8Array, fileName: string): Promise<AppAnnouncement> {
    const archive = openXdc(bytes, fileName);
    const topic = globalThis.crypto.getRandomValues(new Uint8Array(32));
    const app = new WebxdcApp(this.#chat.node, { topic, archive, selfName: this.#chat.name });
    const sha = await app.publishArchive(bytes);
    const announcement = { topic: toHex(topic), title: archive.name, sha: toHex(sha), size: bytes.length };
    this.#keep(
      announcement.topic,
      Promise.resolve(app).then(async (a) => ({ app: a, server: await this.#serve(a) })),
    );
    await this.#chat.announceApp(announcement);
    return announcement;
  }

  /** Serves an announced app (fetching its file from the topic first); resolves to the URL that opens it. */
  async open(topicHex: string, shaHex: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(topicHex) || !/^[0-9a-f]{64}$/.test(shaHex)) throw new WalkawayError('INVALID_ARGUMENT', 'topic and sha are 64 hex digits');
    let running = this.#open.get(topicHex);
    if (!running) {
      running = (async () => {
        const app = new WebxdcApp(this.#chat.node, { topic: fromHex(topicHex), selfName: this.#chat.name });
        try {
          const bytes = await app.fetchArchive(fromHex(shaHex), AbortSignal.timeout(FETCH_TIMEOUT_MS));
          app.archive = openXdc(bytes, 'app.xdc');
          return { app, server: await this.#serve(app) };
        } catch (err) {
          app.close();
          this.#open.delete(topicHex);
          if (isAbort(err)) throw new WalkawayError('TIMEOUT', 'the app did not arrive from the peers yet: try again when someone who has it is online');
          throw err;
        }
      })();
      this.#keep(topicHex, running);
    }
    return (await running).server.url;
  }

  async close(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          ({ app, server }) => server.close().then(() => app.close()),
          () => {},
        ),
      ),
    );
  }

  #serve(app: WebxdcApp): Promise<AppServer> {
    return startAppServer(app, { port: portForTopic(app.topic), nextFreeIfTaken: true, sendToChat: (text) => this.#chat.send(text).then(() => {}) });
  }

  #keep(topicHex: string, running: Promise<{ app: WebxdcApp; server: AppServer }>): void {
    this.#open.set(topicHex, running);
    if (this.#open.size <= MAX_OPEN) return;
    const [oldest, first] = this.#open.entries().next().value!;
    this.#open.delete(oldest);
    void first.then(
      ({ app, server }) => server.close().then(() => app.close()),
      () => {},
    );
  }
}

function isAbort(err: unknown): boolean {
  return (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError' || (err as { code?: string })?.code === 'CLOSED';
}

/** The chat page's app endpoints (after web-server.ts checked host, origin and token): a status and a JSON answer. */
export async function handleAppRequest(apps: ChatApps, req: IncomingMessage, path: string): Promise<{ status: number; body: unknown }> {
  if (req.method !== 'POST') return { status: 405, body: { error: 'METHOD_NOT_ALLOWED', message: 'only POST here' } };
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  try {
    if (path === '/api/apps/share') {
      if (type !== 'application/octet-stream') return { status: 415, body: { error: 'UNSUPPORTED_MEDIA_TYPE', message: 'send the .xdc as application/octet-stream' } };
      const name = String(new URL(req.url ?? '/', 'http://x').searchParams.get('name') ?? 'app.xdc').slice(0, 200);
      return { status: 200, body: await apps.share(await readBytes(req, MAX_XDC), name) };
    }
    if (path === '/api/apps/open') {
      if (type !== 'application/json') return { status: 415, body: { error: 'UNSUPPORTED_MEDIA_TYPE', message: 'send Content-Type: application/json' } };
      const { topic, sha } = JSON.parse(new TextDecoder().decode(await readBytes(req, 4096))) as { topic?: unknown; sha?: unknown };
      return { status: 200, body: { url: await apps.open(String(topic), String(sha)) } };
    }
  } catch (err) {
    const code = (err as WalkawayError).code;
    const status = code === 'TOO_LARGE' ? 413 : code === 'MALFORMED' || code === 'INVALID_ARGUMENT' || err instanceof SyntaxError ? 400 : code === 'TIMEOUT' ? 504 : 500;
    return {
      status,
      body: {
        error: code ?? 'INVALID_ARGUMENT',
        message: String((err as Error).message)
          .replace(/^[A-Z_]+: /, '')
          .slice(0, 300),
      },
    };
  }
  return { status: 404, body: { error: 'NOT_FOUND', message: 'no such endpoint' } };
}

async function readBytes(req: IncomingMessage, max: number): Promise<Uint8Array> {
  if (Number(req.headers['content-length'] ?? 0) > max) throw new WalkawayError('TOO_LARGE', `the body is more than ${max} bytes`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new WalkawayError('TOO_LARGE', `the body is more than ${max} bytes`);
    parts.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(parts));
}
