/** `walkaway app <file.xdc> [<topic|ticket>]`: runs a webxdc app peer to peer and serves it on 127.0.0.1. */
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isWalkawayError, toHex } from '../core/index.ts';
import { defaultDataDir } from '../node/data-dir.ts';
import type { Node } from '../node/index.ts';
import { isTicket } from '../node/ticket.ts';
import { DEFAULT_ARCHIVE_LIMITS, openXdc, openXdcFolder, portForTopic, startAppServer, WebxdcApp, type WebxdcArchive } from '../webxdc/index.ts';
import { address, parse, port, text, UsageError } from './args.ts';
import { keepRunningOnNetworkErrors } from './network-errors.ts';

export const APP_HELP = `usage: walkaway app <file.xdc> [<topic | ticket>] [options]

Runs a webxdc app (https://webxdc.org: a zip of HTML5 with index.html and
manifest.toml) with no server: its updates are a topic's operations, its
realtime channel the topic's ephemeral messages. Without a topic it starts a
new instance (a topic named after the app and a random id) and prints its
ticket; another person runs the same app with that ticket. The app is served
on its own 127.0.0.1 port, cut off from the network (docs/webxdc.md); open
the URL printed. A folder laid out like the zip works too.

  --name NAME         your name in the app (webxdc.selfName; default: your user name)
  --data DIR          data directory: identity and SQLite store (default ~/.walkaway;
                      one process per directory: beside a running chat, use another,
                      or share the app from the chat page instead)
  --port N            TCP port for peers (default 4077, the next free one if taken; 0: any)
  --web PORT          the app's port on 127.0.0.1 (default: one derived from the
                      topic, so the app keeps its origin and storage across restarts)
  --bootstrap ADDR    a peer's multiaddr to dial (repeatable)
  --no-mdns           do not look for peers on the LAN with mDNS
  --json              one JSON object per line on stdout instead of text
  -h, --help          this help`;

const OPTIONS = {
  name: { type: 'string' },
  data: { type: 'string' },
  port: { type: 'string' },
  web: { type: 'string' },
  bootstrap: { type: 'string', multiple: true },
  'no-mdns': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const DEFAULT_PORT = 4077;

export async function appCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, OPTIONS, 2, 'app');
  if (values.help) return void console.log(APP_HELP);
  const file = positionals[0];
  if (!file) throw new UsageError('app needs an .xdc file; see "walkaway app --help"');
  text(file, 'the app file', 4096);
  const topicArg = positionals[1] === undefined ? undefined : text(positionals[1], 'the topic or ticket', 8192)!;
  const name = text(values.name, '--name', 64) ?? (userInfo().username || 'anonymous');
  const dataDir = text(values.data, '--data', 4096) ?? defaultDataDir();
  const p2pPort = port(values.port, '--port');
  const webPort = port(values.web, '--web');
  const json = values.json === true;
  const bootstrap = ((values.bootstrap as string[] | undefined) ?? []).map((a) => address(a, '--bootstrap', 'dial'));
  if (bootstrap.length > 64) throw new UsageError('at most 64 --bootstrap addresses');
  const archive = readApp(file);
  const topic = topicArg ?? `webxdc/${archive.name}/${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;

  const node = await startNode({ dataDir, bootstrap, mdns: values['no-mdns'] !== true, p2pPort });
  let app: WebxdcApp;
  try {
    app = new WebxdcApp(node, { topic, archive, selfName: name });
  } catch (err) {
    await node.close();
    if (isWalkawayError(err) && isTicket(topic)) throw new UsageError(`the ticket does not open: ${err.message.replace(/^[A-Z_]+: /, '')}`);
    throw err;
  }
  const print = json ? (e: Record<string, unknown>) => console.log(JSON.stringify(e)) : textPrinter();
  keepRunningOnNetworkErrors((message) => print({ type: 'error', message }));
  const server = await startAppServer(app, { port: webPort ?? portForTopic(app.topic), nextFreeIfTaken: webPort === undefined });
  print({
    type: 'ready',
    id: node.id,
    peerId: node.peerId,
    addresses: node.addresses,
    app: archive.name,
    topic: app.topicHex,
    ticket: app.ticket(),
    url: server.url,
    selfAddr: app.selfAddr,
    maxSerial: app.log.maxSerial,
  });
  app.on('update', (u) => print({ type: 'update', serial: u.serial, ...u.meta }));
  node.on('peer:connect', ({ peer }) => print({ type: 'peer', event: 'connect', peer }));
  node.on('peer:disconnect', ({ peer }) => print({ type: 'peer', event: 'disconnect', peer }));

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server.close();
    app.close();
    await node.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** An .xdc file or a folder laid out like one; a file that is not an app is a usage error. */
function readApp(path: string): WebxdcArchive {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw new UsageError(`no such file: ${JSON.stringify(path.slice(0, 200))}`);
  }
  try {
    if (stat.isDirectory()) return openXdcFolder(path);
    if (stat.size > DEFAULT_ARCHIVE_LIMITS.maxArchiveBytes)
      throw new UsageError(`${path.slice(0, 200)} is ${stat.size} bytes, more than ${DEFAULT_ARCHIVE_LIMITS.maxArchiveBytes}`);
    return openXdc(new Uint8Array(readFileSync(path)), path);
  } catch (err) {
    if (isWalkawayError(err)) throw new UsageError(`${path.slice(0, 200)} is not a webxdc app: ${err.message.replace(/^[A-Z_]+: /, '')}`);
    throw err;
  }
}

async function startNode(o: { dataDir: string; bootstrap: string[]; mdns: boolean; p2pPort?: number }): Promise<Node> {
  const { Node } = await import('../node/index.ts');
  const base = { dataDir: o.dataDir, bootstrap: o.bootstrap, mdns: o.mdns, storage: 'sqlite' as const };
  const wanted = o.p2pPort ?? DEFAULT_PORT;
  try {
    return await Node.create({ ...base, listen: [`/ip4/0.0.0.0/tcp/${wanted}`] });
  } catch (err) {
    if (o.p2pPort !== undefined || !/EADDRINUSE|address already in use/i.test(String((err as Error).message))) throw err;
    return Node.create({ ...base, listen: ['/ip4/0.0.0.0/tcp/0'] });
  }
}

function textPrinter(): (e: Record<string, unknown>) => void {
  return (e) => {
    switch (e.type) {
      case 'ready':
        console.log(`* ${e.app}: topic ${String(e.topic).slice(0, 8)}, listening on ${(e.addresses as string[]).join(' ')}`);
        console.log(`* invite others with this ticket (walkaway app <file.xdc> <ticket>):\n${e.ticket}`);
        return console.log(`* open the app: ${e.url}`);
      case 'update':
        if (typeof e.info === 'string') console.log(`* ${e.info}`);
        return;
      case 'peer':
        return console.log(`* peer ${String(e.peer).slice(0, 8)} ${e.event === 'connect' ? 'connected' : 'disconnected'}`);
      case 'error':
        return console.error(`! ${e.message}`);
    }
  };
}
