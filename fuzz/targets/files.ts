/**
 * Inputs that arrive as whole files or app bodies: a topic bundle from a USB
 * stick (src/sync/bundle.ts), a webxdc `.xdc` zip, its manifest, and the
 * bodies a webxdc topic carries (updates, archive pieces, realtime pieces).
 */
import { strToU8, zipSync } from 'fflate';
import { topicId } from '../../src/core/index.ts';
import { BundleReader, encodeBundleEnd, encodeBundleHead, encodeBundleOperation } from '../../src/sync/bundle.ts';
import { openXdc } from '../../src/webxdc/archive.ts';
import { parseManifest } from '../../src/webxdc/manifest.ts';
import { decodeRealtimeChunk, decodeTopicBody, encodeArchiveChunk, encodeRealtimeChunk, encodeUpdateBody } from '../../src/webxdc/wire.ts';
import { type Target, utf8Bytes } from '../target.ts';
import { seededOperations } from './fixtures.ts';

export const topicBundle: Target = {
  name: 'bundle',
  format: 'bytes',
  about: 'BundleReader: a topic exported to a file (magic, head, operations, trailer), read in pieces',
  seeds: (rng) => {
    const ops = seededOperations(rng).slice(0, 4);
    const head = encodeBundleHead({ networkId: rng.bytes(32), topic: topicId('fuzz') });
    return [Buffer.concat([head, ...ops.map(encodeBundleOperation), encodeBundleEnd(ops.length)]), Buffer.concat([head, encodeBundleEnd(0)])];
  },
  run: (input) => {
    // Read in uneven pieces, as a file stream hands them over.
    const reader = new BundleReader({ maxOperations: 64 });
    const items = [];
    for (let at = 0; at < input.length; at += 7 + (at % 13)) items.push(...reader.push(input.subarray(at, at + 7 + (at % 13))));
    reader.finish();
    return items;
  },
};

const MANIFEST = 'name = "Fuzz"\nsource_code_url = "https://example.org/fuzz"\nmin_api = 1\n';

export const xdcArchive: Target = {
  name: 'xdc',
  format: 'bytes',
  about: 'openXdc: a webxdc app (a zip with index.html and manifest.toml), bounded while it unzips',
  maxInputs: 20_000,
  // Inflating is bounded by the archive's limits on what comes out (maxTotalBytes), not by the
  // input's size: a few hundred bytes may inflate to far more. Tiny accepted apps cost ~1 ms each.
  budgetUsPerKiB: 10_000,
  seeds: () => [
    zipSync({ 'index.html': strToU8('<!doctype html><p>hi</p>'), 'manifest.toml': strToU8(MANIFEST) }),
    zipSync({ 'index.html': strToU8('x'), 'js/app.js': strToU8('console.log(1)'), 'icon.png': new Uint8Array(64) }, { level: 0 }),
  ],
  run: (input) => openXdc(input, 'fuzz.xdc'),
};

export const xdcManifest: Target = {
  name: 'xdc-manifest',
  format: 'text',
  about: 'parseManifest: manifest.toml of a webxdc app',
  seeds: () => [utf8Bytes(MANIFEST), utf8Bytes('name = "a"\n[section]\nkey = 1\n')],
  run: (input) => parseManifest(input),
};

/** The webxdc bodies decode to a value or to undefined (dropped); an exception of any kind is a finding. */
export const xdcBodies: Target = {
  name: 'xdc-bodies',
  format: 'cbor',
  about: 'decodeTopicBody and decodeRealtimeChunk: a webxdc topic’s updates, archive pieces and realtime pieces',
  seeds: (rng) => [
    encodeUpdateBody(JSON.stringify({ payload: { n: rng.below(100) }, info: 'added', summary: 's' })),
    encodeArchiveChunk(0, 2, rng.bytes(32), rng.bytes(100)),
    encodeRealtimeChunk(rng.u32(), 1, 3, rng.bytes(50)),
  ],
  run: (input) => [decodeTopicBody(input), decodeRealtimeChunk(input)],
  expected: () => false,
};
