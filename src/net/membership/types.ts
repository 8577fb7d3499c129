/**
 * Types of the HyParView membership machine. Peer ids are generic (`P`):
 * small integers in the simulator, strings (libp2p peer ids) on the network.
 * Every message is plain data (strings, numbers, booleans, arrays) so that a
 * driver can encode it with CBOR as it is.
 */

export type PeerId = string | number;

/** `high`: the sender has no active peer and must be accepted. `low`: accept
 * only with a free slot. `swap`: the sender rotates its view to re-check that
 * the overlay is whole; accept, evicting a random peer if the view is full. */
export type NeighborPriority = 'high' | 'low' | 'swap';

export type HyParViewMessage<P extends PeerId = PeerId> =
  | { type: 'join' }
  | { type: 'forward-join'; peer: P; ttl: number }
  | { type: 'neighbor'; priority: NeighborPriority }
  | { type: 'neighbor-reply'; accepted: boolean }
  | { type: 'disconnect'; alive: boolean }
  | { type: 'shuffle'; origin: P; ttl: number; peers: P[] }
  | { type: 'shuffle-reply'; peers: P[] };

export type HyParViewTimer<P extends PeerId = PeerId> = { type: 'shuffle' } | { type: 'repair' } | { type: 'rotate' } | { type: 'neighbor-timeout'; peer: P };

export type HyParViewCommand<P extends PeerId = PeerId> = { type: 'join'; peers: P[] } | { type: 'leave' };

export type HyParViewInput<P extends PeerId = PeerId> =
  | { type: 'recv'; from: P; message: HyParViewMessage<P> }
  | { type: 'timer'; timer: HyParViewTimer<P> }
  | { type: 'command'; command: HyParViewCommand<P> }
  /** The connection to `peer` broke, or a dial or send to it failed. */
  | { type: 'peer-down'; peer: P };

export type HyParViewEvent<P extends PeerId = PeerId> =
  | { type: 'neighbor-up'; peer: P }
  | { type: 'neighbor-down'; peer: P }
  /** A peer sent something malformed or out of place; it was ignored. */
  | { type: 'dropped'; from: P; reason: string }
  /** Every known address was tried and failed: the node is alone. */
  | { type: 'isolated' };

export type HyParViewOutput<P extends PeerId = PeerId> =
  | { type: 'send'; to: P; message: HyParViewMessage<P> }
  /** Keep a connection to `peer` open and report `peer-down` when it breaks. */
  | { type: 'connect'; peer: P }
  /** The connection to `peer` is no longer needed by this overlay. */
  | { type: 'disconnect'; peer: P }
  | { type: 'set-timer'; delayMs: number; timer: HyParViewTimer<P> }
  | { type: 'emit'; event: HyParViewEvent<P> };

export interface HyParViewConfig {
  /** Active view size (fanout + 1). Paper: 5. */
  activeViewCapacity: number;
  /** Passive view size. Paper: 30. */
  passiveViewCapacity: number;
  /** Active random walk length of a forward join. Paper: 6. */
  activeRandomWalkLength: number;
  /** Hop at which a forward join also lands in the passive view. Paper: 3. */
  passiveRandomWalkLength: number;
  /** Random walk length of a shuffle. Paper: 6. */
  shuffleRandomWalkLength: number;
  /** Active peers sent in a shuffle. Paper: 3. */
  shuffleActiveCount: number;
  /** Passive peers sent in a shuffle. Paper: 4. */
  shufflePassiveCount: number;
  /** Mean period of the passive-view shuffle. */
  shuffleIntervalMs: number;
  /**
   * Mean shuffle period while the passive view is less than half full (as
   * after a join) and shuffles still teach us peers: a thin passive view
   * is what leaves a node stranded when its active peers fail together.
   */
  fastShuffleIntervalMs: number;
  /** A neighbour or join request without reply by then counts as failed. */
  neighborRequestTimeoutMs: number;
  /** Period of retries while the active view has a free slot. */
  repairIntervalMs: number;
  /**
   * With fewer active peers than this, a repair asks its first passive (or
   * bootstrap) peer at HIGH priority, which a full view accepts. The paper
   * sends HIGH only from an empty view (1 here).
   */
  highRequestBelow: number;
  /**
   * Mean period of the healing rotation: a node with a full active view
   * swaps in a random passive (or bootstrap) peer. After a clean split each
   * half refills its views from its own side, so a full view proves nothing;
   * the rotation is what brings the halves together again. 0 turns it off.
   */
  rotateIntervalMs: number;
  /** Chance that a rotation picks a bootstrap address instead of a passive peer. */
  rotateBootstrapChance: number;
  /** Longest peer list accepted in a shuffle (larger ones are dropped). */
  maxShufflePeers: number;

