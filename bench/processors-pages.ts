/**
 * A page-miss model of the `processors` benchmark, for judging a change on a
 * machine whose wall clock varies more than the change does. The gap between
 * shuffled and in-order delivery is pages touched at random (docs/
 * design-notes.md, processors); cachegrind with page-sized lines counts them
 * deterministically enough: D1 models a 64-entry L1 TLB, LL a 2,048-entry L2
 * TLB.
 *
 *   valgrind --tool=cachegrind --cache-sim=yes --D1=262144,4,4096 --LL=8388608,8,4096 \
 *     node --single-threaded --import tsx bench/processors-pages.ts <shuffled|in-order> [--decode-only]
 *
 * Subtract the D1 and LLd misses of the same delivery's `--decode-only` run
 * (decoding reads the history in delivery order, which costs pages of its
 * own), divide by the operation count: page misses per operation of ordering + LWW map (an
 * in-memory store, one run, JIT compilation included). Each run takes a few
 * minutes under valgrind; two fit side by side on two cores. Run
 * `npm run bench -- processors` once first: it caches the signed history.
 */
import { decodeOperationUnverified } from '../src/core/index.ts';
import { CausalOrderer, LwwMap } from '../src/processors/index.ts';
import { MemoryStore, type StoredOperation } from '../src/store/index.ts';
import { benchDeliveries } from './processors.ts';

const [mode, flag] = process.argv.slice(2);
if ((mode !== 'shuffled' && mode !== 'in-order') || (flag !== undefined && flag !== '--decode-only')) {
  console.error('usage: processors-pages.ts shuffled|in-order [--decode-only]');
  process.exit(2);
}
const decodeOnly = flag === '--decode-only';
const deliveries = benchDeliveries();
const delivery = mode === 'in-order' ? deliveries.inOrder : deliveries.shuffled;
const stored: StoredOperation[] = delivery.map((w, i) => ({ ...decodeOperationUnverified(w.header.slice(), w.body?.slice()), localSeq: i + 1 }));
let released = 0;
if (!decodeOnly) {
  const map = new LwwMap();
  const orderer = new CausalOrderer({ store: MemoryStore.create(), maxPending: stored.length, prepare: (op) => map.prepare(op), discard: (op, p) => map.discard(op, p) });
  for (let i = 0; i < stored.length; i++) {
    const out = orderer.process(stored[i]);
    map.processAll(out);
    released += out.length;
    orderer.commit();
  }
  orderer.flush();
}
console.log(JSON.stringify({ mode, decodeOnly, operations: stored.length, released }));
