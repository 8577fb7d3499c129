/** `walkaway chat <topic|ticket>`: chat on a topic in the terminal, as JSON lines, and on a web page. */
import { createInterface } from 'node:readline';
import { multiaddr } from '@multiformats/multiaddr';
import { userInfo } from 'node:os';
import { defaultDataDir } from '../node/data-dir.ts';
import { fromHex } from '../core/index.ts';
import { isTicket } from '../node/ticket.ts';
import { address, parse, port, text, UsageError } from './args.ts';
import { CHAT_OPTIONS } from './chat-options.ts';
import type { ChatSession, ChatEvent } from './chat-session.ts';
import { groupChatCommand } from './chat-private.ts';
import { describeEncryption, resolveTopicKey, storeTopicKey, topicKeyChat, topicKeyOption, type ChatEncryption } from './chat-encryption.ts';
import { lineWriter, type LineWriter } from './line-writer.ts';
import { keepRunningOnNetworkErrors } from './network-errors.ts';
import { hasPublicAddress, relayAddress } from './relay-flags.ts';

export const CHAT_HELP = `usage: walkaway chat <topic | ticket> [options]

Joins a topic and chats: lines typed on stdin are published, messages from
everyone print as "[time] name: text". Messages written while alone are kept
and delivered when peers are met. Lines starting with "/" are commands:
/connect ADDR dials a peer, /peers lists the connected ones. In a private
topic: /add KEY [read|write|manage] (default write), /remove KEY, /members.

  --name NAME         your name in the chat (default: your user name)
  --data DIR          data directory: identity and SQLite store (default ~/.walkaway)
  --port N            TCP port to listen on (default 4077, the next free one if taken; 0: any)
  --bootstrap ADDR    a peer's multiaddr to dial (repeatable)
  --listen ADDR       listen on this multiaddr instead of --port (repeatable; e.g. a relay's .../p2p-circuit)
  --relay             serve as a circuit relay for peers that cannot reach each other
                      (default: on when this machine has a public address)
  --no-relay          never serve as a relay
  --use-relay ADDR    a relay to use when peers cannot reach this node directly
                      (a multiaddr ending in /p2p/<relay id>; repeatable)
  --hole-punch        dial every connection from one port, so that a peer met through a
                      relay upgrades to a direct connection across NATs that keep ports
                      (DCUtR; docs/network-breaks.md)
  --no-mdns           do not look for peers on the LAN with mDNS
  --multicast         also sync and send presence over UDP multicast on the LAN, for peers
                      without a connection (topic ids travel in clear on the LAN)
  --network ID        network id (default "walkaway"): only nodes with the same id connect
  --private           a private topic: you own it and manage its members; only members
                      (pull access or more) get or send its operations
  --forward-secrecy   with --private, when creating the topic: the message scheme (DCGKA),
                      one key per message, forward secrecy; newcomers read from their add
                      on (default: the group data scheme, where newcomers read the history)
  --key HEX           encrypt the room with this topic key (64 hex digits, e.g. from
                      "openssl rand -hex 32"); kept in the data directory, and put in
                      the room's tickets (a ticket's key is used without --key);
                      a key on the command line shows in "ps": prefer --key-file
  --key-file FILE     the topic key from FILE (64 hex digits, or 32 raw bytes)
  --json              one JSON object per line on stdout instead of text
  --web [PORT]        also serve the chat page on 127.0.0.1 (default port 7077, the next free one if taken)
  -h, --help          this help`;

const DEFAULT_PORT = 4077;
const DEFAULT_WEB_PORT = 7077;

