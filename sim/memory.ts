/** Heap measurement with a forced GC, so per-node figures are not noise. */
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | null = null;

function getGc(): (() => void) | null {
  if (gc) return gc;
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return (gc = g);
  try {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  } catch {
    gc = null;
  }
  return gc;
}

export function heapUsedAfterGc(): number {
  const g = getGc();
  if (g) {
    g();
    g();
  }
  return process.memoryUsage().heapUsed;
}
