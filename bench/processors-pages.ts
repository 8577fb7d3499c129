/**
 * A page-miss model of the `processors` benchmark, for judging a change on a
 * machine whose wall clock varies more than the change does. The gap between
 * shuffled and in-order delivery is pages touched at random (docs/
 * design-notes.md, processors); cachegrind with page-sized lines counts them
 * deterministically enough: D1 models a 64-entry L1 TLB, LL a 2,048-entry L2
 * TLB.
 *
 *   valgrind --tool=cachegrind --cache-sim=yes --D1=262144,4,4096 --LL=8388608,8,4096 \
 *     node --single-threaded --import tsx bench/processors-pages.ts <shuffled|in-order|decode>
 *
 * Subtract the `decode` run's D1 and LLd misses from a delivery's, divide by
 * the operation count: page misses per operation of ordering + LWW map (an
 * in-memory store, one run, JIT compilation included). Each run takes a few
 * minutes under valgrind; two fit side by side on two cores. Run
 * `npm run bench -- processors` once first: it caches the signed history.
 */
import { decodeOperationUnverified } from '../src/core/index.ts';
import { CausalOrderer, LwwMap } from '../src/processors/index.ts';
import { MemoryStore, type StoredOperation } from '../src/store/index.ts';
import { benchDeliveries } from './processors.ts';

const mode = process.argv[2];
if (mode !== 'shuffled' && mode !== 'in-order' && mode !== 'decode') {
  console.error('usage: processors-pages.ts shuffled|in-order|decode');
  process.exit(2);
}
const deliveries = benchDeliveries();
const delivery = mode === 'in-order' ? deliveries.inOrder : deliveries.shuffled;
const stored: StoredOperation[] = delivery.map((w, i) => ({ ...decodeOperationUnverified(w.header.slice(), w.body?.slice()), localSeq: i + 1 }));
let released = 0;
if (mode !== 'decode') {
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
console.log(JSON.stringify({ mode, operations: stored.length, released }));
