/**
 * The check the gossip overlay runs on every new payload before it caches,
 * forwards or delivers it: the payload decodes, and an operation's header
 * hash and signature (or an ephemeral message's signature) verify. An
 * operation already in the store passes on its hash alone. What passed is
 * kept, keyed by the payload's identity (the tree delivers the very bytes it
 * validated), so the node does not decode or verify twice on delivery.
 */
import { decodeOperationUnverified, unsignedBytesOf, WalkawayError, type Operation } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { verifyEphemeral, type EphemeralMessage } from './ephemeral.ts';
import { decodePayload } from './payload.ts';

export type VerifiedPayload =
  /** `known`: the store held it already (no signature was checked, none was needed). */
  | { kind: 'operation'; op: Operation; known: boolean }
  | { kind: 'ephemeral'; message: EphemeralMessage; bytes: Uint8Array };

export class GossipValidator {
  readonly #store: Store;
  readonly #log: (message: string) => void;
  /** Weak: a payload the tree drops (or never delivers) takes its entry with it. */
  #verified = new WeakMap<Uint8Array, VerifiedPayload>();

  constructor(store: Store, log: (message: string) => void) {
    this.#store = store;
    this.#log = log;
  }

  /** The overlay's validator: true when the payload may travel on. Never throws. */
  validate(payload: Uint8Array): boolean {
    try {
      this.#verified.set(payload, this.#verify(payload));
      return true;
    } catch (err) {
      this.#log(`invalid gossip payload: ${(err as Error).message}`);
      return false;
    }
  }

  /**
   * The verified form of a delivered payload: what `validate` found, or (for
   * a payload it never saw) a fresh check. Throws a WalkawayError on an
   * invalid payload.
   */
  take(payload: Uint8Array): VerifiedPayload {
    const verified = this.#verified.get(payload);
    if (!verified) return this.#verify(payload);
    this.#verified.delete(payload);
    return verified;
  }

  #verify(bytes: Uint8Array): VerifiedPayload {
    const payload = decodePayload(bytes);
    if (payload.kind === 'ephemeral') return { kind: 'ephemeral', message: verifyEphemeral(payload.bytes), bytes: payload.bytes };
    const op = decodeOperationUnverified(payload.headerBytes, payload.body);
    // The hash covers the signature: a stored operation with this hash is this operation.
    if (this.#store.hasOperation(op.hash)) return { kind: 'operation', op, known: true };
    if (!op.header.publicKey.verify(unsignedBytesOf(op.headerBytes), op.header.signature)) {
      throw new WalkawayError('INVALID_SIGNATURE', 'gossip operation signature does not verify');
    }
    return { kind: 'operation', op, known: false };
  }
}
