/**
 * `walkaway export <topic> <file>` and `walkaway import <file>`: a topic's
 * operations on a USB stick (src/sync/bundle.ts is the file format). Import
 * trusts nothing in the file: every operation is decoded strictly, its
 * payload hash and signature checked (decodeOperation), then ingested through
 * the store's rules (backlink, seqNum, forks) like any operation from a peer;
 * a bad one is counted by its error code and the rest still count.
 */
import { createReadStream, existsSync, openSync, closeSync, writeSync, fsyncSync, renameSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { bytesEqual, decodeOperation, isWalkawayError, networkId as toNetworkId, toHex, topicId, WalkawayError, type Operation } from '../core/index.ts';
import { defaultDataDir, openDataDir } from '../node/data-dir.ts';
import { decodeTicket, isTicket } from '../node/ticket.ts';
import { BundleReader, encodeBundleEnd, encodeBundleHead, encodeBundleOperation } from '../sync/bundle.ts';
import { BadFileError, parse, text, UsageError } from './args.ts';

export const EXPORT_HELP = `usage: walkaway export <topic | ticket> <file> [--data DIR] [--network ID] [--force] [--json]

Writes every operation of a topic held in the data directory to a file (a
"bundle"), e.g. on a USB stick; "walkaway import" reads it on another machine.
  --data DIR     data directory (default ~/.walkaway); not while a chat uses it
  --network ID   network id (default "walkaway"; a ticket carries its own)
  --force        overwrite the file if it exists
  --json         print the result as one JSON line`;

export const IMPORT_HELP = `usage: walkaway import <file> [--data DIR] [--network ID] [--json]

Reads a bundle written by "walkaway export" into the data directory. Every
operation is checked as if a peer had sent it (signature, hash, backlink);
bad ones are counted and skipped. The next "walkaway chat" on the topic shows
the imported messages and syncs them to its peers.
  --data DIR     data directory (default ~/.walkaway); not while a chat uses it
  --network ID   network id (default "walkaway"): a bundle of another network is refused
  --json         print the result as one JSON line`;

/** A bundle that is damaged, cut short, or of another network: exit 5. */
export { BadFileError };

const PAGE = 256;
const BATCH = 256;

export async function exportCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    { data: { type: 'string' }, network: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
    2,
    'export',
  );
  if (values.help) return void console.log(EXPORT_HELP);
  if (positionals.length < 2) throw new UsageError('export needs a topic and a file; see "walkaway export --help"');
  const topicArg = text(positionals[0], 'the topic or ticket', 4096)!;
  const file = resolve(text(positionals[1], 'the file', 4096)!);
  const dir = text(values.data, '--data', 4096) ?? defaultDataDir();
  const network = text(values.network, '--network');
  let topic: Uint8Array;
  let networkId: Uint8Array;
  if (isTicket(topicArg)) {
    if (network) throw new UsageError('a ticket carries its network id: drop --network');
    const ticket = decodeTicket(topicArg);
    [topic, networkId] = [ticket.topic, ticket.networkId];
  } else {
    [topic, networkId] = [topicId(topicArg), toNetworkId(network)];
  }
  if (existsSync(file) && !values.force) throw new UsageError(`${file.slice(0, 200)} exists; add --force to overwrite it`);
  if (!existsSync(resolve(dir, 'store.db'))) throw new UsageError(`no store in ${dir.slice(0, 200)}: nothing to export`);

  const data = openDataDir(dir);
  const part = `${file}.part-${process.pid}`;
  let count = 0;
  try {
    const logs = data.store.logs(topic);
    if (logs.length === 0) throw new UsageError(`no operations of topic ${toHex(topic).slice(0, 16)} in ${dir.slice(0, 200)}`);
    const fd = openSync(part, 'w', 0o600);
    try {
      writeSync(fd, encodeBundleHead({ networkId, topic }));
      for (const log of logs) {
        for (let after = -1; ; ) {
          const page = data.store.readLog(log.author, log.logId, after, PAGE);
          if (page.length === 0) break;
          for (const op of page) writeSync(fd, encodeBundleOperation(op));
          count += page.length;
          after = page[page.length - 1].header.seqNum;
        }
      }
      writeSync(fd, encodeBundleEnd(count));
      // On a USB stick pulled out right after: the bytes are on it.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(part, file);
  } catch (err) {
    rmSync(part, { force: true });
    throw err;
  } finally {
    data.close();
  }
  const result = { type: 'exported', topic: toHex(topic), operations: count, bytes: statSync(file).size, file };
  console.log(values.json ? JSON.stringify(result) : `exported ${count} operations of topic ${toHex(topic).slice(0, 16)} to ${file} (${result.bytes} bytes)`);
}

export interface ImportResult {
  type: 'imported';
  topic: string;
  operations: number;
  inserted: number;
  duplicate: number;
  outdated: number;
  rejected: Record<string, number>;
}

export async function importCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { data: { type: 'string' }, network: { type: 'string' }, json: { type: 'boolean' } }, 1, 'import');
  if (values.help) return void console.log(IMPORT_HELP);
  if (!positionals[0]) throw new UsageError('import needs a file; see "walkaway import --help"');
  const file = resolve(text(positionals[0], 'the file', 4096)!);
  const dir = text(values.data, '--data', 4096) ?? defaultDataDir();
  const networkId = toNetworkId(text(values.network, '--network'));
  if (!existsSync(file)) throw new UsageError(`no file ${file.slice(0, 200)}`);

  const data = openDataDir(dir);
  try {
    const result = await importBundle(file, networkId, data.store);
    const rejected = Object.entries(result.rejected)
      .map(([code, n]) => `${n} ${code}`)
      .join(', ');
    console.log(
      values.json
        ? JSON.stringify(result)
        : `imported ${result.operations} operations of topic ${result.topic.slice(0, 16)}: ${result.inserted} new, ${result.duplicate} already held` +
            `${result.outdated ? `, ${result.outdated} pruned here` : ''}${rejected ? `, rejected: ${rejected}` : ''}`,
    );
  } finally {
    data.close();
  }
}

