/**
 * The chat page's endpoints, over real TCP on 127.0.0.1: a real ChatSession
 * (memory store, no peers) behind startWebServer, and each input written as a
 * raw HTTP request on its own connection. A 5xx answer means an error got
 * out of the request handler: thrown here as a plain Error (a failure).
 * Closed connections (Node's parser refusing a request, a body over the
 * limit) and requests left open (events, a body shorter than declared) are
 * fine. Bounded: a round trip per input is far slower than a decoder.
 */
import { connect } from 'node:net';
import { ChatSession } from '../../src/cli/chat-session.ts';
import { startWebServer, type WebServer } from '../../src/cli/web-server.ts';
import { utf8Bytes, type Target } from '../target.ts';

const WAIT_MS = 150;
let chat: ChatSession | undefined;
let server: WebServer | undefined;
let port = 0;

async function start(): Promise<void> {
  chat = await ChatSession.start({ topic: 'walkaway-fuzz-web', name: 'fuzz', storage: 'memory', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  server = await startWebServer(chat, 0, false);
  port = Number(new URL(server.url).port);
}

function request(input: Uint8Array): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1', 0, 64));
    };
    const timer = setTimeout(done, WAIT_MS);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', done);
    socket.on('error', done);
    socket.end(input);
  });
}

const http = (head: string, body = '') =>
  utf8Bytes(`${head}\r\nHost: 127.0.0.1\r\n${body ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`);

export const web: Target = {
  name: 'web',
  format: 'text',
  about: 'the chat page server (src/cli/web-server.ts): raw HTTP requests over 127.0.0.1',
  async: true,
  maxInputs: 20_000,
  budgetUsPerKiB: 50_000,
  seeds: async () => {
    if (!chat) await start();
    return [
      http('GET / HTTP/1.1'),
      http('GET /snapshot HTTP/1.1'),
      http('GET /snapshot?x=1#y HTTP/1.1'),
      http('POST /send HTTP/1.1', '{"text":"hello"}'),
      http('POST /send HTTP/1.1', '{"text":"  ünïcödé  "}'),
      http('POST /send HTTP/1.1', '{"text":""}'),
      http('POST /send HTTP/1.1', '{"text":["not","a","string"]}'),
      http('POST /send HTTP/1.1', 'null'),
      http('POST /send HTTP/1.1', '{"text":"' + 'a'.repeat(20_000) + '"}'),
      utf8Bytes('POST /send HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"tex\r\nb\r\nt":"chunk"}\r\n0\r\n\r\n'),
      utf8Bytes('POST /send HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n{"text":"short"}'),
      http('GET /events HTTP/1.1'),
      http('PUT /send HTTP/1.1', '{"text":"x"}'),
      http('GET /nothing HTTP/1.0'),
    ];
  },
  dictionary: [
    '\r\n',
    '\r\n\r\n',
    ': ',
    'Content-Length: ',
    'Transfer-Encoding: chunked\r\n',
    'Host: ',
    '/send',
    '/snapshot',
    '/events',
    'POST',
    'GET',
    '%',
    '%00',
    '..',
    '{"text":',
    '"}',
    '\\u0000',
    '0\r\n\r\n',
  ].map(utf8Bytes),
  run: async (input) => {
    const head = await request(input);
    if (/^HTTP\/1\.[01] 5/.test(head)) throw new Error(`the server answered ${head.split('\r\n')[0]}`);
    return head;
  },
  close: async () => {
    server?.server.close();
    await chat?.close();
  },
};
