import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { decodeOperation, validateBacklink, type Operation } from '../../src/core/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { keyFor, logIdFor } from '../helpers/ops.ts';

const BATCH = 500;

/** Starts the child, waits for `batches` committed batches, then SIGKILLs it. */
function runAndKill(path: string, batches: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./crash-child.ts', import.meta.url).pathname, path, String(BATCH)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let lastCommitted = 0;
  let seen = 0;
  let buffered = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const match = /^committed (\d+)$/.exec(line);
        if (!match) continue;
        lastCommitted = Number(match[1]);
        if (++seen === batches) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lastCommitted);
      else reject(new Error(`child exited with ${code} before it was killed`));
    });
  });
}

test('SIGKILL in the middle of batches leaves the database consistent and every committed operation readable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'walkaway-crash-'));
  const path = join(dir, 'store.db');
  try {
    const committed = await runAndKill(path, 6);
    assert.ok(committed >= 6 * BATCH);

    const raw = new Database(path);
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    raw.close();

    const store = SqliteStore.open(path);
    const author = keyFor(7).publicKey;
    const stored: Operation[] = [];
    for (let after = -1; ; ) {
      const page = store.readLog(author, logIdFor(1), after, 1000);
      if (page.length === 0) break;
      stored.push(...page);
      after = page[page.length - 1].header.seqNum;
    }
    // Whole batches only: a batch is one transaction.
    assert.ok(stored.length >= committed, `${stored.length} stored, ${committed} reported committed`);
    assert.equal(stored.length % BATCH, 0);
    let previous: Operation | undefined;
    for (const op of stored) {
      const verified = decodeOperation(op.headerBytes, op.body);
      validateBacklink(previous, verified);
      previous = verified;
    }
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
