/** Creates one signed log on a worker thread, handing batches of wire bytes to the caller. */
import { Worker } from 'node:worker_threads';

/** Workers do not inherit tsx's loader hooks on Node 20: register them inside. */
function tsWorker(url: URL, workerData: unknown): Worker {
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** [header bytes, operation hash, body] */
type WireBatch = [Uint8Array, Uint8Array, Uint8Array | undefined][];

/** Starts the worker; the returned `start()` begins creating and resolves when all batches were handled. */
export async function createLogInWorker(ops: number, batch: number, onBatch: (batch: WireBatch) => void): Promise<{ start: () => Promise<void> }> {
  const worker = tsWorker(new URL('./core-create-worker.ts', import.meta.url), { ops, batch });
  await new Promise((resolve) => worker.once('online', resolve));
  await new Promise((resolve) => setTimeout(resolve, 500)); // let it load its modules
  const done = new Promise<void>((resolve, reject) => {
    worker.on('message', (msg: { done?: true; batch?: WireBatch }) => {
      try {
        if (msg.batch) onBatch(msg.batch);
        if (msg.done) void worker.terminate().then(() => resolve());
      } catch (err) {
        void worker.terminate();
        reject(err);
      }
    });
    worker.on('error', reject);
  });
  return {
    start: () => {
      worker.postMessage('go');
      return done;
    },
  };
}
