/**
 * Time, timers and randomness as one injectable value. Every driver (gossip,
 * sync, discovery, connections, the node) takes a `Runtime` instead of
 * calling `performance.now`, `setTimeout` or `Math.random`, so that the
 * simulator runs whole nodes on a virtual clock with seeded randomness and
 * the same seed gives the same run. `realRuntime()` is the process's clock.
 */

/** An opaque handle of a timer set through a runtime. */
export interface TimerHandle {
  readonly timer: unknown;
}

export interface Runtime {
  /** Monotonic milliseconds (any origin). */
  now(): number;
  /** Wall-clock microseconds since the Unix epoch (operation timestamps). */
  wallMicros(): number;
  /**
   * Runs `fn` once after `ms` milliseconds (0: after the current work, as
   * `setImmediate`). Timers do not keep the process alive unless
   * `keepAlive` (a sync session in progress does: its peer may be a plain
   * socket the process waits on). A zero delay always holds the process for
   * that one turn of the event loop, so it runs at once.
   */
  setTimer(ms: number, fn: () => void, keepAlive?: boolean): TimerHandle;
  clearTimer(handle: TimerHandle | undefined): void;
  /** Uniform in [0, 1). */
  random(): number;
  /** `n` random bytes; the real runtime's come from the CSPRNG. */
  randomBytes(n: number): Uint8Array;
}

type RealTimer = { kind: 'timeout'; t: NodeJS.Timeout } | { kind: 'immediate'; t: NodeJS.Immediate };

const REAL: Runtime = Object.freeze({
  now: () => performance.now(),
  wallMicros: () => Date.now() * 1000,
  setTimer(ms: number, fn: () => void, keepAlive = false): TimerHandle {
    if (ms <= 0) {
      // Never unref'd: Node's poll phase does not wait for unref'd immediates,
      // so one waits for the next I/O or timer (tens of ms on an idle node:
      // every gossip flush and inbound commit did). Ref'd, it holds the
      // process for one turn only.
      return { timer: { kind: 'immediate', t: setImmediate(fn) } satisfies RealTimer };
    }
    const t = setTimeout(fn, ms);
    if (!keepAlive) t.unref();
    return { timer: { kind: 'timeout', t } satisfies RealTimer };
  },
  clearTimer(handle: TimerHandle | undefined): void {
    const real = handle?.timer as RealTimer | undefined;
    if (!real) return;
    if (real.kind === 'immediate') clearImmediate(real.t);
    else clearTimeout(real.t);
  },
  random: () => Math.random(),
  randomBytes: (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
});

/** The process's clocks, timers (unref'd) and CSPRNG. */
export function realRuntime(): Runtime {
  return REAL;
}

/** Runs `fn` every `ms` through `runtime` until the returned function is called. */
export function every(runtime: Runtime, ms: number, fn: () => void, keepAlive = false): () => void {
  let handle: TimerHandle | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    handle = runtime.setTimer(
      ms,
      () => {
        if (stopped) return;
        fn();
        tick();
      },
      keepAlive,
    );
  };
  tick();
  return () => {
    stopped = true;
    runtime.clearTimer(handle);
  };
}
