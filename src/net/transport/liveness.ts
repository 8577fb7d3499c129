/**
 * The connection keepalive: libp2p's connection monitor (turned off in
 * host.ts) with one change. Every `pingIntervalMs` each connection is
 * pinged (the ping protocol, 32 random bytes echoed) within an adaptive
 * timeout: 1.2 times the recent round trip, at least `pingTimeoutMs`. A
 * ping that fails aborts the connection only if nothing at all arrived on
 * it since the ping was sent.
 *
 * Why: a ping queues behind whatever the connection already carries. A
 * peer serving a bulk sync on a loaded machine answered late while its
 * data kept arriving, and libp2p's monitor aborted the sync (a 1M-operation
 * sync at load 25). A crashed or cut-off peer sends nothing, so it is
 * still dropped after one failed ping, as before (keepalive.ts; the
 * simulator models the same detection).
 */
import type { ComponentLogger, Connection, Logger, Startable } from '@libp2p/interface';
import { setMaxListeners } from 'node:events';
import { AdaptiveTimeout, byteStream } from '@libp2p/utils';
import { KEEPALIVE } from './keepalive.ts';

const PING_PROTOCOL = '/ipfs/ping/1.0.0';
const PING_BYTES = 32;

/** When bytes last arrived on a raw connection (marked by the private-network layer, which sees all of them). */
const heardAt = new WeakMap<object, number>();

/** Notes that bytes arrived on `rawConnection` (a libp2p MultiaddrConnection) now. */
export function markHeard(rawConnection: object, now = performance.now()): void {
  heardAt.set(rawConnection, now);
}

/** When bytes last arrived on `conn`, or undefined when unknown (a connection the private-network layer did not wrap). */
export function lastHeard(conn: Connection): number | undefined {
  // libp2p keeps the transport's connection on `maConn` (not in its public type).
  const raw = (conn as unknown as { maConn?: object }).maConn;
  return raw ? heardAt.get(raw) : undefined;
}

/** Whether a failed ping, sent at `sentAt`, ends the connection: only if nothing arrived since. */
export function pingFailureIsFatal(heard: number | undefined, sentAt: number): boolean {
  return heard === undefined || heard < sentAt;
}

interface LivenessComponents {
  connectionManager: { getConnections(): Connection[] };
  logger: ComponentLogger;
}

/** What became of one ping: answered, failed while data kept arriving, failed on a silent connection. */
export type PingOutcome = 'answered' | 'kept' | 'aborted';

/** The ping period and the least ping timeout (the node's are KEEPALIVE's; tests shorten them). */
export interface LivenessTimes {
  intervalMs: number;
  timeoutMs: number;
  /** Told every ping's outcome (tests, stats). */
  onOutcome?: (outcome: PingOutcome, conn: Connection) => void;
}

class LivenessMonitor implements Startable {
  readonly #components: LivenessComponents;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #timeout: AdaptiveTimeout;
  readonly #onOutcome: LivenessTimes['onOutcome'];
  /** Connections with a ping still out: one at a time each, so a slow link does not pile them up. */
  readonly #pinging = new WeakSet<Connection>();
  #interval?: ReturnType<typeof setInterval>;
  #stopping?: AbortController;

  constructor(components: LivenessComponents, times: LivenessTimes) {
    this.#components = components;
    this.#log = components.logger.forComponent('walkaway:liveness');
    this.#intervalMs = times.intervalMs;
    this.#timeout = new AdaptiveTimeout({ minTimeout: times.timeoutMs });
    this.#onOutcome = times.onOutcome;
  }

  start(): void {
    this.#stopping = new AbortController();
    setMaxListeners(Infinity, this.#stopping.signal); // one listener per ping out
    this.#interval = setInterval(() => {
      for (const conn of this.#components.connectionManager.getConnections()) void this.#check(conn);
    }, this.#intervalMs);
    this.#interval.unref?.();
  }

  stop(): void {
    this.#stopping?.abort();
    clearInterval(this.#interval);
  }

  async #check(conn: Connection): Promise<void> {
    if (this.#pinging.has(conn)) return;
    this.#pinging.add(conn);
    const sentAt = performance.now();
    const signal = this.#timeout.getTimeoutSignal({ signal: this.#stopping?.signal });
    let stream: Awaited<ReturnType<Connection['newStream']>> | undefined;
    try {
      stream = await conn.newStream(PING_PROTOCOL, { signal, runOnLimitedConnection: true });
      const bytes = byteStream(stream);
      const start = Date.now();
      await Promise.all([bytes.write(crypto.getRandomValues(new Uint8Array(PING_BYTES)), { signal }), bytes.read({ bytes: PING_BYTES, signal })]);
      conn.rtt = Date.now() - start;
      await stream.close({ signal });
      this.#onOutcome?.('answered', conn);
    } catch (err) {
      stream?.abort(err as Error);
      if (this.#stopping?.signal.aborted || (err as Error).name === 'UnsupportedProtocolError') return; // stopping, or alive without ping
      if (!pingFailureIsFatal(lastHeard(conn), sentAt)) {
        this.#log('ping to %p failed, but its data keeps arriving: kept', conn.remotePeer);
        this.#onOutcome?.('kept', conn);
        return;
      }
      this.#log('ping to %p failed and nothing arrived: aborted - %e', conn.remotePeer, err);
      conn.abort(err as Error);
      this.#onOutcome?.('aborted', conn);
    } finally {
      this.#pinging.delete(conn);
      this.#timeout.cleanUp(signal);
    }
  }
}

/** The libp2p service (`services.liveness`) that keeps connections alive and drops silent ones. */
export function liveness(
  times: LivenessTimes = { intervalMs: KEEPALIVE.pingIntervalMs, timeoutMs: KEEPALIVE.pingTimeoutMs },
): (components: LivenessComponents) => LivenessMonitor {
  return (components) => new LivenessMonitor(components, times);
}
