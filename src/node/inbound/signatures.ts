/**
 * The one signature check of the inbound path: inline for single operations
 * (gossip, multicast), in bulk through a `Verifier` for sync batches, where
 * `tips` mode checks one signature per unbroken backlink chain
 * (src/sync/VERIFY.md). Everything received passes here before it is
 * stored, forwarded or answered.
 */
import { signatureValid, VerifyPool, type Operation } from '../../core/index.ts';
import type { IngestRequest, VerifyMode } from '../../sync/index.ts';

/** Anything that checks signatures in bulk: `VerifyPool`, or `inlineVerifier`. */
export interface Verifier {
  verify(operations: Operation[]): Promise<boolean[]>;
}

/** Verification on the calling thread (no workers): small sessions, browsers. */
export const inlineVerifier: Verifier = {
  async verify(operations) {
    return operations.map(signatureValid);
  },
};

let shared: Promise<VerifyPool> | undefined;

/**
 * One worker pool per process, shared by every session that is not given
 * one; started by the first sync batch, which does not wait for it (its
 * workers stop when idle: verify-pool.ts).
 */
export function sharedVerifyPool(): Promise<VerifyPool> {
  shared ??= VerifyPool.create({ inlineWhileStarting: true });
  return shared;
}

/** The verdict for every request of a sync batch, in `all` or `tips` mode. */
export async function verifyBatch(verifier: Verifier, batch: IngestRequest[], mode: VerifyMode): Promise<boolean[]> {
  if (mode === 'all') return verifier.verify(batch.map((r) => r.operation));
  return verifyTips(verifier, batch);
}

/**
 * `tips` mode: within a batch, a run is a maximal sequence of bulk-sync
 * operations of one log where each one's backlink is the hash of the one
 * before. Only the last of each run is verified; if it fails, every
 * operation of the run is verified on its own, so a failure is reported
 * exactly where `all` mode would report it.
 */
export async function verifyTips(verifier: Verifier, batch: IngestRequest[]): Promise<boolean[]> {
  const runEnd = new Int32Array(batch.length);
  const tips: number[] = [];
  for (let i = batch.length - 1; i >= 0; i--) {
    const continues = i + 1 < batch.length && chained(batch[i], batch[i + 1]);
    runEnd[i] = continues ? runEnd[i + 1] : i;
    if (!continues) tips.push(i);
  }
  tips.reverse();
  const tipOk = await verifier.verify(tips.map((i) => batch[i].operation));
  const okByTip = new Map<number, boolean>(tips.map((t, k) => [t, tipOk[k]]));
  const failedRuns = tips.filter((t) => !okByTip.get(t));
  const individual = new Map<number, boolean>();
  for (const tip of failedRuns) {
    let start = tip;
    while (start > 0 && runEnd[start - 1] === tip) start--;
    const idx = Array.from({ length: tip - start + 1 }, (_, k) => start + k);
    const ok = await verifier.verify(idx.map((i) => batch[i].operation));
    idx.forEach((i, k) => individual.set(i, ok[k]));
  }
  return batch.map((_, i) => individual.get(i) ?? okByTip.get(runEnd[i])!);
}

function chained(a: IngestRequest, b: IngestRequest): boolean {
  if (a.kind !== 'sync' || b.kind !== 'sync') return false;
  const ha = a.operation.header;
  const hb = b.operation.header;
  return hb.seqNum === ha.seqNum + 1 && hb.backlink !== undefined && hb.backlink.equals(a.operation.hash) && hb.publicKey.equals(ha.publicKey);
}