type IngestStore = ReturnType<typeof openDataDir>['store'];

/** Reads, verifies and ingests a bundle file; what was valid stays stored even when the file turns out damaged. */
export async function importBundle(file: string, networkId: Uint8Array, store: IngestStore): Promise<ImportResult> {
  const reader = new BundleReader();
  const result: ImportResult = { type: 'imported', topic: '', operations: 0, inserted: 0, duplicate: 0, outdated: 0, rejected: {} };
  let topic: Uint8Array | undefined;
  let batch: Operation[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    for (const outcome of store.ingestBatch(batch.map((operation) => ({ operation, topic })))) {
      if (outcome.status === 'rejected') result.rejected[outcome.error.code] = (result.rejected[outcome.error.code] ?? 0) + 1;
      else result[outcome.status === 'inserted' ? 'inserted' : outcome.status]++;
    }
    batch = [];
  };
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) {
      for (const item of reader.push(chunk as Buffer)) {
        if (item.type === 'head') {
          if (!bytesEqual(item.networkId, networkId)) throw new BadFileError('the bundle is of another network id (see --network)');
          topic = item.topic;
          result.topic = toHex(topic);
        } else if (item.type === 'operation') {
          result.operations++;
          try {
            batch.push(decodeOperation(item.headerBytes, item.body));
          } catch (err) {
            const code = isWalkawayError(err) ? err.code : 'MALFORMED';
            result.rejected[code] = (result.rejected[code] ?? 0) + 1;
          }
          if (batch.length >= BATCH) flush();
        }
      }
    }
    reader.finish();
    flush();
  } catch (err) {
    flush();
    if (err instanceof WalkawayError) {
      throw new BadFileError(`${file.slice(0, 200)} is damaged (${result.inserted} operations before the damage were imported): ${err.message}`);
    }
    throw err;
  }
  return result;
}
