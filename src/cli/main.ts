/**
 * The `walkaway` command. Every failure is one line on stderr and an exit
 * code from EXIT (documented in HELP and docs/interfaces.md), never a stack
 * trace.
 */
import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isWalkawayError, topicId } from '../core/index.ts';
import { defaultDataDir, loadIdentity } from '../node/data-dir.ts';
import { encodeTicket } from '../node/ticket.ts';
import { networkId as toNetworkId } from '../core/index.ts';
import { mkdirSync } from 'node:fs';
import { BadFileError, parse, port, text, UsageError } from './args.ts';
import { keepRunningOnNetworkErrors } from './network-errors.ts';

const HELP = `usage: walkaway <command> [options]

Commands:
  chat <topic|ticket>   join a topic and chat (terminal, --json, --web)
  app <file.xdc> [<topic|ticket>]
                        run a webxdc app peer to peer, served on 127.0.0.1
  id                    print this node's public key
  group <action> <topic> manage a private topic's members (create, add, remove,
                        promote, demote, show), offline
  device <action> [KEY] your devices on your private topics (add, remove, list), offline
  ticket <topic>        print an invite ticket for a topic
  relay                 run a circuit relay node for a network
  export <topic> <file> write a topic's operations to a file (a USB stick)
  import <file>         read a file written by export (every operation checked)
  sim <scenario> ...    run the gossip overlay simulator (same as npm run sim --)
  bench <name> ...      run a benchmark (same as npm run bench --)

Run "walkaway <command> --help" for the options of each.
Set DEBUG=walkaway:* to see what each layer does (on stderr).

Exit codes:
  0  done (chat and relay: closed with Ctrl-C / SIGTERM)
  1  unexpected error (a bug: please report it)
  2  bad usage: an unknown command or flag, or a bad value
  3  the data directory is in use by another walkaway process
  4  cannot listen on the address (not an address of this machine, or in use)
  5  import: the file is damaged, cut short, or of another network id`;

/** The exit codes; each failure prints one line on stderr. */
export const EXIT = { OK: 0, UNEXPECTED: 1, USAGE: 2, DATA_DIR_LOCKED: 3, CANNOT_LISTEN: 4, BAD_FILE: 5 } as const;

const ID_HELP = `usage: walkaway id [--data DIR]

Prints this node's public key (hex), creating the identity if needed.
  --data DIR   data directory (default ~/.walkaway)`;

const TICKET_HELP = `usage: walkaway ticket <topic> [--data DIR] [--port N] [--network ID] [--key HEX | --key-file FILE] [--private [--forward-secrecy]]

Prints a ticket for a topic: the network id, the topic and the addresses on
which this node's chat listens (every IPv4 interface, --port, default 4077).
Another person joins with "walkaway chat <ticket>".
  --data DIR     data directory (default ~/.walkaway)
  --port N       the port your chat listens on (default 4077)
  --network ID   network id (default "walkaway")
  --key HEX      the room's topic key (64 hex digits; default: the one kept in the data
                 directory by "walkaway chat <topic> --key"): the ticket carries it
  --key-file FILE
                 the topic key from FILE (64 hex digits, or 32 raw bytes): unlike --key,
                 it does not show in the process list
  --private      a private topic you own: the ticket names you as its owner
  --forward-secrecy
                 with --private: the room was made with "chat --private --forward-secrecy"
                 (the message scheme); the ticket says so`;

const RELAY_HELP = `usage: walkaway relay [--port N] [--network ID] [--data DIR] [--json]

Runs a circuit relay for one network id: nodes that cannot reach each other
directly talk through it (including full syncs: no relay limits).
  --port N       TCP port (default 4078)
  --network ID   network id (default "walkaway")
  --data DIR     data directory for the relay's identity (default: a new identity)
  --json         print the ready line as JSON`;

const here = fileURLToPath(new URL('../..', import.meta.url));

async function idCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { data: { type: 'string' } }, 0, 'id');
  if (values.help) return void console.log(ID_HELP);
  const dir = text(values.data, '--data', 4096) ?? defaultDataDir();
  mkdirSync(dir, { recursive: true });
  console.log(loadIdentity(dir).publicKey.toHex());
}