  // --- defences against hostile peers (eclipse attempts) -----------------
  /**
   * Up to this many active peers that gave us a valid message first within
   * `usefulWindowMs` (the overlay reports them, `noteUseful`) cannot be
   * evicted by anyone's request; other evictions prefer peers that did not.
   */
  protectedActivePeers: number;
  usefulWindowMs: number;
  /** Least time between two HIGH requests of a node the broadcast layer reports starved (`noteStarved`). */
  starvedRetryMs: number;
  /** How long a peer reported down is not taken back from others' lists, and how many are remembered. */
  downMemoryMs: number;
  maxDownRemembered: number;
  /**
   * Evictions that other peers' requests (JOIN, HIGH, SWAP, a forward join
   * ending here) may cause: a burst, then one per refill interval. Over
   * budget, such a request is refused (a forward join ends in the passive
   * view). Bounds how fast newcomers take active slots.
   */
  evictionBurst: number;
  evictionRefillMs: number;
  /** One sender's JOINs: over budget a JOIN is taken as a HIGH request and not forwarded. */
  joinBurst: number;
  joinRefillMs: number;
  /** One sender's HIGH requests: over budget one is taken as LOW. */
  highRequestBurst: number;
  highRequestRefillMs: number;
  /** One sender's FORWARD_JOINs: over budget they are dropped. */
  forwardJoinBurst: number;
  forwardJoinRefillMs: number;
  /** One sender's SHUFFLE and SHUFFLE_REPLY messages: over budget they are dropped. */
  shuffleBurst: number;
  shuffleRefillMs: number;
  /**
   * Most passive entries that one sender may have put in the passive view
   * (more replace its own): one of our `protectedActivePeers` oldest active
   * peers or the answer to our own shuffle `maxPassivePerSource`, any other
   * sender `maxPassivePerNewSource`.
   */
  maxPassivePerSource: number;
  maxPassivePerNewSource: number;
  /**
   * Most passive entries from senders of the second kind and from peers
   * that introduced only themselves, all together; a new one replaces one
   * of them.
   */
  maxUntrustedPassive: number;
  /** Most senders tracked by each per-sender budget (least recently used dropped). */
  maxTrackedSenders: number;
}

export const DEFAULT_HYPARVIEW_CONFIG: Readonly<HyParViewConfig> = Object.freeze({
  activeViewCapacity: 5,
  passiveViewCapacity: 30,
  activeRandomWalkLength: 6,
  passiveRandomWalkLength: 3,
  shuffleRandomWalkLength: 6,
  shuffleActiveCount: 3,
  shufflePassiveCount: 4,
  shuffleIntervalMs: 30_000,
  fastShuffleIntervalMs: 3_000,
  neighborRequestTimeoutMs: 500,
  repairIntervalMs: 1_000,
  highRequestBelow: 3,
  rotateIntervalMs: 60_000,
  rotateBootstrapChance: 0.1,
  maxShufflePeers: 32,
  protectedActivePeers: 3,
  usefulWindowMs: 60_000,
  starvedRetryMs: 5_000,
  downMemoryMs: 60_000,
  maxDownRemembered: 256,
  evictionBurst: 10,
  evictionRefillMs: 2_000,
  joinBurst: 1,
  joinRefillMs: 30_000,
  highRequestBurst: 2,
  highRequestRefillMs: 10_000,
  forwardJoinBurst: 50,
  forwardJoinRefillMs: 50,
  shuffleBurst: 4,
  shuffleRefillMs: 2_000,
  maxPassivePerSource: 5,
  maxPassivePerNewSource: 1,
  maxUntrustedPassive: 10,
  maxTrackedSenders: 1_024,
});
