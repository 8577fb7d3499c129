/**
 * Group data encryption (the "data scheme" of p2panda-encryption, after the
 * DCGKA paper, Weidner et al., CCS 2021): one member at a time draws a fresh
 * random group secret on create, update and remove, and sends it to every
 * other reader over the two-party channels (two-party.ts). Bodies are sealed
 * under the latest secret (group-secrets.ts). A newcomer gets a welcome: a
 * fresh secret for everyone, and in the newcomer's box the history its
 * policy allows.
 *
 * The hazard rule (docs/encryption.md): an adder welcomes only once every
 * other manager of the add's state has acknowledged the add, each ack
 * written only by a manager in whose view the newcomer is a reader. A
 * manager that concurrently removed the adder never acks, so a newcomer
 * whose add the group resolves away never receives the history.
 *
 * Sans-IO: time and randomness come in, control bodies to publish come out.
 * Async only because HPKE (@hpke/core) is.
 */
import { bytesEqual, fromHex, toHex, WalkawayError, type PrivateKey } from '../core/index.ts';
import { keyIdOf, type BodyKey } from './body-key.ts';
import { decodeBox, decodeControlMessage, encodeBox, encodeControlMessage, MAX_HISTORY, type ControlMessage, type SecretReason } from './control.ts';
import { BODY_KIND, encodeControl, type Envelope } from './envelope.ts';
import { BodyKeyCache, boundSecrets, latestSealable, mayStillSeal, retireAllSecrets, type SecretEntry, type SecretTable } from './group-secrets.ts';
import { bundleOf, decodeBundle, encodeBundle, generateMemberKeys, type MemberKeys, type PreKeyBundle } from './prekeys.ts';
import type { RandomSource } from './random.ts';
import { newTwoPartyState, receiveTwoParty, sendTwoParty, type TwoPartyState } from './two-party.ts';
import type { ControlInput, GroupMembership, GroupOutput, HistoryPolicy, MembershipChange } from './types.ts';

export interface GroupEncryptionConfig {
  identity: PrivateKey;
  /** Topic id: keys are derived per topic. */
  topic: Uint8Array;
  membership: GroupMembership;
  random: RandomSource;
  history?: HistoryPolicy;
  /** Most secrets kept (the oldest go first). */
  maxSecrets?: number;
  /** Most pre-key bundles kept (bundles of new owners beyond it are refused). */
  maxBundles?: number;
  /** Most adds awaiting acks, and most states with acks recorded. */
  maxPendingAdds?: number;
}

/** Everything a member must keep (and persist) to stay in the group; plain, structured-clonable data. */
export interface GroupEncryptionState {
  keys: MemberKeys;
  bundles: Map<string, PreKeyBundle>;
  channels: Map<string, TwoPartyState>;
  secrets: SecretTable;
  /** Secrets this member drew, until its own control message comes back with its Lamport time. */
  ownPending: Map<string, { secret: Uint8Array; recipients: string[]; afterRemoval?: string }>;
  /** Adds this member made, awaiting the other managers' acks: by state, newcomer and who must still ack. */
  adds: Map<string, { newcomer: string; waitingFor: string[] }>;
  /** Acks seen, by add state. */
  acks: Map<string, Set<string>>;
  removed: boolean;
  /** The auth state of the last removal this member drew a secret for. */
  lastRekey?: string;
}

export class GroupEncryption {
  private readonly me: string;
  private readonly bodyKeys: BodyKeyCache;
  private readonly history: HistoryPolicy;

  constructor(
    private readonly config: GroupEncryptionConfig,
    private readonly state: GroupEncryptionState,
  ) {
    this.me = toHex(config.identity.publicKey.toBytes());
    this.bodyKeys = new BodyKeyCache(config.topic);
    this.history = config.history ?? 'all';
  }

  /** A member with fresh key material (pre-key valid from `now`). */
  static create(config: GroupEncryptionConfig, now: number): GroupEncryption {
    const keys = generateMemberKeys(config.identity, config.random, now);
    const state: GroupEncryptionState = {
      keys,
      bundles: new Map(),
      channels: new Map(),
      secrets: new Map(),
      ownPending: new Map(),
      adds: new Map(),
      acks: new Map(),
      removed: false,
    };
    const member = new GroupEncryption(config, state);
    member.state.bundles.set(member.me, bundleOf(keys, config.identity));
    return member;
  }

