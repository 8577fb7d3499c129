/**
 * Access control for a topic: the processor for the chain's `access` slot
 * (src/processors/chain.ts). Operations arrive in causal order.
 * - An auth operation (one on the topic's auth log, `authLogIdFor`) is
 *   decoded and applied to the group state; it goes no further. Its
 *   membership changes become `member` events, and changes of who holds
 *   read access or more become `readers` events: what the encryption layer
 *   needs to share and rotate the topic's secrets.
 * - Any other operation is a write. It passes on only if its author holds
 *   write access (or `minWriteLevel`) at the write's timestamp, in the state
 *   of the auth operations in its causal past. Otherwise it is dropped,
 *   reported (`rejected`, NOT_PERMITTED) and told as a `rejected` event.
 *
 * Judging a write by the auth operations it depends on, not by whatever
 * arrived first, gives every replica the same answer as long as no
 * concurrent auth operation changes that past. A removal concurrent with a
 * write that arrives after the write cannot call it back from an app that
 * already had it: that is the limit of any access control over eventually
 * consistent delivery; the removal holds for everything that depends on it.
 *
 * Idempotent, as slots must be: a repeated operation gets the same answer.
 */
import { Hash, WalkawayError, concatBytes, isWalkawayError, logIdOf, previousOf, timestampOf, utf8, bytesEqual } from '../core/index.ts';
import type { OrderedOperation, ProcessorReport } from '../processors/types.ts';
import { authOpOf, decodeAuthBody } from './codec.ts';
import type { GroupState } from './group-state.ts';
import { READ, WRITE, levelName, type Access, type MemberChange } from './types.ts';

/** The log id of a topic's auth operations: BLAKE3("walkaway/auth-log/" ‖ topic). */
export function authLogIdFor(topic: Uint8Array): Uint8Array {
  return Hash.digest(concatBytes(utf8('walkaway/auth-log/'), topic)).bytes;
}

export type AccessEvent =
  | (MemberChange & { op: string })
  | { type: 'readers'; change: 'added' | 'removed'; member: string; by: string; op: string }
  | { type: 'rejected'; op: string; author: string; error: WalkawayError };

export interface AccessControlConfig {
  topic: Uint8Array;
  /** The topic's access group: the id of the operation that created it (hex). */
  group?: string;
  /**
   * Or the topic's owner (hex public key): its first create on this topic
   * becomes the group. Its log is delivered in order, so every replica picks
   * the same create; this is what a private topic's ticket can carry before
   * the group exists.
   */
  owner?: string;
  /** The group state; shared by a node's topics, so that identities (device groups) count everywhere. */
  state: GroupState;
  minWriteLevel?: number;
  /**
   * The auth body of an auth operation, undefined for a write. Default: the
   * body of an operation on `authLogIdFor(topic)`. A topic that carries its
   * auth operations on its own log (as the node's `publish` does today)
   * marks them its own way, e.g. with a prefix this strips.
   */
  authBodyOf?: (op: OrderedOperation['operation']) => Uint8Array | undefined | null;
  onReport?: (report: ProcessorReport) => void;
  onEvent?: (event: AccessEvent) => void;
  /** Most operations whose known auth heads are remembered (the oldest go first). */
  maxTracked?: number;
}

const PROCESSOR = 'access';

export class AccessControlProcessor {
  readonly name = PROCESSOR;
  readonly #config: AccessControlConfig;
  readonly #authLog: Uint8Array;
  readonly #minWrite: number;
  readonly #maxTracked: number;
  /** operation hash → the auth operations (maximal ids) in its causal past. */
  readonly #known = new Map<string, string[]>();
  #readers: Map<string, Access>;
  #group: string | undefined;
  /** The maximal auth operations applied through this topic: the deps of its next auth operation. */
  #authHeads: string[] = [];

  constructor(config: AccessControlConfig) {
    if ((config.group === undefined) === (config.owner === undefined)) throw new TypeError('the access processor needs a group or an owner, not both');
    this.#config = config;
    this.#group = config.group;
    this.#authLog = authLogIdFor(config.topic);
    this.#minWrite = config.minWriteLevel ?? WRITE;
    this.#maxTracked = config.maxTracked ?? 65_536;
    this.#readers = this.#group ? config.state.members(this.#group, { time: Number.NEGATIVE_INFINITY, minLevel: READ }) : new Map();
  }

  /** The topic's group, once known. */
  get group(): string | undefined {
    return this.#group;
  }

