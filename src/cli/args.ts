/** Argument parsing for the CLI: strict, with usage errors that exit 2. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: Options, maxPositionals: number): Parsed {
  // `--web` takes an optional port: `--web 8080` or just `--web`.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--web' && options['web-port']) {
      args.push('--web');
      if (/^\d+$/.test(argv[i + 1] ?? '')) args.push('--web-port', argv[++i]);
    } else args.push(argv[i]);
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError( \[\w+\])?: /, ''));
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  }
  return parsed as Parsed;
}

export function port(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n > 65535) throw new UsageError(`${name} must be a port number from 0 to 65535, got ${JSON.stringify(value)}`);
  return n;
}

export function text(value: unknown, name: string, max = 256): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw new UsageError(`${name} must be a non-empty string of at most ${max} characters`);
  return value;
}
