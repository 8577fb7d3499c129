/**
 * Membership: HyParView (Leitão, Pereira, Rodrigues, "HyParView: a membership
 * protocol for reliable gossip-based broadcast", DSN 2007,
 * https://asc.di.fct.unl.pt/~jleitao/pdf/dsn07-leitao.pdf).
 *
 * Each topic overlay keeps a small symmetric active view (default 5) of open
 * connections and a passive view (default 30) of addresses. A failed active
 * peer is replaced from the passive view at once; shuffles keep the passive
 * view fresh; a periodic rotation swaps a passive peer into a full active
 * view so that a split overlay merges again without help from the app.
 * Sans-IO: `handle(input, now)` returns outputs; no clocks, no IO, seeded
 * randomness.
 */
export { HyParView } from './hyparview.ts';
export { checkHyParViewMessage, isHyParViewMessage, isPeerId } from './validate.ts';
export { createRandom, type Random } from './random.ts';
export {
  DEFAULT_HYPARVIEW_CONFIG,
  type HyParViewCommand,
  type HyParViewConfig,
  type HyParViewEvent,
  type HyParViewInput,
  type HyParViewMessage,
  type HyParViewOutput,
  type HyParViewTimer,
  type NeighborPriority,
  type PeerId,
} from './types.ts';
