import type { Random } from '../../src/net/membership/random.ts';

/** A "random" source that always returns the middle: outputs are exact. */
export class MidRandom implements Random {
  private counter = 0;
  next(): number {
    return 0.5;
  }
  nextU32(): number {
    return this.counter++;
  }
  int(n: number): number {
    return Math.floor(n * 0.5);
  }
}

export function sends<T extends { type: string }>(outs: T[]): T[] {
  return outs.filter((o) => o.type === 'send');
}
