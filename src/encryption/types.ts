/**
 * What the encryption layer needs from group membership (the group CRDT of
 * src/auth, written in parallel). Kept this small on purpose: the data
 * scheme asks who may read now, and who could manage the group at the state
 * an add was made in. Members are Ed25519 public keys (operation authors),
 * group states are the ids of auth operations.
 */
import type { WalkawayError } from '../core/index.ts';

export interface GroupMembership {
  /**
   * Members with access level read or above in the current state: after
   * every auth operation processed here, concurrent removals resolved.
   */
  readers(): readonly Uint8Array[];
  /** Members with access level manage in the state after the auth operation `state`; undefined when unknown here. */
  managersAt(state: Uint8Array): readonly Uint8Array[] | undefined;
}

/** A membership change, as the auth processor reports it (in causal order). */
export interface MembershipChange {
  type: 'added' | 'removed';
  /** Id of the auth operation that made the change. */
  state: Uint8Array;
  /** Its author. */
  by: Uint8Array;
  member: Uint8Array;
}

/** A group control message as it arrives: an operation body in clear, in causal order. */
export interface ControlInput {
  author: Uint8Array;
  /** Lamport timestamp of the operation: orders secrets (latest wins) the same way on every member. */
  lamport: number;
  /** The control message (envelope already taken off). */
  message: Uint8Array;
}

/** What a call on the data scheme asks of its caller. */
export interface GroupOutput {
  /** Bodies to publish on the topic (control messages, enveloped). */
  publish: Uint8Array[];
  /** Ids (hex) of secrets that became available here: sealed bodies waiting for them may open now. */
  secrets: string[];
  /** Members a fresh secret could not be sent to (no bundle, expired pre-key): they wait for the next one. */
  failed: { member: string; error: WalkawayError }[];
}

/** Which history a newcomer may read. */
export type HistoryPolicy =
  /** Every secret the welcomer holds: the whole history of the group. */
  | 'all'
  /** Nothing from before the welcome: the newcomer reads from its welcome on. */
  | 'from-welcome';
