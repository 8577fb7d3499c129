import { PlumTree } from '../plumtree/plumtree.ts';
import {
  DEFAULT_PLUMTREE_CONFIG,
  type PlumTreeConfig,
  type PlumTreeEvent,
  type PlumTreeMessage,
  type PlumTreeOutput,
  type PlumTreeTimer,
  type PayloadValidator,
} from '../plumtree/types.ts';
import { HyParView } from '../membership/hyparview.ts';
import { mixSeed, SplitMix32, type Random } from '../membership/random.ts';
import {
  DEFAULT_HYPARVIEW_CONFIG,
  type HyParViewConfig,
  type HyParViewEvent,
  type HyParViewMessage,
  type HyParViewOutput,
  type HyParViewTimer,
  type PeerId,
} from '../membership/types.ts';

export type OverlayMessage<P extends PeerId = PeerId> = HyParViewMessage<P> | PlumTreeMessage;
export type OverlayTimer<P extends PeerId = PeerId> = HyParViewTimer<P> | PlumTreeTimer;
export type OverlayEvent<P extends PeerId = PeerId> = HyParViewEvent<P> | PlumTreeEvent<P>;

export type OverlayCommand<P extends PeerId = PeerId> = { type: 'join'; peers: P[] } | { type: 'leave' } | { type: 'publish'; payload: Uint8Array; id?: string };

export type OverlayInput<P extends PeerId = PeerId> =
  | { type: 'recv'; from: P; message: OverlayMessage<P> }
  | { type: 'timer'; timer: OverlayTimer<P> }
  | { type: 'command'; command: OverlayCommand<P> }
  | { type: 'peer-down'; peer: P };

export type OverlayOutput<P extends PeerId = PeerId> =
  | { type: 'send'; to: P; message: OverlayMessage<P> }
  | { type: 'connect'; peer: P }
  | { type: 'disconnect'; peer: P }
  | { type: 'set-timer'; delayMs: number; timer: OverlayTimer<P> }
  | { type: 'emit'; event: OverlayEvent<P> };

export interface OverlayConfig {
  hyparview: HyParViewConfig;
  plumtree: PlumTreeConfig;
}

export const DEFAULT_OVERLAY_CONFIG: Readonly<OverlayConfig> = Object.freeze({
  hyparview: DEFAULT_HYPARVIEW_CONFIG,
  plumtree: DEFAULT_PLUMTREE_CONFIG,
});

const MEMBERSHIP_MESSAGES = new Set(['join', 'forward-join', 'neighbor', 'neighbor-reply', 'disconnect', 'shuffle', 'shuffle-reply']);
const BROADCAST_MESSAGES = new Set(['gossip', 'ihave', 'graft', 'prune']);
const BROADCAST_TIMERS = new Set(['graft-timeout', 'ihave-dispatch']);

/** Is this one of the overlay's wire message types (membership or broadcast)? */
export function overlayMessageKind(message: unknown): 'membership' | 'broadcast' | null {
  if (typeof message !== 'object' || message === null) return null;
  const type = (message as { type?: unknown }).type;
  if (typeof type !== 'string') return null;
  if (MEMBERSHIP_MESSAGES.has(type)) return 'membership';
  if (BROADCAST_MESSAGES.has(type)) return 'broadcast';
  return null;
}

/**
 * One topic's overlay: HyParView membership with PlumTree broadcast on top.
 * Membership's neighbour-up/down events feed the broadcast tree; the two
 * machines share one random source. Sans-IO, like its parts.
 */
export class Overlay<P extends PeerId = PeerId> {
  readonly self: P;
  readonly membership: HyParView<P>;
  readonly broadcast: PlumTree<P>;

  /** `validate` checks each new payload before the tree caches, forwards or delivers it. */
  constructor(
    self: P,
    rngOrSeed: Random | number,
    config: Partial<{ hyparview: Partial<HyParViewConfig>; plumtree: Partial<PlumTreeConfig> }> = {},
    validate?: PayloadValidator,
  ) {
    this.self = self;
    const rng = typeof rngOrSeed === 'number' ? new SplitMix32(mixSeed(rngOrSeed)) : rngOrSeed;
    this.membership = new HyParView(self, rng, config.hyparview);
    this.broadcast = new PlumTree(self, rng, config.plumtree, validate);
    const tree = this.broadcast;
    this.membership.setKeepPreference((peer) => tree.isEager(peer));
  }

  activeView(): readonly P[] {
    return this.membership.activeView();
  }

  passiveView(): readonly P[] {
    return this.membership.passiveView();
  }

  /** See `PlumTree.handle` for the errors a publish throws. */
  handle(input: OverlayInput<P>, now: number): OverlayOutput<P>[] {
    switch (input.type) {
      case 'recv': {
        const kind = overlayMessageKind(input.message);
        if (kind === 'membership') {
          return this.fromMembership(this.membership.handle(input as { type: 'recv'; from: P; message: HyParViewMessage<P> }, now), now);
        }
        if (kind === 'broadcast') {
          if (this.membership.hasLeft()) return [];
          const outs = this.broadcast.handle(input as { type: 'recv'; from: P; message: PlumTreeMessage }, now);
          // A first valid delivery from a peer protects its membership slot.
          for (const o of outs) if (o.type === 'emit' && o.event.type === 'deliver') this.membership.noteUseful(o.event.from, now);
          return outs;
        }
        return [{ type: 'emit', event: { type: 'dropped', from: input.from, reason: 'not an overlay message' } }];
      }
      case 'timer':
        if (BROADCAST_TIMERS.has(input.timer.type)) {
          const abandoned = this.broadcast.stats.abandoned;
          const outs: OverlayOutput<P>[] = this.broadcast.handle({ type: 'timer', timer: input.timer as PlumTreeTimer }, now);
          // Every announcer of a message failed us: the membership looks for a peer that relays.
          if (this.broadcast.stats.abandoned > abandoned) {
            for (const o of this.fromMembership(this.membership.noteStarved(now), now)) outs.push(o);
          }
          return outs;
        }
        return this.fromMembership(this.membership.handle({ type: 'timer', timer: input.timer as HyParViewTimer<P> }, now), now);
      case 'command': {
        const c = input.command;
        if (c.type === 'publish') return this.broadcast.handle({ type: 'command', command: c }, now);
        return this.fromMembership(this.membership.handle({ type: 'command', command: c }, now), now);
      }
      case 'peer-down':
        return this.fromMembership(this.membership.handle(input, now), now);
    }
  }

  /** Passes membership outputs through and feeds neighbour changes to the tree. */
  private fromMembership(outputs: HyParViewOutput<P>[], now: number): OverlayOutput<P>[] {
    const result: OverlayOutput<P>[] = outputs;
    const n = outputs.length;
    for (let i = 0; i < n; i++) {
      const o = outputs[i];
      if (o.type !== 'emit') continue;
      const ev = o.event;
      if (ev.type === 'neighbor-up' || ev.type === 'neighbor-down') {
        const more: PlumTreeOutput<P>[] = this.broadcast.handle({ type: ev.type, peer: ev.peer }, now);
        for (const m of more) result.push(m);
      }
    }
    return result;
  }
}