  /** Whether a pre-key bundle of `member` (hex) is known here: a secret can be sent to it. */
  hasBundle(member: string): boolean {
    return this.state.bundles.has(member);
  }

  /** A copy of the whole state (to persist it, or in tests: what a thief would take). */
  exportState(): GroupEncryptionState {
    return structuredClone(this.state);
  }

  get memberId(): string {
    return this.me;
  }

  /** This member's Ed25519 public key. */
  get memberKey(): Uint8Array {
    return this.config.identity.publicKey.toBytes();
  }

  /** My pre-key bundle, encoded (to put in a ticket, or hand to an adder). */
  bundle(): Uint8Array {
    return encodeBundle(bundleOf(this.state.keys, this.config.identity));
  }

  /** A control body that publishes a bundle (mine by default, or an invitee's) on the topic. */
  bundleMessage(bundle: Uint8Array = this.bundle()): Uint8Array {
    return encodeControl(encodeControlMessage({ type: 'bundle', bundle }));
  }

  /** Learns a bundle out of band (from a ticket); verifies its signature. */
  learnBundle(bytes: Uint8Array): void {
    this.storeBundle(decodeBundle(bytes));
  }

  /** I created the group (auth state `state`): the first secret, for every reader. */
  create(state: Uint8Array, now: number): Promise<GroupOutput> {
    return this.distribute('create', state, undefined, now);
  }

  /** A fresh secret for every reader: heals a compromise of this member (post-compromise security). */
  update(state: Uint8Array, now: number): Promise<GroupOutput> {
    return this.distribute('update', state, undefined, now);
  }

  /** A membership change from the group CRDT, in causal order. */
  async changed(change: MembershipChange, now: number): Promise<GroupOutput> {
    const member = toHex(change.member);
    const by = toHex(change.by);
    const stateHex = toHex(change.state);
    if (change.type === 'removed') {
      if (member === this.me) {
        this.state.removed = true;
        retireAllSecrets(this.state.secrets);
        return empty();
      }
      // The removed member may hold any secret held here (a welcome's history gives all of them): none seals
      // again, except one drawn for this very removal (its recipients already exclude everyone it removes).
      retireAllSecrets(this.state.secrets, { removal: stateHex, member });
      for (const [s, add] of this.state.adds) if (add.newcomer === member) this.state.adds.delete(s);
      this.state.channels.delete(member);
      if (this.rekeyerAfterRemoval(change, by, member) !== this.me) return empty();
      // One auth operation can remove several readers (strong removal undoes adds): one fresh secret covers them all.
      if (this.state.lastRekey === stateHex) return empty();
      this.state.lastRekey = stateHex;
      return this.distribute('remove', change.state, undefined, now);
    }
    if (member === this.me || this.state.removed) return empty();
    const managers = (this.config.membership.managersAt(change.state) ?? []).map(toHex);
    if (by === this.me) {
      this.state.adds.set(stateHex, { newcomer: member, waitingFor: managers.filter((m) => m !== this.me) });
      trim(this.state.adds, this.config.maxPendingAdds ?? 256);
      return this.maybeWelcome(stateHex, now);
    }
    if (managers.includes(this.me) && this.isReader(member)) {
      return { ...empty(), publish: [encodeControl(encodeControlMessage({ type: 'ack', state: change.state, member: change.member }))] };
    }
    return empty();
  }

  /** A control message from the topic (mine included), in causal order. Throws a typed error for one it cannot use. */
  async receive(input: ControlInput, now: number): Promise<GroupOutput> {
    const message = decodeControlMessage(input.message);
    const author = toHex(input.author);
    switch (message.type) {
      case 'bundle':
        this.storeBundle(decodeBundle(message.bundle));
        return empty();
      case 'ack':
        return this.receiveAck(message, author, now);
      case 'secret':
        return author === this.me ? this.ownSecretArrived(message, input.lamport) : this.receiveSecret(message, author, input);
    }
  }