  /**
   * The auth operations of this topic that no other of them follows: the
   * deps of this node's next auth operation here (the state may hold other
   * topics' groups too, which are not in this topic's causal past).
   */
  authHeads(): string[] {
    return [...this.#authHeads];
  }

  /**
   * May the topic's operations go to and come from `peer` (sync, gossip)?
   * Pull access or more at `time` (µs); before the group is known, only its
   * owner (the invitee's first sync is with whoever let it in).
   */
  mayExchange(peer: string, time: number): boolean {
    if (!this.#group) return peer === this.#config.owner;
    return this.#config.state.access(this.#group, peer, time) !== null;
  }

  process(input: OrderedOperation): OrderedOperation[] {
    const op = input.operation;
    const hash = op.hash.toHex();
    const author = op.header.publicKey.toHex();
    const time = timestampOf(op.header) ?? 0;
    const deps = previousOf(op.header).map((h) => h.toHex());
    if (op.header.backlink) deps.push(op.header.backlink.toHex());
    const known = this.#knownBy(deps);
    const authBody = this.#config.authBodyOf ? this.#config.authBodyOf(op) : bytesEqual(logIdOf(op.header), this.#authLog) ? (op.body ?? null) : undefined;
    if (authBody !== undefined) {
      this.#applyAuth(hash, author, time, known, authBody ?? undefined);
      return [];
    }
    this.#remember(hash, known ?? this.#config.state.heads());
    const access = this.#group ? this.#config.state.access(this.#group, author, time, known) : null;
    if (access && access.level >= this.#minWrite) return [input];
    const has = access ? levelName(access.level) : 'no access';
    const error = new WalkawayError('NOT_PERMITTED', `write by ${author} dropped: it holds ${has} at its dependencies, ${levelName(this.#minWrite)} needed`, {
      author,
      level: access?.level ?? null,
    });
    this.#reject(op.hash, hash, author, error);
    return [];
  }

  processAll(inputs: readonly OrderedOperation[]): OrderedOperation[] {
    return inputs.flatMap((i) => this.process(i));
  }

  #applyAuth(hash: string, author: string, time: number, known: string[] | undefined, body: Uint8Array | undefined): void {
    const state = this.#config.state;
    let applied: ReturnType<GroupState['apply']>;
    try {
      if (!body) throw new WalkawayError('MALFORMED', 'an auth operation without a body');
      const decoded = decodeAuthBody(body);
      // Only what the operation causally depends on, so that no replica judges it by an auth operation that merely came earlier.
      const missing = known ? decoded.deps.find((d) => !state.precedes(d, known)) : undefined;
      if (missing) throw new WalkawayError('MALFORMED', `auth dependency ${missing} is not in the operation's causal past`);
      applied = state.apply(authOpOf(hash, author, time, decoded));
    } catch (err) {
      if (!isWalkawayError(err)) throw err;
      this.#remember(hash, known ?? state.heads());
      return this.#reject(Hash.fromHex(hash), hash, author, err);
    }
    if (applied.type === 'rejected') {
      this.#remember(hash, known ?? state.heads());
      return this.#reject(Hash.fromHex(hash), hash, author, applied.error);
    }
    this.#remember(hash, state.maximal([...(known ?? []), hash]));
    this.#authHeads = state.maximal([...this.#authHeads, hash]);
    if (applied.type === 'duplicate') return;
    if (!this.#group && author === this.#config.owner && state.groups().includes(hash)) this.#group = hash;
    const group = this.#group;
    if (!group) return;
    const emit = this.#config.onEvent;
    for (const change of applied.changes) if (change.group === group) emit?.({ ...change, op: hash });
    const readers = state.members(group, { time, minLevel: READ });
    for (const member of readers.keys()) if (!this.#readers.has(member)) emit?.({ type: 'readers', change: 'added', member, by: author, op: hash });
    for (const member of this.#readers.keys()) if (!readers.has(member)) emit?.({ type: 'readers', change: 'removed', member, by: author, op: hash });
    this.#readers = readers;
  }

  /** The auth heads in the past of `deps`; undefined when a dependency is not remembered (then: the current heads). */
  #knownBy(deps: string[]): string[] | undefined {
    const all: string[] = [];
    for (const d of deps) {
      const k = this.#known.get(d);
      if (!k) return undefined;
      all.push(...k);
    }
    return deps.length <= 1 ? all : this.#config.state.maximal(all);
  }

  #remember(hash: string, known: string[]): void {
    this.#known.delete(hash);
    this.#known.set(hash, known);
    if (this.#known.size > this.#maxTracked) this.#known.delete(this.#known.keys().next().value!);
  }

  #reject(hash: Hash, hex: string, author: string, error: WalkawayError): void {
    this.#config.onReport?.({ type: 'rejected', processor: PROCESSOR, hash, error });
    this.#config.onEvent?.({ type: 'rejected', op: hex, author, error });
  }
}