async function ticketCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    {
      data: { type: 'string' },
      port: { type: 'string' },
      network: { type: 'string' },
      key: { type: 'string' },
      'key-file': { type: 'string' },
      private: { type: 'boolean' },
      'forward-secrecy': { type: 'boolean' },
    },
    1,
    'ticket',
  );
  if (values.help) return void console.log(TICKET_HELP);
  if (!positionals[0]) throw new UsageError('ticket needs a topic; see "walkaway ticket --help"');
  const topic = text(positionals[0], 'the topic', 1024)!;
  if (values['forward-secrecy'] && (!values.private || values.key !== undefined || values['key-file'] !== undefined))
    throw new UsageError('--forward-secrecy goes with --private (a private room without --key)');
  const dir = text(values.data, '--data', 4096) ?? defaultDataDir();
  const { resolveTopicKey, topicKeyOption } = await import('./chat-encryption.ts');
  const topicKey = resolveTopicKey({ dataDir: dir, topic, flag: topicKeyOption(values) });
  mkdirSync(dir, { recursive: true });
  const key = loadIdentity(dir);
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
  const { generateKeyPairFromSeed } = await import('@libp2p/crypto/keys');
  const peerId = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', key.toBytes())).toString();
  const p = port(values.port, '--port') ?? 4077;
  const ips = Object.values(networkInterfaces())
    .flat()
    .filter((i) => i && i.family === 'IPv4')
    .map((i) => i!.address);
  const addresses = ips.map((ip) => `/ip4/${ip}/tcp/${p}/p2p/${peerId}`);
  const ticket = {
    networkId: toNetworkId(text(values.network, '--network')),
    topic: topicId(topic),
    addresses,
    ...(values.private ? { owner: key.publicKey.toHex() } : {}),
    ...(values['forward-secrecy'] ? { scheme: 'message' as const } : {}),
  };
  console.log(encodeTicket(topicKey ? { ...ticket, key: topicKey } : ticket));
}

async function relayCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { port: { type: 'string' }, network: { type: 'string' }, data: { type: 'string' }, json: { type: 'boolean' } }, 0, 'relay');
  if (values.help) return void console.log(RELAY_HELP);
  const p = port(values.port, '--port') ?? 4078;
  const { Node } = await import('../node/index.ts');
  const node = await Node.create({
    relay: true,
    networkId: text(values.network, '--network'),
    dataDir: text(values.data, '--data', 4096),
    storage: 'memory',
    listen: [`/ip4/0.0.0.0/tcp/${p}`],
  });
  const ready = { type: 'ready', id: node.id, peerId: node.peerId, addresses: node.addresses, relay: true };
  console.log(values.json ? JSON.stringify(ready) : `relay ${node.id.slice(0, 8)} listening on ${node.addresses.join(' ')}`);
  keepRunningOnNetworkErrors((message) => (values.json ? console.log(JSON.stringify({ type: 'error', message })) : console.error(`! ${message}`)));
  const stop = () => void node.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function forward(script: string, argv: string[]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${here}${script}`, ...argv], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => process.exit(code ?? 1)).on('error', () => resolve()));
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    // Each command's module loads only when it runs: `--help`, a bad flag and the offline
    // commands start without loading the network stack.
    switch (command) {
      case 'chat':
        return await (await import('./chat.ts')).chatCommand(rest);
      case 'app':
        return await (await import('./app.ts')).appCommand(rest);
      case 'group':
        return await (await import('./group.ts')).groupCommand(rest);
      case 'device':
        return await (await import('./device.ts')).deviceCommand(rest);
      case 'id':
        return await idCommand(rest);
      case 'ticket':
        return await ticketCommand(rest);
      case 'relay':
        return await relayCommand(rest);
      case 'export':
        return await (await import('./export-import.ts')).exportCommand(rest);
      case 'import':
        return await (await import('./export-import.ts')).importCommand(rest);
      case 'sim':
        return await forward('sim/cli.ts', rest);
      case 'bench':
        if (/^-/.test(rest[0] ?? '') && !['--help', '-h', '--save', '--out'].includes(rest[0])) {
          throw new UsageError(`unknown flag ${rest[0].slice(0, 80)}; see "walkaway bench --help"`);
        }
        return await forward('bench/run.ts', rest);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        return void console.log(HELP);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command.slice(0, 80))}; see "walkaway --help"`);
    }
  } catch (err) {
    const [code, message] = failure(err);
    console.error(`walkaway: ${message}`);
    process.exit(code);
  }
}

/** The exit code and the one line that say why a command failed. */
export function failure(err: unknown): [number, string] {
  const e = (err ?? {}) as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const firstLine = message
    .split('\n')[0]
    .replace(/[:\s]+$/, '')
    .slice(0, 300);
  if (err instanceof UsageError) return [EXIT.USAGE, firstLine];
  if (err instanceof BadFileError) return [EXIT.BAD_FILE, firstLine];
  if (e.code === 'LOCKED') return [EXIT.DATA_DIR_LOCKED, firstLine];
  const listen = /(\/\S+): \w*Error: listen (EADDRINUSE|EADDRNOTAVAIL)/.exec(message) ?? /listen (EADDRINUSE|EADDRNOTAVAIL)\S*/.exec(message);
  if (listen || e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL') {
    const what = /EADDRINUSE/.test(message) || e.code === 'EADDRINUSE' ? 'the address is in use' : 'the address is not one of this machine';
    return [EXIT.CANNOT_LISTEN, `cannot listen on ${listen?.[2] ? listen[1] : 'the address'}: ${what}`];
  }
  if (isWalkawayError(err)) return [err.code === 'INVALID_ARGUMENT' || err.code === 'MALFORMED' ? EXIT.USAGE : EXIT.UNEXPECTED, firstLine];
  return [EXIT.UNEXPECTED, firstLine];
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