  /** Seals an application body under the latest secret; MISSING_KEY when none may seal (e.g. right after a removal). */
  seal(plaintext: Uint8Array): Uint8Array {
    const latest = this.state.removed ? undefined : latestSealable(this.state.secrets);
    if (!latest) throw new WalkawayError('MISSING_KEY', 'no group secret may seal now: wait for the next secret, or update');
    return this.bodyKeys.of(latest[0], latest[1].secret).seal(plaintext, this.config.identity.publicKey.toBytes(), this.config.random);
  }

  /** Opens a sealed group body by `author`: MISSING_KEY for a secret not held (yet), DECRYPTION_FAILED if changed. */
  open(author: Uint8Array, envelope: Envelope): Uint8Array {
    if (envelope.kind !== BODY_KIND.group) throw new WalkawayError('MALFORMED', `a group topic holds group bodies, got kind ${envelope.kind}`);
    return this.keyFor(envelope).open(envelope, author);
  }

  /** Id (hex) of the secret `seal` uses now. */
  latestSecretId(): string | undefined {
    return latestSealable(this.state.secrets)?.[0];
  }

  private keyFor(envelope: Extract<Envelope, { keyId: Uint8Array }>): BodyKey {
    const id = toHex(envelope.keyId);
    const entry = this.state.secrets.get(id);
    if (!entry) throw new WalkawayError('MISSING_KEY', `no group secret ${id} here (yet)`, { keyId: id });
    return this.bodyKeys.of(id, entry.secret);
  }

  private isReader(member: string): boolean {
    return this.config.membership.readers().some((r) => toHex(r) === member);
  }

  /**
   * Who draws the secret after a removal: the remover, unless it removed
   * itself or is no longer a reader; then the first (by key) manager of the
   * removal's state who still reads. Every member computes the same one.
   */
  private rekeyerAfterRemoval(change: MembershipChange, by: string, removed: string): string | undefined {
    if (by !== removed && this.isReader(by)) return by;
    const managers = (this.config.membership.managersAt(change.state) ?? []).map(toHex).sort();
    return managers.find((m) => m !== removed && (m === this.me ? !this.state.removed : this.isReader(m)));
  }

  private async distribute(reason: SecretReason, state: Uint8Array, newcomer: string | undefined, now: number): Promise<GroupOutput> {
    if (this.state.removed) throw new WalkawayError('INVALID_ARGUMENT', 'a removed member draws no group secrets');
    const secret = this.config.random(32);
    const secretId = keyIdOf(secret, this.config.topic);
    const history = this.history === 'all' ? this.historyForWelcome() : [];
    const recipients = this.config.membership
      .readers()
      .map(toHex)
      .filter((r) => r !== this.me)
      .sort();
    const boxes: { recipient: Uint8Array; message: Uint8Array }[] = [];
    const failed: { member: string; error: WalkawayError }[] = [];
    for (const r of recipients) {
      const channel = this.state.channels.get(r) ?? newTwoPartyState();
      const content = encodeBox({ secret, history: r === newcomer ? history : [] });
      try {
        const message = await sendTwoParty(channel, this.state.keys, fromHex(r), this.state.bundles.get(r), content, this.config.random, now);
        this.state.channels.set(r, channel);
        boxes.push({ recipient: fromHex(r), message });
      } catch (err) {
        if (!(err instanceof WalkawayError)) throw err;
        failed.push({ member: r, error: err });
      }
    }
    const sentTo = boxes.map((b) => toHex(b.recipient));
    this.state.ownPending.set(toHex(secretId), { secret, recipients: sentTo, afterRemoval: reason === 'remove' ? toHex(state) : undefined });
    const message: ControlMessage = { type: 'secret', reason, state, secretId, newcomer: newcomer ? fromHex(newcomer) : undefined, boxes };
    return { publish: [encodeControl(encodeControlMessage(message))], secrets: [], failed };
  }

  private historyForWelcome(): { secret: Uint8Array; lamport: number }[] {
    const all = [...this.state.secrets.values()].sort((a, b) => b.lamport - a.lamport);
    return all.slice(0, MAX_HISTORY).map((e) => ({ secret: e.secret, lamport: e.lamport }));
  }

