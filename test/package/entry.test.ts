/**
 * The package entries in the source tree: the root (`src/index.ts`) exports
 * the node facade and what an app handles, nothing of the layers' machinery;
 * each layer's index exports its public names and none of its internals
 * (public-surface.ts, docs/interfaces.md). consumer.test.ts checks the same
 * on the packed package.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as auth from '../../src/auth/index.ts';
import * as core from '../../src/core/index.ts';
import * as root from '../../src/index.ts';
import * as net from '../../src/net/index.ts';
import * as node from '../../src/node/index.ts';
import * as processors from '../../src/processors/index.ts';
import * as store from '../../src/store/index.ts';
import * as sync from '../../src/sync/index.ts';
import { INTERNALS, ROOT_VALUES, SUBPATH_VALUES } from './public-surface.ts';

const layers: Record<string, Record<string, unknown>> = { core, store, sync, processors, net, node, auth };

test('the package root exports exactly the app surface', () => {
  assert.deepEqual(Object.keys(root).sort(), [...ROOT_VALUES].sort());
  for (const name of ROOT_VALUES) assert.notEqual((root as Record<string, unknown>)[name], undefined, name);
});

test('each layer index exports its public names and none of its internals', () => {
  for (const [layer, names] of Object.entries(SUBPATH_VALUES)) {
    const exported = layers[layer];
    for (const name of names) assert.equal(typeof exported[name], 'function', `${layer} exports ${name}`);
    for (const name of INTERNALS[layer]) assert.ok(!(name in exported), `${layer} keeps ${name} internal`);
  }
  const internals = Object.values(INTERNALS).flat();
  assert.deepEqual(
    internals.filter((name) => name in root),
    [],
    'the root exports no internal',
  );
});