export async function chatCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, CHAT_OPTIONS, 1, 'chat');
  if (values.help) return void console.log(CHAT_HELP);
  const topic = positionals[0];
  if (!topic) throw new UsageError('chat needs a topic or a ticket; see "walkaway chat --help"');
  text(topic, 'the topic or ticket', 4096);
  const name = text(values.name, '--name', 64) ?? (userInfo().username || 'anonymous');
  const dataDir = text(values.data, '--data', 4096) ?? defaultDataDir();
  const p2pPort = port(values.port, '--port');
  const webPort = port(values['web-port'], '--web');
  const network = text(values.network, '--network');
  const json = values.json === true;
  const bootstrap = ((values.bootstrap as string[] | undefined) ?? []).map((a) => address(a, '--bootstrap', 'dial'));
  const listen = (values.listen as string[] | undefined)?.map((a) => address(a, '--listen', 'listen'));
  if (bootstrap.length > 64 || (listen?.length ?? 0) > 16) throw new UsageError('at most 64 --bootstrap and 16 --listen addresses');
  if (listen && p2pPort !== undefined) throw new UsageError('--listen and --port exclude each other; see "walkaway chat --help"');
  if (isTicket(topic) && network) throw new UsageError('a ticket carries its network id: drop --network');
  if (values.relay && values['no-relay']) throw new UsageError('--relay and --no-relay exclude each other');
  const relays = ((values['use-relay'] as string[] | undefined) ?? []).map((a) => relayAddress(a));
  if (relays.length > 16) throw new UsageError('at most 16 --use-relay addresses');
  const relay = values['no-relay'] ? false : values.relay === true || hasPublicAddress();
  if (values.private && isTicket(topic)) throw new UsageError("--private takes a topic name (a private topic's ticket names its owner)");
  if (values['forward-secrecy'] && (values.key !== undefined || values['key-file'] !== undefined || (!values.private && !isTicket(topic)))) {
    throw new UsageError('--forward-secrecy goes with --private (a private room without --key)');
  }
  if (values['web-port'] !== undefined && !values.web) throw new UsageError('--web-port is spelled --web PORT; see "walkaway chat --help"');

  const key = resolveTopicKey({ dataDir, topic, flag: topicKeyOption(values) });
  const encryption: ChatEncryption | undefined = key ? topicKeyChat(topic, key) : undefined;

  const chat = await startChat({
    topic,
    name,
    dataDir,
    bootstrap,
    listen,
    p2pPort,
    network,
    mdns: values['no-mdns'] !== true,
    multicast: values.multicast === true,
    relay,
    relays,
    holePunch: values['hole-punch'] === true,
    encryption,
    private: values.private === true,
    forwardSecrecy: values['forward-secrecy'] === true,
  });
  // Kept once the data directory is ours (the node holds its lock): a restart reads the room without --key.
  if (key) storeTopicKey(dataDir, fromHex(chat.topicHex), key);
  const out = lineWriter();
  const print = json ? (e: ChatEvent) => out.line(JSON.stringify(e)) : textPrinter(chat, out);
  chat.on('event', print);
  keepRunningOnNetworkErrors((message) => print({ type: 'error', message }));
  print({ ...chat.ready(), ticket: chat.ticket() });
  if (values.web) {
    const { startWebServer } = await import('./web-server.ts');
    const web = await startWebServer(chat, webPort ?? DEFAULT_WEB_PORT, webPort === undefined);
    print({ type: 'web', url: web.url });
  }

  const lines = createInterface({ input: process.stdin, terminal: false });
  lines.on('line', (line) => {
    const message = line.trimEnd();
    if (message.startsWith('/')) return command(chat, message, print);
    if (message) chat.send(message).catch((err: Error) => print({ type: 'error', message: err.message }));
  });
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await chat.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // A terminal's Ctrl-D ends the chat; a closed pipe (scripts) leaves it running.
  lines.on('close', () => process.stdin.isTTY && void shutdown());
}

const COMMANDS_HELP = '/connect ADDR (dial a peer), /peers (list connected peers), /add KEY [read|write|manage], /remove KEY, /members (private topics), /help';

/** Lines that start with "/" are commands, not messages. */
function command(chat: ChatSession, line: string, print: (e: ChatEvent) => void): void {
  const [name, ...args] = line.slice(1).split(/\s+/);
  if (name === 'connect' && args[0]) {
    chat.node.host.dial(multiaddr(args[0])).then(
      () => print({ type: 'info', message: `connected to ${args[0]}` }),
      (err: Error) => print({ type: 'error', message: `cannot connect to ${args[0]}: ${err.message}` }),
    );
  } else if (name === 'add' || name === 'remove' || name === 'members') {
    groupChatCommand(chat.private, name, args).then(print, (err: Error) => print({ type: 'error', message: err.message }));
  } else if (name === 'peers') {
    print({ type: 'peers', peers: chat.node.peers() });
  } else {
    print({ type: 'info', message: COMMANDS_HELP });
  }
}

interface StartOptions {
  topic: string;
  name: string;
  dataDir: string;
  bootstrap: string[];
  listen?: string[];
  p2pPort?: number;
  network?: string;
  mdns: boolean;
  multicast: boolean;
  relay: boolean;
  relays: string[];
  holePunch: boolean;
  private: boolean;
  forwardSecrecy?: boolean;
  encryption?: ChatEncryption;
}