  private ownSecretArrived(message: Extract<ControlMessage, { type: 'secret' }>, lamport: number): GroupOutput {
    const id = toHex(message.secretId);
    const pending = this.state.ownPending.get(id);
    if (!pending) return empty(); // from an earlier run of this member, or a copy of this key elsewhere: nothing to add
    this.state.ownPending.delete(id);
    this.storeSecret(id, {
      secret: pending.secret,
      lamport,
      creator: this.me,
      recipients: pending.recipients,
      afterRemoval: pending.afterRemoval,
      sealable: false,
    });
    return { ...empty(), secrets: [id] };
  }

  private async receiveSecret(message: Extract<ControlMessage, { type: 'secret' }>, author: string, input: ControlInput): Promise<GroupOutput> {
    const box = message.boxes.find((b) => toHex(b.recipient) === this.me);
    if (!box || this.state.removed) return empty();
    // Read before (a replay after a restart from persisted state): its channel keys are used up, its secret is here.
    if (this.state.secrets.has(toHex(message.secretId))) return empty();
    const channel = this.state.channels.get(author) ?? newTwoPartyState();
    const content = decodeBox(await receiveTwoParty(channel, this.state.keys, input.author, box.message));
    this.state.channels.set(author, channel);
    const id = toHex(message.secretId);
    if (!bytesEqual(keyIdOf(content.secret, this.config.topic), message.secretId)) {
      throw new WalkawayError('MALFORMED', `secret in the box does not match its id ${id}`);
    }
    const ids = [id];
    const isMyWelcome = message.reason === 'welcome' && message.newcomer !== undefined && toHex(message.newcomer) === this.me;
    if (isMyWelcome) {
      for (const h of content.history) {
        const hid = toHex(keyIdOf(h.secret, this.config.topic));
        if (this.state.secrets.has(hid)) continue;
        this.storeSecret(hid, { secret: h.secret, lamport: Math.min(h.lamport, input.lamport), sealable: false });
        ids.push(hid);
      }
    }
    const recipients = message.boxes.map((b) => toHex(b.recipient));
    const afterRemoval = message.reason === 'remove' ? toHex(message.state) : undefined;
    this.storeSecret(id, { secret: content.secret, lamport: input.lamport, creator: author, recipients, afterRemoval, sealable: false });
    return { ...empty(), secrets: ids };
  }

  private storeSecret(id: string, entry: SecretEntry): void {
    const readers = new Set(this.config.membership.readers().map(toHex));
    entry.sealable = !this.state.removed && mayStillSeal(entry, readers, this.me);
    this.state.secrets.set(id, entry);
    boundSecrets(this.state.secrets, this.config.maxSecrets ?? 4096);
  }

  private async receiveAck(message: Extract<ControlMessage, { type: 'ack' }>, author: string, now: number): Promise<GroupOutput> {
    const stateHex = toHex(message.state);
    const acks = this.state.acks.get(stateHex) ?? new Set<string>();
    acks.add(author);
    this.state.acks.set(stateHex, acks);
    trim(this.state.acks, this.config.maxPendingAdds ?? 256);
    return this.maybeWelcome(stateHex, now);
  }

  /** Welcomes the newcomer of my add once every other manager of its state has acked and it still reads. */
  private async maybeWelcome(stateHex: string, now: number): Promise<GroupOutput> {
    const add = this.state.adds.get(stateHex);
    if (!add || this.state.removed) return empty();
    const acked = this.state.acks.get(stateHex) ?? new Set<string>();
    if (!add.waitingFor.every((m) => acked.has(m) || !this.isReader(m))) return empty();
    if (!this.isReader(add.newcomer)) return empty();
    this.state.adds.delete(stateHex);
    this.state.acks.delete(stateHex);
    return this.distribute('welcome', fromHex(stateHex), add.newcomer, now);
  }

  private storeBundle(bundle: PreKeyBundle): void {
    const owner = toHex(bundle.owner);
    const known = this.state.bundles.get(owner);
    if (known && known.notBefore >= bundle.notBefore) return;
    if (!known && this.state.bundles.size >= (this.config.maxBundles ?? 4096)) {
      throw new WalkawayError('PENDING_OVERFLOW', `pre-key bundles full (${this.state.bundles.size})`);
    }
    this.state.bundles.set(owner, bundle);
  }
}

function empty(): GroupOutput {
  return { publish: [], secrets: [], failed: [] };
}

/** Keeps a map within `max` entries, dropping the oldest inserted. */
function trim<K, V>(map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}
