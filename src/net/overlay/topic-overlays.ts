import type { PayloadValidator, PlumTreeConfig } from '../plumtree/types.ts';
import { mixSeed, SplitMix32, type Random } from '../membership/random.ts';
import type { HyParViewConfig, PeerId } from '../membership/types.ts';
import { Overlay, type OverlayCommand, type OverlayEvent, type OverlayMessage, type OverlayTimer } from './overlay.ts';

export type TopicOverlaysInput<P extends PeerId = PeerId> =
  | { type: 'recv'; from: P; topic: string; message: OverlayMessage<P> }
  | { type: 'timer'; topic: string; timer: OverlayTimer<P> }
  /** `join` on an unknown topic creates its overlay; `leave` removes it. */
  | { type: 'command'; topic: string; command: OverlayCommand<P> }
  /** The shared connection broke: every topic overlay hears of it. */
  | { type: 'peer-down'; peer: P };

export type TopicOverlaysOutput<P extends PeerId = PeerId> =
  | { type: 'send'; to: P; topic: string; message: OverlayMessage<P> }
  /** The first topic that needs this peer asked for a connection. */
  | { type: 'connect'; peer: P }
  /** The last topic that needed this peer let it go. */
  | { type: 'disconnect'; peer: P }
  | { type: 'set-timer'; delayMs: number; topic: string; timer: OverlayTimer<P> }
  | { type: 'emit'; topic: string; event: OverlayEvent<P> };

/**
 * Many topics over one set of connections: one `Overlay` per topic, their
 * messages and timers tagged with the topic, and connections counted across
 * topics so that a peer shared by several overlays is dialled once and
 * closed only when no overlay needs it.
 */
export class TopicOverlays<P extends PeerId = PeerId> {
  readonly self: P;
  private readonly seed: number;
  private readonly config: { hyparview?: Partial<HyParViewConfig>; plumtree?: Partial<PlumTreeConfig> };
  private readonly overlays = new Map<string, Overlay<P>>();
  private readonly users = new Map<P, Set<string>>();
  private readonly rng: Random;
  private readonly validate: ((topic: string, payload: Uint8Array) => boolean) | undefined;

  /** `validate` checks each new payload of a topic before its tree caches, forwards or delivers it. */
  constructor(
    self: P,
    seed: number,
    config: { hyparview?: Partial<HyParViewConfig>; plumtree?: Partial<PlumTreeConfig> } = {},
    validate?: (topic: string, payload: Uint8Array) => boolean,
  ) {
    this.self = self;
    this.seed = seed;
    this.config = config;
    this.validate = validate;
    this.rng = new SplitMix32(mixSeed(seed, 0x70b1c5));
  }

  topics(): string[] {
    return [...this.overlays.keys()];
  }

  overlay(topic: string): Overlay<P> | undefined {
    return this.overlays.get(topic);
  }

  /** Peers with an open connection and the topics that use each. */
  connections(): Map<P, ReadonlySet<string>> {
    return this.users;
  }

  handle(input: TopicOverlaysInput<P>, now: number): TopicOverlaysOutput<P>[] {
    const out: TopicOverlaysOutput<P>[] = [];
    if (input.type === 'peer-down') {
      for (const [topic, overlay] of this.overlays) this.collect(topic, overlay.handle(input, now), out);
      this.users.delete(input.peer);
      return out;
    }
    let overlay = this.overlays.get(input.topic);
    if (!overlay && input.type === 'command' && input.command.type === 'join') {
      const validate = this.validate;
      const check: PayloadValidator | undefined = validate && ((payload) => validate(input.topic, payload));
      overlay = new Overlay<P>(this.self, new SplitMix32(mixSeed(this.seed, this.rng.nextU32())), this.config, check);
      this.overlays.set(input.topic, overlay);
    }
    if (!overlay) {
      if (input.type === 'recv') {
        out.push({ type: 'emit', topic: input.topic, event: { type: 'dropped', from: input.from, reason: 'not subscribed to this topic' } });
      }
      return out;
    }
    const inner =
      input.type === 'recv'
        ? { type: 'recv' as const, from: input.from, message: input.message }
        : input.type === 'timer'
          ? { type: 'timer' as const, timer: input.timer }
          : { type: 'command' as const, command: input.command };
    this.collect(input.topic, overlay.handle(inner, now), out);
    if (input.type === 'command' && input.command.type === 'leave') this.overlays.delete(input.topic);
    return out;
  }

  private collect(topic: string, outs: ReturnType<Overlay<P>['handle']>, out: TopicOverlaysOutput<P>[]): void {
    for (const o of outs) {
      switch (o.type) {
        case 'send':
          out.push({ type: 'send', to: o.to, topic, message: o.message });
          break;
        case 'set-timer':
          out.push({ type: 'set-timer', delayMs: o.delayMs, topic, timer: o.timer });
          break;
        case 'emit':
          out.push({ type: 'emit', topic, event: o.event });
          break;
        case 'connect': {
          let set = this.users.get(o.peer);
          if (!set) {
            set = new Set();
            this.users.set(o.peer, set);
            out.push({ type: 'connect', peer: o.peer });
          }
          set.add(topic);
          break;
        }
        case 'disconnect': {
          const set = this.users.get(o.peer);
          if (!set?.delete(topic)) break;
          if (set.size === 0) {
            this.users.delete(o.peer);
            out.push({ type: 'disconnect', peer: o.peer });
          }
          break;
        }
      }
    }
  }
}
