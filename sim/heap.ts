/**
 * A binary min-heap of simulator events ordered by (time, sequence number).
 * The sequence number breaks ties in insertion order, which keeps runs
 * deterministic and links first-in first-out.
 */
export interface Timed {
  t: number;
  seq: number;
}

export class EventHeap<E extends Timed> {
  private readonly items: E[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): E | undefined {
    return this.items[0];
  }

  push(item: E): void {
    const a = this.items;
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = a[parent];
      if (before(p, item)) break;
      a[i] = p;
      i = parent;
    }
    a[i] = item;
  }

  pop(): E | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop() as E;
    if (a.length === 0) return top;
    const n = a.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(a[r], a[l]) ? r : l;
      if (before(last, a[c])) break;
      a[i] = a[c];
      i = c;
    }
    a[i] = last;
    return top;
  }
}

function before(a: Timed, b: Timed): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}
