import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createOperation, decodeOperation, fromHex, Hash, PrivateKey, toHex, type Extensions } from '../../src/core/index.ts';
import type { FixtureCase } from '../fixtures/make-operations.ts';

const golden = JSON.parse(readFileSync(new URL('../fixtures/operations-v1.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };

function extensionsOf(c: FixtureCase): Extensions | undefined {
  const e = c.extensions;
  if (!e) return undefined;
  if (e.variant === 'basic') return { ...e, logId: fromHex(e.logId) };
  return { ...e, logId: fromHex(e.logId), previous: e.previous.map((h) => Hash.fromHex(h)) };
}

test('golden fixtures are there', () => {
  assert.ok(golden.cases.length >= 6);
});

for (const c of golden.cases) {
  test(`golden ${c.name}: encoding reproduces the bytes and decoding accepts them`, () => {
    const op = createOperation({
      privateKey: PrivateKey.fromBytes(fromHex(c.seed)),
      seqNum: c.seqNum,
      body: c.body ? fromHex(c.body) : undefined,
      backlink: c.backlink ? Hash.fromHex(c.backlink) : undefined,
      extensions: extensionsOf(c),
    });
    assert.equal(toHex(op.headerBytes), c.header);
    assert.equal(op.hash.toHex(), c.hash);
    const decoded = decodeOperation(fromHex(c.header), c.body ? fromHex(c.body) : undefined);
    assert.equal(decoded.hash.toHex(), c.hash);
    assert.equal(decoded.header.seqNum, c.seqNum);
  });
}
