/**
 * Private topics on a node: the wiring docs/auth.md asked for.
 * - One `GroupState` per node (`PrivateTopics`), shared by its private
 *   topics.
 * - Each private topic gets an `AccessControlProcessor` in its chain's
 *   access slot, and an exchange policy for sync and gossip: operations go
 *   to, and are taken from, peers with pull access or more (a peer's
 *   transport identity is its signing key, proven in the Noise handshake).
 * - Auth operations travel on the topic's auth log (`authLogIdFor`), synced
 *   with the topic.
 * - On restart the state is rebuilt: the topic's stored history is replayed
 *   through the chain, so the access slot sees every auth operation again.
 * - A ticket of a private topic names its owner; the owner's first create
 *   on the topic is its group.
 */
import { topicId, WalkawayError } from '../../core/index.ts';
import type { Node, StreamOptions, TopicStream } from '../../node/index.ts';
import { decodeTicket, isTicket } from '../../node/ticket.ts';
import { AccessControlProcessor, authLogIdFor, type AccessEvent } from '../access-processor.ts';
import { encodeAuthBody } from '../codec.ts';
import { GroupState } from '../group-state.ts';
import { levelName, MANAGE, type Access, type GroupAction, type GroupStateConfig } from '../types.ts';

const HEX_KEY = /^[0-9a-f]{64}$/;

export interface PrivateTopicOptions {
  /** The owner (hex public key) whose first create is the group. Default: a ticket's owner, else this node (the creator). */
  owner?: string;
  onEvent?: (event: AccessEvent) => void;
  /** Passed on to `node.stream` (processors, replay, signal). */
  stream?: Omit<StreamOptions, 'access' | 'exchange'>;
}

export class PrivateTopics {
  readonly state: GroupState;
  readonly #node: Node;
  readonly #clock: () => number;
  readonly #open = new Map<string, PrivateTopic>();

  /** `clock`: microseconds since the epoch (expiries are judged by it). */
  constructor(node: Node, options: { clock?: () => number; config?: Partial<GroupStateConfig> } = {}) {
    this.#node = node;
    this.#clock = options.clock ?? (() => Date.now() * 1000);
    this.state = new GroupState(options.config);
  }

  /** Joins a private topic (a name or a ticket) with access control in its chain and its sync and gossip. */
  open(topicOrTicket: string | Uint8Array, options: PrivateTopicOptions = {}): PrivateTopic {
    const ticket = isTicket(topicOrTicket) ? decodeTicket(topicOrTicket) : undefined;
    const topic = ticket?.topic ?? topicId(topicOrTicket);
    const key = Buffer.from(topic).toString('hex');
    const known = this.#open.get(key);
    if (known) return known;
    const owner = options.owner ?? ticket?.owner ?? this.#node.id;
    if (!HEX_KEY.test(owner)) throw new WalkawayError('INVALID_ARGUMENT', 'a private topic owner is a hex public key (64 characters)');
    const node = this.#node;
    const onEvent = (event: AccessEvent) => {
      // A peer just let in may have been refused a moment ago: if it is connected, sync with it now.
      if (event.type === 'member' && event.member.kind === 'individual' && event.access && !event.previous && node.peers().includes(event.member.id)) {
        node.syncWith(event.member.id, topic);
      }
      options.onEvent?.(event);
    };
    const access = new AccessControlProcessor({ topic, owner, state: this.state, onEvent });
    const rebuild = { name: 'private-topic-rebuild', process: () => [] };
    const stream = this.#node.stream(topicOrTicket, {
      ...options.stream,
      access,
      exchange: (peer) => access.mayExchange(peer, this.#clock()),
      // Fed the topic's history first, through the slots: the access slot rebuilds the group state.
      processors: [rebuild, ...(options.stream?.processors ?? [])],
    });
    const opened = new PrivateTopic(this.#node, this.state, stream, access, owner, this.#clock);
    this.#open.set(key, opened);
    return opened;
  }
}

