/**
 * Byzantine nodes for the simulator. An attacker runs the real overlay (so it
 * joins, keeps views and sees traffic like anyone) and wraps it: it rewrites
 * or drops what the overlay sends, and on its own timer sends attack traffic.
 * Every attacker accepts every neighbour request (to soak up honest slots).
 *
 * Signatures are modelled by a tag over the payload that only the simulator's
 * honest publishers compute (`signedPayload`); honest nodes pass `isSigned`
 * to their overlay as the validator. Attackers never produce a valid tag.
 */
import { mixSeed, type SplitMix32 } from '../src/net/membership/random.ts';
import type { HyParViewConfig } from '../src/net/membership/types.ts';
import type { PlumTreeConfig } from '../src/net/plumtree/types.ts';
import { Overlay, type OverlayInput, type OverlayMessage, type OverlayOutput, type OverlayTimer } from '../src/net/overlay/overlay.ts';
import type { SimNode } from './network.ts';

export type AttackKind = 'forger' | 'dropper' | 'replayer' | 'flooder';
export const ATTACK_KINDS: readonly AttackKind[] = ['forger', 'dropper', 'replayer', 'flooder'];

const PAYLOAD_BYTES = 64;
/** Stands in for the origins' private keys: attackers' code never uses it. */
const SIGNING_SECRET = 0x5194a7e1;

function tagOf(payload: Uint8Array): number {
  let h = SIGNING_SECRET;
  for (let i = 0; i < PAYLOAD_BYTES - 4; i += 4) {
    h = mixSeed(h, payload[i] | (payload[i + 1] << 8) | (payload[i + 2] << 16) | (payload[i + 3] << 24));
  }
  return h;
}

/** A payload "signed" by `origin`: origin, sequence number, then the tag. */
export function signedPayload(origin: number, seq: number): Uint8Array {
  const p = new Uint8Array(PAYLOAD_BYTES);
  const v = new DataView(p.buffer);
  v.setUint32(0, origin, true);
  v.setUint32(4, seq, true);
  v.setUint32(PAYLOAD_BYTES - 4, tagOf(p), true);
  return p;
}

/** The honest nodes' validator: right length and a tag that matches. */
export function isSigned(payload: Uint8Array): boolean {
  if (payload.length !== PAYLOAD_BYTES) return false;
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return v.getUint32(PAYLOAD_BYTES - 4, true) === tagOf(payload);
}

/** What all attackers share: when to start, who they are, whom to hit. */
export interface AttackPlan {
  startAt: number;
  tickMs: number;
  /** Attacker ids (filled as they join); floods name these. */
  attackers: number[];
  isAttacker(node: number): boolean;
  /** A random honest live node (attackers are assumed to know everyone). */
  randomHonest(rng: SplitMix32): number | undefined;
  /** Honest nodes a flooder hits per tick. */
  victimsPerTick: number;
}

const ATTACK_TIMER = { type: 'attack' } as unknown as OverlayTimer<number>;
const SEEN_MAX = 256;

export class Attacker implements SimNode {
  readonly inner: Overlay<number>;
  private readonly seen: Array<{ id: string; payload: Uint8Array }> = [];
  private readonly seenIhave: Array<{ ids: string[]; hops: number[] }> = [];
  private forged = 0;

  constructor(
    readonly id: number,
    readonly kind: AttackKind,
    private readonly rng: SplitMix32,
    config: { hyparview: Partial<HyParViewConfig>; plumtree: Partial<PlumTreeConfig> },
    private readonly plan: AttackPlan,
  ) {
    this.inner = new Overlay<number>(id, rng, config);
  }

  activeView(): readonly number[] {
    return this.inner.activeView();
  }

  passiveView(): readonly number[] {
    return this.inner.passiveView();
  }

  handle(input: OverlayInput<number>, now: number): OverlayOutput<number>[] {
    if (input.type === 'timer' && (input.timer as { type: string }).type === 'attack') return this.attack();
    const attacking = now >= this.plan.startAt;
    const extra: OverlayOutput<number>[] = [];
    if (input.type === 'recv') {
      const m = input.message;
      if (m.type === 'gossip') {
        this.remember(this.seen, { id: m.id, payload: m.payload });
        // Claim to be next to the origin, to pull the tree towards us.
        if (attacking && this.kind === 'dropper') extra.push(...this.toActive({ type: 'ihave', ids: [m.id], hops: [0] }));
      } else if (m.type === 'ihave') {
        this.remember(this.seenIhave, { ids: m.ids.slice(), hops: m.hops.slice() });
      } else if (m.type === 'neighbor' && m.priority !== 'high') {
        input = { type: 'recv', from: input.from, message: { type: 'neighbor', priority: 'high' } };
      }
    }
    let out = this.inner.handle(input, now);
    if (input.type === 'command' && input.command.type === 'join') {
      out.push({ type: 'set-timer', delayMs: Math.max(0, this.plan.startAt - now) + this.rng.next() * this.plan.tickMs, timer: ATTACK_TIMER });
    }
    if (attacking) out = this.rewrite(out);
    for (const o of extra) out.push(o);
    return out;
  }

