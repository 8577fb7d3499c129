import { parentPort, workerData } from 'node:worker_threads';
import { createOperation, PrivateKey, type Hash } from '../src/core/index.ts';

const { ops, batch } = workerData as { ops: number; batch: number };
// Wait for the start signal, so that loading this worker is not timed.
await new Promise((resolve) => parentPort!.once('message', resolve));
const key = PrivateKey.generate();
const logId = new Uint8Array(32).fill(9);
let backlink: Hash | undefined;
for (let seq = 0; seq < ops; ) {
  const out: [Uint8Array, Uint8Array, Uint8Array | undefined][] = [];
  for (let i = 0; i < batch && seq < ops; i++, seq++) {
    const body = new Uint8Array(100);
    new DataView(body.buffer).setUint32(0, seq);
    const op = createOperation({
      privateKey: key,
      body,
      seqNum: seq,
      backlink,
      extensions: { variant: 'basic', logId, timestamp: 1_700_000_000_000_000 + seq, pruneFlag: false },
    });
    backlink = op.hash;
    out.push([op.headerBytes, op.hash.bytes, op.body]);
  }
  parentPort!.postMessage({ batch: out });
}
parentPort!.postMessage({ done: true });
parentPort!.close();
