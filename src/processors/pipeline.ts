/**
 * Composition: `pipeline(a, b, c)` is itself a processor. Each output of a
 * stage is handed to the next before `process` returns, so when it returns
 * the input is finished everywhere and `commit()` may acknowledge it. A
 * stage with `processAll` gets what the stage before released as one batch.
 * Synchronous stages stay synchronous; one asynchronous stage makes the
 * pipeline return a promise.
 *
 * `ProcessorStream` is the edge: an `AsyncIterable` of outputs fed by an
 * async source. It acknowledges (commits) an input only when the consumer
 * comes back for more after its outputs, so a crash in the consumer means
 * the input is delivered again on restart: at-least-once.
 */
import { WalkawayError } from '../core/index.ts';
import type { Outputs, Processor } from './types.ts';

// Overloads keep the types flowing from stage to stage.
export function pipeline<A, B>(a: Processor<A, B>): Processor<A, B>;
export function pipeline<A, B, C>(a: Processor<A, B>, b: Processor<B, C>): Processor<A, C>;
export function pipeline<A, B, C, D>(a: Processor<A, B>, b: Processor<B, C>, c: Processor<C, D>): Processor<A, D>;
export function pipeline<A, B, C, D, E>(a: Processor<A, B>, b: Processor<B, C>, c: Processor<C, D>, d: Processor<D, E>): Processor<A, E>;
export function pipeline<A, B, C, D, E, F>(a: Processor<A, B>, b: Processor<B, C>, c: Processor<C, D>, d: Processor<D, E>, e: Processor<E, F>): Processor<A, F>;
export function pipeline(...stages: Processor<unknown, unknown>[]): Processor<unknown, unknown>;
export function pipeline(...stages: Processor<unknown, unknown>[]): Processor<unknown, unknown> {
  if (stages.length === 0) throw new WalkawayError('INVALID_ARGUMENT', 'a pipeline needs at least one processor');
  return new Pipeline(stages);
}

class Pipeline implements Processor<unknown, unknown> {
  readonly name: string;
  readonly #stages: Processor<unknown, unknown>[];

  constructor(stages: Processor<unknown, unknown>[]) {
    this.#stages = stages;
    this.name = stages.map((s) => s.name).join(' > ');
  }

  process(input: unknown): Outputs<unknown> {
    return this.#from(0, [input]);
  }

  /** Starts every stage in order; what a stage owes from before flows through the later ones. */
  start(): Outputs<unknown> {
    const all: unknown[] = [];
    for (let i = 0; i < this.#stages.length; i++) {
      const stage = this.#stages[i];
      if (!stage.start) continue;
      const owed = stage.start();
      const rest = owed instanceof Promise ? owed.then((items) => this.#from(i + 1, items)) : this.#from(i + 1, owed);
      if (rest instanceof Promise) return this.#finishStart(rest, i + 1, all);
      for (const o of rest) all.push(o);
    }
    return all;
  }

  async #finishStart(pending: Promise<unknown[]>, next: number, all: unknown[]): Promise<unknown[]> {
    for (const o of await pending) all.push(o);
    for (let i = next; i < this.#stages.length; i++) {
      const stage = this.#stages[i];
      if (!stage.start) continue;
      for (const o of await this.#from(i + 1, await stage.start())) all.push(o);
    }
    return all;
  }

  commit(): void {
    for (const s of this.#stages) s.commit?.();
  }

  flush(): void {
    for (const s of this.#stages) s.flush?.();
  }

  /** Runs `items` through the stages from `index` on; sync until a stage returns a promise. */
  #from(index: number, items: unknown[]): Outputs<unknown> {
    let current = items;
    for (let i = index; i < this.#stages.length; i++) {
      const stage = this.#stages[i];
      if (stage.processAll && current.length > 1) {
        const all = stage.processAll(current);
        if (all instanceof Promise) return all.then((items) => this.#from(i + 1, items));
        current = all;
        continue;
      }
      const next: unknown[] = [];
      for (let j = 0; j < current.length; j++) {
        const out = stage.process(current[j]);
        if (out instanceof Promise) return this.#finish(out, i, j, current, next);
        for (let k = 0; k < out.length; k++) next.push(out[k]);
      }
      current = next;
    }
    return current;
  }

  /** The asynchronous rest of `#from`, once stage `i` returned a promise for item `j`. */
  async #finish(out: Promise<unknown[]>, i: number, j: number, current: unknown[], next: unknown[]): Promise<unknown[]> {
    for (const o of await out) next.push(o);
    for (let k = j + 1; k < current.length; k++) for (const o of await this.#stages[i].process(current[k])) next.push(o);
    return this.#from(i + 1, next);
  }
}

/**
 * Hands every input to each processor (e.g. one ordered stream into several
 * convergent types) and returns their outputs, tagged with the processor name.
 */
export function fanout<I>(...targets: Processor<I, unknown>[]): Processor<I, { from: string; output: unknown }> {
  const stages = targets;
  return {
    name: `fanout(${stages.map((s) => s.name).join(', ')})`,
    process(input: I): Outputs<{ from: string; output: unknown }> {
      const all: { from: string; output: unknown }[] = [];
      const pending: Promise<void>[] = [];
      for (const s of stages) {
        const out = s.process(input);
        if (out instanceof Promise) pending.push(out.then((o) => void o.forEach((output) => all.push({ from: s.name, output }))));
        else for (const output of out) all.push({ from: s.name, output });
      }
      return pending.length === 0 ? all : Promise.all(pending).then(() => all);
    },
    commit: () => stages.forEach((s) => s.commit?.()),
    flush: () => stages.forEach((s) => s.flush?.()),
  };
}

/**
 * Runs a processor over an async source as an `AsyncIterable` of outputs.
 * Stops when the source ends, on `close()`, or when `signal` aborts; the
 * processor's batched state is flushed at the end.
 */
export class ProcessorStream<I, O> implements AsyncIterable<O> {
  readonly #processor: Processor<I, O>;
  readonly #source: AsyncIterable<I> | Iterable<I>;
  readonly #signal: AbortSignal | undefined;
  #closed = false;

  constructor(processor: Processor<I, O>, source: AsyncIterable<I> | Iterable<I>, options: { signal?: AbortSignal } = {}) {
    this.#processor = processor;
    this.#source = source;
    this.#signal = options.signal;
  }

  close(): void {
    this.#closed = true;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<O> {
    const p = this.#processor;
    try {
      if (p.start) {
        for (const out of await p.start()) yield out;
        p.commit?.();
      }
      for await (const input of this.#source as AsyncIterable<I>) {
        if (this.#stopped()) break;
        for (const out of await p.process(input)) yield out;
        // The consumer is back for more: everything it got is handled.
        p.commit?.();
        if (this.#stopped()) break;
      }
    } finally {
      p.flush?.();
    }
  }

  #stopped(): boolean {
    return this.#closed || this.#signal?.aborted === true;
  }
}