  /** What the wrapped overlay sends, as this kind of attacker changes it. */
  private rewrite(out: OverlayOutput<number>[]): OverlayOutput<number>[] {
    const result: OverlayOutput<number>[] = [];
    for (const o of out) {
      if (o.type === 'send' && o.message.type === 'gossip') {
        // Eclipse attackers withhold messages too: relaying would help their victims.
        if (this.kind === 'dropper' || this.kind === 'flooder') continue;
        if (this.kind === 'forger') {
          result.push({ type: 'send', to: o.to, message: { ...o.message, payload: this.forgedPayload() } });
          continue;
        }
      }
      if (o.type === 'send' && o.message.type === 'shuffle-reply' && this.kind === 'flooder') {
        result.push({ type: 'send', to: o.to, message: { type: 'shuffle-reply', peers: this.someAttackers(32) } });
        continue;
      }
      result.push(o);
    }
    return result;
  }

  private attack(): OverlayOutput<number>[] {
    const out: OverlayOutput<number>[] = [{ type: 'set-timer', delayMs: this.plan.tickMs, timer: ATTACK_TIMER }];
    switch (this.kind) {
      case 'forger': {
        // New messages under fresh ids, and known ids with the payload replaced.
        out.push(...this.toActive({ type: 'gossip', id: `forged-${this.id}-${this.forged++}`, payload: this.forgedPayload(), hop: 0 }));
        const old = this.pickSeen();
        if (old) out.push(...this.toActive({ type: 'gossip', id: old.id, payload: this.forgedPayload(), hop: 0 }));
        break;
      }
      case 'dropper':
        // Announce ids that do not exist: grafts to us go unanswered.
        out.push(...this.toActive({ type: 'ihave', ids: [`ghost-${this.id}-${this.forged++}`], hops: [0] }));
        break;
      case 'replayer': {
        for (let i = 0; i < 5; i++) {
          const old = this.pickSeen();
          if (old) out.push(...this.toActive({ type: 'gossip', id: old.id, payload: old.payload, hop: 1 }));
        }
        if (this.seenIhave.length > 0) {
          const ihave = this.seenIhave[this.rng.int(this.seenIhave.length)];
          out.push(...this.toActive({ type: 'ihave', ids: ihave.ids, hops: ihave.hops.map(() => 0) }));
        }
        for (let i = 0; i < 10; i++) {
          const old = this.pickSeen();
          if (old) out.push(...this.toActive({ type: 'graft', id: old.id }));
        }
        break;
      }
      case 'flooder': {
        const targets = this.activeView().filter((p) => !this.plan.isAttacker(p));
        for (let i = 0; i < this.plan.victimsPerTick; i++) {
          const v = this.plan.randomHonest(this.rng);
          if (v !== undefined) targets.push(v);
        }
        for (const v of targets) {
          out.push({ type: 'connect', peer: v });
          out.push({ type: 'send', to: v, message: { type: 'join' } });
          out.push({ type: 'send', to: v, message: { type: 'neighbor', priority: 'high' } });
          for (const a of this.someAttackers(4)) out.push({ type: 'send', to: v, message: { type: 'forward-join', peer: a, ttl: 0 } });
          out.push({ type: 'send', to: v, message: { type: 'shuffle', origin: this.id, ttl: 0, peers: this.someAttackers(32) } });
        }
        break;
      }
    }
    return out;
  }

  /** Keeps up to SEEN_MAX items, then overwrites a random one (so some stay old). */
  private remember<T>(ring: T[], item: T): void {
    if (ring.length >= SEEN_MAX) ring[this.rng.int(SEEN_MAX)] = item;
    else ring.push(item);
  }

  private toActive(message: OverlayMessage<number>): OverlayOutput<number>[] {
    return this.activeView().map((to) => ({ type: 'send', to, message }));
  }

  private pickSeen(): { id: string; payload: Uint8Array } | undefined {
    return this.seen.length === 0 ? undefined : this.seen[this.rng.int(this.seen.length)];
  }

  private someAttackers(k: number): number[] {
    const all = this.plan.attackers;
    const out: number[] = [];
    for (let i = 0; i < k * 2 && out.length < k && all.length > 1; i++) {
      const a = all[this.rng.int(all.length)];
      if (a !== this.id && !out.includes(a)) out.push(a);
    }
    return out;
  }

  private forgedPayload(): Uint8Array {
    const p = new Uint8Array(PAYLOAD_BYTES);
    for (let i = 0; i < PAYLOAD_BYTES; i += 4) new DataView(p.buffer).setUint32(i, this.rng.nextU32(), true);
    return p;
  }
}
