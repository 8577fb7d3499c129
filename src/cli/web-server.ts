/**
 * The chat page, served by the node on 127.0.0.1: the page itself (web/),
 * a snapshot, server-sent events, and POST /send.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { ChatSession, ChatEvent } from './chat-session.ts';

const PAGE = new URL('../../web/index.html', import.meta.url);
const MAX_BODY = 64 * 1024;

export interface WebServer {
  url: string;
  server: Server;
}

export async function startWebServer(chat: ChatSession, port: number, nextFreeIfTaken: boolean): Promise<WebServer> {
  const clients = new Set<ServerResponse>();
  chat.on('event', (event: ChatEvent) => {
    const data = `data: ${JSON.stringify(event)}\n\n`;
    for (const res of clients) res.write(data);
  });
  const server = createServer((req, res) => {
    handle(chat, clients, req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err.message);
    });
  });
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
  server.unref();
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return { url: `http://127.0.0.1:${actual}/`, server };
}

async function handle(chat: ChatSession, clients: Set<ServerResponse>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    return void res.end(readFileSync(PAGE));
  }
  if (req.method === 'GET' && url.pathname === '/snapshot') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify(chat.snapshot()));
  }
  if (req.method === 'GET' && url.pathname === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': connected\n\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
    return;
  }
  if (req.method === 'POST' && url.pathname === '/send') {
    const body = await readBody(req);
    let text: unknown;
    try {
      text = (JSON.parse(body) as { text?: unknown }).text;
    } catch {
      text = undefined;
    }
    if (typeof text !== 'string' || text.trim() === '' || text.length > 16_000) {
      res.writeHead(400, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: 'send {"text": "..."} with a non-empty text' }));
    }
    const hash = await chat.send(text.trim());
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ hash }));
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
