/**
 * Argument parsing for the CLI: strict, every flag checked, and a bad one is
 * a UsageError: one line on stderr that names the flag and the command's
 * --help, exit 2 (see EXIT in exit-codes of main.ts).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { multiaddr } from '@multiformats/multiaddr';

export class UsageError extends Error {}

/** A file given to import is damaged, cut short or of another network (exit 5). */
export class BadFileError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses `argv` for `walkaway <command>`; unknown flags and missing values are UsageErrors. */
export function parse(argv: string[], options: Options, maxPositionals: number, command = ''): Parsed {
  const seeHelp = `see "walkaway ${command ? `${command} ` : ''}--help"`;
  // `--web` takes an optional port: `--web 8080` or just `--web`.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--web' && options['web-port']) {
      args.push('--web');
      if (/^\d+$/.test(argv[i + 1] ?? '')) args.push('--web-port', argv[++i]);
    } else args.push(argv[i]);
  }
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true }) as Parsed;
  } catch (err) {
    throw new UsageError(`${describeParseError(err as Error & { code?: string })}; ${seeHelp}`);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals].slice(0, 80))}; ${seeHelp}`);
  }
  return parsed;
}

/** node:util's messages are long and multi-line; ours name the flag only. */
function describeParseError(err: Error & { code?: string }): string {
  const flag = /'(-{1,2}[^' ]*)/.exec(err.message)?.[1]?.slice(0, 80) ?? 'a flag';
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${flag}`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/argument missing/.test(err.message)) return `${flag} needs a value`;
    if (/ambiguous/.test(err.message)) return `${flag} needs a value (one that starts with "-" is written ${flag}=VALUE)`;
    return `${flag} takes no value`;
  }
  return err.message.split('\n')[0].slice(0, 200);
}

export function port(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d{1,5}$/.test(value) || n > 65535) throw new UsageError(`${name} must be a port number from 0 to 65535, got ${quote(value)}`);
  return n;
}

export function text(value: unknown, name: string, max = 256): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw new UsageError(`${name} must be a non-empty string of at most ${max} characters`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new UsageError(`${name} must not contain control characters`);
  return value;
}

/** What the node's transports (TCP, WebSockets over TCP, circuit relay) can use. */
const DIALABLE = new Set(['tcp', 'p2p-circuit']);
const HOSTS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6', 'dnsaddr']);
const MAX_ADDRESS = 1024;

/**
 * A multiaddr the node can dial (`dial`) or listen on (`listen`): it parses,
 * and has a transport the node supports (TCP, optionally /ws or /wss, or a
 * relay's /p2p-circuit). Listening needs an IP address, not a DNS name.
 */
export function address(value: string, name: string, use: 'dial' | 'listen'): string {
  if (value.length === 0 || value.length > MAX_ADDRESS) throw new UsageError(`${name} must be a multiaddr of at most ${MAX_ADDRESS} characters`);
  let protocols: string[];
  try {
    protocols = multiaddr(value)
      .getComponents()
      .map((c) => c.name);
  } catch (err) {
    throw new UsageError(`${name} ${quote(value)} is not a multiaddr (${(err as Error).message.split('\n')[0].slice(0, 120)}), e.g. /ip4/192.168.1.7/tcp/4077`);
  }
  if (!protocols.some((p) => DIALABLE.has(p)) || (!HOSTS.has(protocols[0]) && protocols[0] !== 'p2p')) {
    throw new UsageError(`${name} ${quote(value)} has no transport this node supports (TCP, /ws, /wss or /p2p-circuit), e.g. /ip4/192.168.1.7/tcp/4077`);
  }
  if (use === 'listen' && !protocols.includes('p2p-circuit') && !(protocols[0] === 'ip4' || protocols[0] === 'ip6')) {
    throw new UsageError(`${name} ${quote(value)}: listen addresses start with /ip4 or /ip6 (or are a relay's .../p2p-circuit)`);
  }
  return value;
}

function quote(value: unknown): string {
  return JSON.stringify(String(value).slice(0, 80));
}