export class PrivateTopic {
  readonly stream: TopicStream;
  readonly access: AccessControlProcessor;
  readonly owner: string;
  readonly #node: Node;
  readonly #state: GroupState;
  readonly #clock: () => number;

  constructor(node: Node, state: GroupState, stream: TopicStream, access: AccessControlProcessor, owner: string, clock: () => number) {
    this.#node = node;
    this.#state = state;
    this.stream = stream;
    this.access = access;
    this.owner = owner;
    this.#clock = clock;
  }

  get topic(): Uint8Array {
    return this.stream.topic;
  }

  get group(): string | undefined {
    return this.access.group;
  }

  /** An invitation that names the owner, so the invitee knows whose create is the group. */
  ticket(): string {
    return this.#node.ticket(this.topic, { owner: this.owner });
  }

  /** Creates the group with this node as its manager (the owner does this once; a second call returns the group). */
  async create(): Promise<string> {
    if (this.group) return this.group;
    if (this.owner !== this.#node.id) throw new WalkawayError('NOT_PERMITTED', `only the owner ${this.owner.slice(0, 8)} creates this topic's group`);
    await this.act({ type: 'create', members: [{ member: { kind: 'individual', id: this.#node.id }, access: { level: MANAGE } }] });
    if (!this.group) throw new WalkawayError('PROTOCOL', 'the group was not created');
    return this.group;
  }

  add(member: string, access: Access): Promise<string> {
    return this.#change('add', member, access);
  }
  remove(member: string): Promise<string> {
    return this.#change('remove', member);
  }
  promote(member: string, access: Access): Promise<string> {
    return this.#change('promote', member, access);
  }
  demote(member: string, access: Access): Promise<string> {
    return this.#change('demote', member, access);
  }

  /** Individuals with access now (nesting included), with their access. */
  members(): Map<string, Access> {
    const group = this.group;
    return group ? this.#state.members(group, { time: this.#clock() }) : new Map();
  }

  /** This node's own access now, or null. */
  ownAccess(): Access | null {
    const group = this.group;
    return group ? this.#state.access(group, this.#node.id, this.#clock()) : null;
  }

  async #change(type: 'add' | 'remove' | 'promote' | 'demote', member: string, access?: Access): Promise<string> {
    if (!HEX_KEY.test(member)) throw new WalkawayError('INVALID_ARGUMENT', 'a member is a hex public key (64 characters)');
    const group = this.group;
    if (!group) throw new WalkawayError('NOT_FOUND', 'this topic has no group yet (the owner creates it; an invitee gets it by sync)');
    const leaving = type === 'remove' && member === this.#node.id;
    const own = this.ownAccess();
    if (!leaving && (!own || own.level < MANAGE))
      throw new WalkawayError('NOT_PERMITTED', `${type} needs manage access; this node holds ${own ? levelName(own.level) : 'no access'}`);
    const target = { kind: 'individual' as const, id: member };
    return this.act(type === 'remove' ? { type, group, member: target } : { type, group, member: target, access: access! });
  }

  /** The node's group state (shared by its private topics). */
  get state(): GroupState {
    return this.#state;
  }

  /**
   * Publishes an auth operation on the topic's auth log (any group action:
   * identities use it, src/auth/identity.ts); resolves to its id, or throws
   * if it did not take effect.
   */
  async act(action: GroupAction): Promise<string> {
    const body = encodeAuthBody({ deps: this.access.authHeads(), action });
    const hash = (await this.stream.tx.publish(body, { log: authLogIdFor(this.topic) })).toHex();
    await this.stream.settled();
    const status = this.#state.status(hash);
    if (status === undefined) throw new WalkawayError('NOT_PERMITTED', `the ${action.type} was refused by the group`);
    if (status === 'ignored') throw new WalkawayError('NOT_PERMITTED', `the ${action.type} was ignored (a concurrent removal)`);
    return hash;
  }
}
