/**
 * The package entry (`src/index.ts`) exports `Node` and re-exports every
 * layer (DESIGN.md's appendix; docs/interfaces.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as walkaway from '../../src/index.ts';

test('the package entry re-exports every layer', () => {
  const expected = {
    core: ['PrivateKey', 'PublicKey', 'Hash', 'createOperation', 'decodeOperation', 'validateBacklink', 'WalkawayError'],
    store: ['SqliteStore', 'MemoryStore'],
    sync: ['SyncSession', 'syncOverStream', 'BroadcastSync'],
    processors: ['pipeline', 'CausalOrderer', 'LwwMap', 'GrowOnlySet', 'OperationDag', 'LogView'],
    net: ['HyParView', 'PlumTree'],
    node: ['Node'],
    auth: ['GroupState', 'AccessControlProcessor', 'encodeAuthBody', 'decodeAuthBody'],
  };
  const entry = walkaway as Record<string, unknown>;
  for (const [layer, names] of Object.entries(expected)) {
    for (const name of names) assert.equal(typeof entry[name], 'function', `${layer}: ${name}`);
  }
});