async function startChat(o: StartOptions): Promise<ChatSession> {
  // Loaded here, after the flags are checked: a bad flag exits without loading the network stack.
  const { ChatSession } = await import('./chat-session.ts');
  const base = {
    topic: o.topic,
    name: o.name,
    dataDir: o.dataDir,
    bootstrap: o.bootstrap,
    mdns: o.mdns,
    multicast: o.multicast,
    relay: o.relay,
    relays: o.relays,
    // Dial port 0: every dial leaves from one free port, chosen at start (src/net/transport/hole-punch.ts).
    ...(o.holePunch ? { dialPort: 0 } : {}),
    private: o.private,
    forwardSecrecy: o.forwardSecrecy,
    networkId: o.network,
    storage: 'sqlite' as const,
    encryption: o.encryption,
  };
  if (o.listen?.length) return ChatSession.start({ ...base, listen: o.listen });
  const wanted = o.p2pPort ?? DEFAULT_PORT;
  try {
    return await ChatSession.start({ ...base, listen: [`/ip4/0.0.0.0/tcp/${wanted}`] });
  } catch (err) {
    if (o.p2pPort !== undefined || !/EADDRINUSE|address already in use/i.test(String((err as Error).message))) throw err;
    return ChatSession.start({ ...base, listen: ['/ip4/0.0.0.0/tcp/0'] });
  }
}

function textPrinter(chat: ChatSession, out: LineWriter): (e: ChatEvent) => void {
  const bar = progressBar(out);
  const log = (text: string) => out.line(text);
  const short = (id: unknown) => String(id).slice(0, 8);
  return (e) => {
    switch (e.type) {
      case 'ready':
        log(`* you are ${chat.name} (${short(e.id)}), listening on ${(e.addresses as string[]).join(' ')}`);
        log(`* ${describeEncryption(chat.encryption?.mode ?? null)}`);
        if (chat.encryption) log(`* invite with: walkaway chat ${e.ticket}`);
        if (chat.node.peers().length === 0) log('* no peers yet: messages are kept and delivered when peers are met');
        return;
      case 'web':
        return log(`* chat page: ${e.url}`);
      case 'message': {
        const time = new Date(Number(e.timestamp) / 1000).toTimeString().slice(0, 8);
        // Asked only of an own message not yet seen (a history of thousands prints in one turn).
        const alone = () => chat.node.neighbors(chat.topicHex.length ? fromHex(chat.topicHex) : '').active.length === 0;
        return log(`[${time}] ${e.name}: ${e.text}${e.own && !e.seen && alone() ? '  (not yet seen by others)' : ''}`);
      }
      case 'peer':
        return log(`* peer ${short(e.peer)} ${e.event === 'connect' ? 'connected' : 'disconnected'}`);
      case 'presence':
        if (e.online) return log(`* ${e.name} is here`);
        return log(`* ${e.name} left${(e.here as unknown[]).length === 0 ? ': no one online' : ''}`);
      case 'alone':
        return log('* no peers for this topic yet: messages are kept and delivered when peers are met');
      case 'sync':
        if (e.event === 'progress') return bar(Number(e.stored), Number(e.expected));
        if (e.event === 'end' && Number(e.stored) > 0) return log(`* synced with ${short(e.peer)}: ${plural(Number(e.stored), 'new operation')}`);
        return;
      case 'error':
        out.flush();
        return console.error(`! ${e.message}`);
      case 'info':
        return log(`* ${e.message}`);
      case 'peers':
        return log(`* peers: ${(e.peers as string[]).map(short).join(' ') || (chat.everSeen ? 'no one online' : 'none yet')}`);
      case 'member':
        if (e.kind === 'group') return log(`* group ${short(e.group)} ${e.level ? `has ${e.level} access` : 'removed'}`);
        return log(`* ${short(e.member)} ${e.level ? `has ${e.level} access` : 'is no longer a member'}${e.by ? ` (by ${short(e.by)})` : ''}`);
      case 'rejected':
        return log(`* dropped an operation of ${short(e.author)}: ${e.message}`);
      case 'members': {
        const list = e.members as { member: string; level: string }[];
        return log(`* members: ${list.map((m) => `${short(m.member)} (${m.level})`).join(', ') || 'none yet'}`);
      }
      case 'addresses':
        return log(`* listening on ${(e.addresses as string[]).join(' ')}`);
    }
  };
}

/** "1 new operation", "2 new operations". */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A progress bar on stderr for big backlogs (terminals only). */
function progressBar(out: LineWriter): (done: number, total: number) => void {
  return (done, total) => {
    if (!process.stderr.isTTY || total < 100) return;
    out.flush();
    const width = 30;
    const filled = Math.round((done / Math.max(total, 1)) * width);
    process.stderr.write(`\rsync [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}${done >= total ? '\n' : ''}`);
  };
}
