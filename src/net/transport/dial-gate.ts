/**
 * The budget for dialling addresses a node did not get from its user (learned
 * from peers or from its address book): a global token bucket (one token per
 * address dialled), and exponential back-off per peer and per dial target
 * (host and port), so that neither many fake peers naming one victim address
 * nor one peer named again and again cause more than a trickle of dials.
 * A state machine: time is passed in (milliseconds, any monotonic clock).
 */
import { dialPreference, dialTarget } from './address-filter.ts';

export interface DialGateConfig {
  /** Tokens added per second (addresses dialled per second, sustained). */
  ratePerSecond: number;
  /** Bucket size: the largest burst of dials. */
  burst: number;
  /** First back-off after a dial of a peer or target; doubles per attempt. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Addresses handed out for one dial of a peer. */
  maxAddressesPerDial: number;
  /** Peers and targets remembered (oldest forgotten first). */
  maxTracked: number;
}

export const DEFAULT_DIAL_GATE: DialGateConfig = {
  ratePerSecond: 2,
  burst: 6,
  backoffMs: 2_000,
  maxBackoffMs: 10 * 60_000,
  maxAddressesPerDial: 2,
  maxTracked: 4096,
};

interface Backoff {
  attempts: number;
  until: number;
}

export interface DialGateStats {
  /** Dials allowed (peers), and addresses handed out for them. */
  granted: number;
  addresses: number;
  /** Refused for lack of tokens, because of back-off, or for lack of addresses. */
  noTokens: number;
  backingOff: number;
  noAddresses: number;
}

export class DialGate {
  readonly config: DialGateConfig;
  readonly stats: DialGateStats = { granted: 0, addresses: 0, noTokens: 0, backingOff: 0, noAddresses: 0 };
  #tokens: number;
  #last: number | undefined;
  #peers = new Map<string, Backoff>();
  #targets = new Map<string, Backoff>();

  constructor(config: Partial<DialGateConfig> = {}) {
    this.config = { ...DEFAULT_DIAL_GATE, ...config };
    this.#tokens = this.config.burst;
  }

  /**
   * The addresses of `peer` to dial now (best first, at most one token each),
   * or an empty list with the reason in `stats`. Handing addresses out counts
   * as an attempt: the peer and its targets back off until `connected`.
   */
  take(peer: string, addresses: string[], now: number): string[] {
    this.#refill(now);
    if (addresses.length === 0) return (this.stats.noAddresses++, []);
    if (this.#waiting(this.#peers, peer, now)) return (this.stats.backingOff++, []);
    const seen = new Set<string>();
    const open = [...addresses]
      .sort((a, b) => dialPreference(a) - dialPreference(b))
      .filter((a) => {
        const target = dialTarget(a);
        if (seen.has(target) || this.#waiting(this.#targets, target, now)) return false;
        seen.add(target);
        return true;
      });
    if (open.length === 0) return (this.stats.backingOff++, []);
    const n = Math.min(open.length, this.config.maxAddressesPerDial, Math.floor(this.#tokens));
    if (n < 1) return (this.stats.noTokens++, []);
    this.#tokens -= n;
    const chosen = open.slice(0, n);
    this.#attempt(this.#peers, peer, now);
    for (const a of chosen) this.#attempt(this.#targets, dialTarget(a), now);
    this.stats.granted++;
    this.stats.addresses += n;
    return chosen;
  }

  /** A connection to `peer` (through `remoteAddr`) came up: its back-off ends. */
  connected(peer: string, remoteAddr?: string): void {
    this.#peers.delete(peer);
    if (remoteAddr) this.#targets.delete(dialTarget(remoteAddr));
  }

  get tracked(): number {
    return this.#peers.size + this.#targets.size;
  }

  #refill(now: number): void {
    if (this.#last !== undefined && now > this.#last) {
      this.#tokens = Math.min(this.config.burst, this.#tokens + ((now - this.#last) / 1000) * this.config.ratePerSecond);
    }
    this.#last = Math.max(now, this.#last ?? now);
  }

  #waiting(map: Map<string, Backoff>, key: string, now: number): boolean {
    const state = map.get(key);
    return state !== undefined && now < state.until;
  }

  #attempt(map: Map<string, Backoff>, key: string, now: number): void {
    const attempts = (map.get(key)?.attempts ?? 0) + 1;
    const delay = Math.min(this.config.maxBackoffMs, this.config.backoffMs * 2 ** Math.min(attempts - 1, 20));
    map.delete(key);
    map.set(key, { attempts, until: now + delay });
    while (map.size > this.config.maxTracked / 2) map.delete(map.keys().next().value!);
  }
}
