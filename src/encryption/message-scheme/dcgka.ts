/**
 * The key agreement of the message scheme: DCGKA, after Weidner et al.,
 * "Key Agreement for Decentralized Secure Group Messaging with Strong
 * Security Guarantees" (CCS 2021), and p2panda-encryption's message_scheme
 * (our own code). Sans-IO: control messages in, control messages and update
 * secrets out; time and randomness are arguments.
 *
 * Every member keeps an outer ratchet for every member (itself included).
 * A ratchet moves only on a control message of its owner, and every member
 * that can follow it computes the same steps, so each step's update secret
 * (seeding the owner's next message ratchet, group.ts) is known exactly to
 * those who could follow:
 *
 * - create, update, remove: a fresh seed to each other member (per the
 *   sender's view) over the two-party channels; HKDF(seed, member) is each
 *   member's secret. The sender's ratchet takes its own secret.
 * - ack: a recipient acknowledges with its own member secret as its
 *   ratchet's next input, and forwards that secret to members it knows and
 *   the sender did not (added concurrently).
 * - add: the adder sends the newcomer its outer ratchet and its view; its
 *   ratchet steps with fixed inputs ("welcome", then "add"). Every other
 *   member answers with an add-ack carrying its own ratchet to the newcomer.
 *
 * Ordering rules, as dependencies on the node's causal order: an ack is
 * published after its author processed what it acknowledges (so its
 * operation depends on it); an author's control messages are read in its log
 * order (`seq`); a newcomer skips every control message its adder had read
 * (the welcome names the last seq of each member) and cannot read messages
 * from before its add. Control messages from non-members (in the reader's
 * view) are ignored: a member removed concurrently can no longer move anyone's
 * ratchet. A removal also removes the members the removed one added that the
 * remover did not know of (added concurrently with the removal).
 */
import { fromHex, toHex, WalkawayError, type PrivateKey } from '../../core/index.ts';
import { deriveKey } from '../kdf.ts';
import { decodeBundle, type MemberKeys, type PreKeyBundle } from '../prekeys.ts';
import type { RandomSource } from '../random.ts';
import type { TwoPartyState } from '../two-party.ts';
import { asSecret, decodeWelcome, encodeWelcome, MAX_MEMBERS, type Direct, type SchemeMessage } from './messages.ts';
import { applyRemoval, rememberFormer } from './view.ts';
import { learnOneTimeKeys, oneTimeKeysToPublish, receiveOver, sendOver, sendOverAll } from './channels.ts';

const WELCOME_INPUT = new TextEncoder().encode('walkaway/dcgka/welcome').slice(0, 32);
const ADD_INPUT = new TextEncoder().encode('walkaway/dcgka/add').slice(0, 32);
/** Member secrets waiting for their member's ack (the oldest go first). */
export const MAX_MEMBER_SECRETS = 16_384;
/** Control messages kept from before my add. */
const MAX_EARLY = 1024;

export interface DcgkaState {
  keys: MemberKeys;
  bundles: Map<string, PreKeyBundle>;
  channels: Map<string, TwoPartyState>;
  /** My last control seq. */
  seq: number;
  /** Last control seq read from each other member (replays and what came before my add are skipped). */
  lastSeq: Map<string, number>;
  /** My view of the group (me included), with who added each member (absent: a founder). */
  members: Map<string, { adder?: string }>;
  /** Outer ratchets, by member. */
  ratchets: Map<string, Uint8Array>;
  /** Member secrets by `sender:seq:member`, until that member's ack. */
  memberSecrets: Map<string, Uint8Array>;
  /** Control messages read before I joined (bounded), to read once I do. */
  early: { author: string; message: SchemeMessage }[];
  /** One-time pre-keys peers published for me, by peer (one-time-keys.ts). */
  peerOneTimeKeys: Map<string, Uint8Array>;
  /** Peers I published a one-time pre-key for. */
  oneTimeFor: Set<string>;
  /** Members removed in my view (a removal by one of them, concurrent with its own, still counts). */
  former: Set<string>;
  joined: boolean;
  removed: boolean;
}

/** One step of someone's outer ratchet: the update secret that opens `member`'s epoch `seq`. */
export interface EpochStart {
  member: string;
  seq: number;
  secret: Uint8Array;
}

export interface DcgkaStep {
  /** My control messages to publish, in order (my own operation, or my answers to what was read). */
  controls: SchemeMessage[];
  epochs: EpochStart[];
  /** Members a direct message could not be sent to (no bundle, expired pre-key). */
  failed: { member: string; error: WalkawayError }[];
}

export class Dcgka {
  readonly me: string;

  constructor(
    identity: PrivateKey,
    private readonly random: RandomSource,
    readonly state: DcgkaState,
  ) {
    this.me = toHex(identity.publicKey.toBytes());
  }

  members(): string[] {
    return this.state.removed ? [] : [...this.state.members.keys()].sort();
  }

  storeBundle(bundle: PreKeyBundle, max: number): void {
    const owner = toHex(bundle.owner);
    const known = this.state.bundles.get(owner);
    if (known && known.notBefore >= bundle.notBefore) return;
    if (!known && this.state.bundles.size >= max) throw new WalkawayError('PENDING_OVERFLOW', `pre-key bundles full (${max})`);
    this.state.bundles.set(owner, bundle);
  }

  learnBundle(bytes: Uint8Array, max: number): void {
    this.storeBundle(decodeBundle(bytes), max);
  }

  async create(members: readonly string[], now: number): Promise<DcgkaStep> {
    if (this.state.joined) throw new WalkawayError('INVALID_ARGUMENT', 'this member is in a group already');
    const others = [...new Set(members)].filter((m) => m !== this.me).sort();
    if (others.length + 1 > MAX_MEMBERS) throw new WalkawayError('INVALID_ARGUMENT', `a group has at most ${MAX_MEMBERS} members`);
    const seed = this.random(32);
    const { directs, failed } = await this.sendAll(others, seed, now);
    const joined = [this.me, ...directs.map((d) => toHex(d.recipient))];
    this.state.members = new Map(joined.map((m) => [m, {}]));
    this.state.joined = true;
    const seq = ++this.state.seq;
    const epochs = [this.applySeed(this.me, seq, joined.slice(1), seed)];
    return { controls: [{ type: 'create', seq, members: joined.map(fromHex), directs }], epochs, failed };
  }

  /** A fresh seed for every other member: heals a compromise of this member once they ack. */
  async update(now: number): Promise<DcgkaStep> {
    this.mustBeMember();
    const seed = this.random(32);
    const { directs, failed } = await this.sendAll(this.others(), seed, now);
    const seq = ++this.state.seq;
    const epochs = [this.applySeed(this.me, seq, recipientsOf(directs), seed)];
    return { controls: [{ type: 'update', seq, directs }], epochs, failed };
  }

  async remove(member: string, now: number): Promise<DcgkaStep> {
    this.mustBeMember();
    if (member === this.me || !this.state.members.has(member)) throw new WalkawayError('INVALID_ARGUMENT', `${member} is not another member`);
    this.state.members.delete(member);
    // Its channel stays: what it sent before it learns of its removal is still read (never answered).
    rememberFormer(this.state, member);
    const seed = this.random(32);
    const { directs, failed } = await this.sendAll(this.others(), seed, now);
    const seq = ++this.state.seq;
    const epochs = [this.applySeed(this.me, seq, recipientsOf(directs), seed)];
    return { controls: [{ type: 'remove', seq, member: fromHex(member), directs }], epochs, failed };
  }

  async add(member: string, now: number): Promise<DcgkaStep> {
    this.mustBeMember();
    if (this.state.members.has(member)) throw new WalkawayError('INVALID_ARGUMENT', `${member} is a member already`);
    if (this.state.members.size >= MAX_MEMBERS) throw new WalkawayError('INVALID_ARGUMENT', `a group has at most ${MAX_MEMBERS} members`);
    const seq = this.state.seq + 1;
    const welcome = encodeWelcome({
      ratchet: this.ratchetOf(this.me),
      members: [...this.state.members].map(([id, info]) => ({
        id: fromHex(id),
        adder: info.adder === undefined ? undefined : fromHex(info.adder),
        lastSeq: id === this.me ? seq - 1 : (this.state.lastSeq.get(id) ?? 0),
      })),
    });
    const message = await this.send(member, welcome, now); // throws when it cannot be sent: there is no add without a welcome
    this.state.seq = seq;
    this.state.members.set(member, { adder: this.me });
    return {
      controls: [{ type: 'add', seq, member: fromHex(member), directs: [{ recipient: fromHex(member), message }] }],
      epochs: this.addSteps(this.me, seq, member),
      failed: [],
    };
  }

  /**
   * A control message of another member, in causal order. Typed errors for
   * one that cannot be used. Every ratchet step it makes is followed whenever
   * the secrets are here (so a member reads exactly what its sender meant it
   * to); it is answered (ack, add-ack, forwards) and changes the membership
   * only when its author is a member in my view and I am one.
   */
  async receive(author: string, m: SchemeMessage, now: number): Promise<DcgkaStep> {
    const none: DcgkaStep = { controls: [], epochs: [], failed: [] };
    if (author === this.me || m.type === 'bundle') return none; // my own: the state moved when I made it
    if (m.type === 'one-time-keys') {
      learnOneTimeKeys(this.state, this.me, author, m.keys);
      return none;
    }
    if (!this.state.joined) {
      if (m.type === 'create' && m.members.some((x) => toHex(x) === this.me)) return this.joinedBy(this.processCreate(author, m, now), now);
      if (m.type === 'add' && toHex(m.member) === this.me) return this.joinedBy(this.processWelcome(author, m, true), now);
      // Possibly concurrent with my add, which has not come yet: kept, and read once I join unless my adder had read it.
      this.state.early.push({ author, message: m });
      if (this.state.early.length > MAX_EARLY) this.state.early.shift();
      return none;
    }
    if (m.seq <= (this.state.lastSeq.get(author) ?? 0)) return none; // read already, or before my add
    this.state.lastSeq.set(author, m.seq);
    const respond = this.state.members.has(author) && !this.state.removed;
    switch (m.type) {
      case 'create':
        return none;
      case 'update':
        return this.processSeed(author, m.seq, m.directs, now, respond);
      case 'remove':
        return this.processRemove(author, m.seq, toHex(m.member), m.directs, now, respond);
      case 'add':
        if (toHex(m.member) === this.me) return this.state.removed ? none : this.processWelcome(author, m, respond);
        return this.processAdd(author, m.seq, toHex(m.member), now, respond);
      case 'ack':
        return this.processAck(author, m.seq, `${toHex(m.ackSender)}:${m.ackSeq}`, m.directs);
      case 'add-ack':
        return this.processAddAck(author, m.seq, m.directs);
    }
  }

  /** After joining: the control messages kept from before, in their order (those my adder had read are skipped). */
  private async joinedBy(joining: Promise<DcgkaStep>, now: number): Promise<DcgkaStep> {
    const step = await joining;
    for (const { author, message } of this.state.early.splice(0)) {
      const next = await this.receive(author, message, now);
      step.controls.push(...next.controls);
      step.epochs.push(...next.epochs);
      step.failed.push(...next.failed);
    }
    return step;
  }

  private async processCreate(author: string, m: Extract<SchemeMessage, { type: 'create' }>, now: number): Promise<DcgkaStep> {
    this.state.members = new Map(m.members.map((x) => [toHex(x), {}]));
    this.state.joined = true;
    this.state.lastSeq.set(author, m.seq);
    return this.processSeed(author, m.seq, m.directs, now, true);
  }

  private async processSeed(author: string, seq: number, directs: Direct[], now: number, respond: boolean): Promise<DcgkaStep> {
    const recipients = recipientsOf(directs);
    const mine = directs.find((d) => toHex(d.recipient) === this.me);
    // Not a recipient: I was added concurrently (whoever knows me forwards its own secret with its ack), or I am out.
    if (!mine) return { controls: [], epochs: [], failed: [] };
    const seed = asSecret(await this.receiveFrom(author, mine.message), 'seed');
    const epochs = [this.applySeed(author, seq, recipients, seed)];
    const key = `${author}:${seq}:${this.me}`;
    const mySecret = this.state.memberSecrets.get(key)!;
    this.state.memberSecrets.delete(key);
    if (!respond) {
      mySecret.fill(0);
      return { controls: [], epochs, failed: [] };
    }
    const unknownToSender = this.others().filter((x) => x !== author && !recipients.includes(x));
    const { directs: forwards, failed } = await this.sendAll(unknownToSender, mySecret, now);
    const mySeq = ++this.state.seq;
    epochs.push({ member: this.me, seq: mySeq, secret: this.updateRatchet(this.me, mySecret) });
    return { controls: [{ type: 'ack', seq: mySeq, ackSender: fromHex(author), ackSeq: seq, directs: forwards }], epochs, failed };
  }

  private async processRemove(author: string, seq: number, removed: string, directs: Direct[], now: number, respond: boolean): Promise<DcgkaStep> {
    const recipients = recipientsOf(directs);
    // A removal by a member removed concurrently still counts (mutual removals remove both), one by a stranger does not.
    const counts = !this.state.removed && (respond || this.state.former.has(author));
    if (counts) applyRemoval(this.state, this.me, removed, new Set([author, ...recipients]));
    const stillIn = !this.state.removed && this.state.members.has(author);
    const step = await this.processSeed(author, seq, directs, now, stillIn);
    if (!counts || this.state.removed || (stillIn && recipients.includes(this.me))) return step;
    // Not answered with an ack (added concurrently, or the remover is out): the removed member may have followed
    // the ratchets my epoch came from, so I heal with an update of my own.
    const healed = await this.update(now);
    return { controls: [...step.controls, ...healed.controls], epochs: [...step.epochs, ...healed.epochs], failed: [...step.failed, ...healed.failed] };
  }

  private async processAdd(author: string, seq: number, added: string, now: number, respond: boolean): Promise<DcgkaStep> {
    // The adder's ratchet is followed only if I know it (its add knew me); otherwise its add-ack to me brings it.
    const epochs = this.state.ratchets.has(author) ? this.addSteps(author, seq, added) : [];
    if (!respond) return { controls: [], epochs, failed: [] };
    if (!this.state.members.has(added)) this.state.members.set(added, { adder: author });
    const failed: DcgkaStep['failed'] = [];
    const directs: Direct[] = [];
    try {
      directs.push({ recipient: fromHex(added), message: await this.send(added, this.ratchetOf(this.me), now) });
    } catch (err) {
      if (!(err instanceof WalkawayError)) throw err;
      failed.push({ member: added, error: err });
    }
    const mySeq = ++this.state.seq;
    epochs.push({ member: this.me, seq: mySeq, secret: this.updateRatchet(this.me, ADD_INPUT) });
    return { controls: [{ type: 'add-ack', seq: mySeq, ackSender: fromHex(author), ackSeq: seq, directs }], epochs, failed };
  }

  private async processWelcome(author: string, m: { seq: number; directs: Direct[] }, respond: boolean): Promise<DcgkaStep> {
    const mine = m.directs.find((d) => toHex(d.recipient) === this.me);
    if (!mine) throw new WalkawayError('MALFORMED', 'an add of this member without its welcome');
    const welcome = decodeWelcome(await this.receiveFrom(author, mine.message));
    if (!this.state.joined) {
      this.state.members = new Map(welcome.members.map((x) => [toHex(x.id), { adder: x.adder && toHex(x.adder) }]));
      for (const x of welcome.members) this.state.lastSeq.set(toHex(x.id), x.lastSeq);
      this.state.members.set(this.me, { adder: author });
      this.state.joined = true;
    }
    this.state.lastSeq.set(author, m.seq);
    this.state.ratchets.get(author)?.fill(0);
    this.state.ratchets.set(author, welcome.ratchet.slice());
    welcome.ratchet.fill(0);
    const epochs = this.addSteps(author, m.seq, this.me);
    const key = `${author}:${m.seq}:${this.me}`;
    const mySecret = this.state.memberSecrets.get(key)!;
    this.state.memberSecrets.delete(key);
    if (!respond) {
      mySecret.fill(0);
      return { controls: [], epochs, failed: [] };
    }
    const mySeq = ++this.state.seq;
    epochs.push({ member: this.me, seq: mySeq, secret: this.updateRatchet(this.me, mySecret) });
    return { controls: [{ type: 'ack', seq: mySeq, ackSender: fromHex(author), ackSeq: m.seq, directs: [] }], epochs, failed: [] };
  }

  private async processAck(author: string, seq: number, acked: string, directs: Direct[]): Promise<DcgkaStep> {
    const key = `${acked}:${author}`;
    let secret = this.state.memberSecrets.get(key);
    this.state.memberSecrets.delete(key);
    // A forward is read even when the secret is here: the two-party channel needs every message in order.
    const forward = directs.find((d) => toHex(d.recipient) === this.me);
    if (forward) {
      const forwarded = asSecret(await this.receiveFrom(author, forward.message), 'forwarded member secret');
      if (secret) forwarded.fill(0);
      else secret = forwarded;
    }
    if (!secret) return { controls: [], epochs: [], failed: [] };
    return { controls: [], epochs: [{ member: author, seq, secret: this.updateRatchet(author, secret) }], failed: [] };
  }

  private async processAddAck(author: string, seq: number, directs: Direct[]): Promise<DcgkaStep> {
    const forward = directs.find((d) => toHex(d.recipient) === this.me);
    if (forward) {
      const ratchet = asSecret(await this.receiveFrom(author, forward.message), 'forwarded ratchet');
      this.state.ratchets.get(author)?.fill(0);
      this.state.ratchets.set(author, ratchet);
    }
    if (!this.state.ratchets.has(author)) return { controls: [], epochs: [], failed: [] };
    return { controls: [], epochs: [{ member: author, seq, secret: this.updateRatchet(author, ADD_INPUT) }], failed: [] };
  }

  /** The adder's two fixed steps: the newcomer's member secret, then the adder's update secret. */
  private addSteps(adder: string, seq: number, added: string): EpochStart[] {
    this.putMemberSecret(`${adder}:${seq}:${added}`, this.updateRatchet(adder, WELCOME_INPUT));
    return [{ member: adder, seq, secret: this.updateRatchet(adder, ADD_INPUT) }];
  }

  /** Member secrets from a seed for each recipient; the sender's own goes into its ratchet at once. */
  private applySeed(sender: string, seq: number, recipients: readonly string[], seed: Uint8Array): EpochStart {
    for (const r of recipients) this.putMemberSecret(`${sender}:${seq}:${r}`, deriveKey(seed, 'dcgka-member', fromHex(r)));
    const own = deriveKey(seed, 'dcgka-member', fromHex(sender));
    seed.fill(0);
    return { member: sender, seq, secret: this.updateRatchet(sender, own) };
  }

  /** update secret ‖ next ratchet = HKDF(previous ratchet ‖ input), bound to the member; the input is wiped. */
  private updateRatchet(member: string, input: Uint8Array): Uint8Array {
    const previous = this.state.ratchets.get(member);
    const ikm = new Uint8Array((previous?.length ?? 0) + input.length);
    if (previous) ikm.set(previous);
    ikm.set(input, previous?.length ?? 0);
    const context = fromHex(member);
    const update = deriveKey(ikm, 'dcgka-update', context);
    this.state.ratchets.set(member, deriveKey(ikm, 'dcgka-chain', context));
    previous?.fill(0);
    ikm.fill(0);
    if (input !== WELCOME_INPUT && input !== ADD_INPUT) input.fill(0);
    return update;
  }

  private ratchetOf(member: string): Uint8Array {
    const r = this.state.ratchets.get(member);
    if (!r) throw new WalkawayError('MISSING_KEY', `no outer ratchet of ${member} here`);
    return r.slice();
  }

  private putMemberSecret(key: string, secret: Uint8Array): void {
    this.state.memberSecrets.get(key)?.fill(0);
    this.state.memberSecrets.set(key, secret);
    for (const [k, s] of this.state.memberSecrets) {
      if (this.state.memberSecrets.size <= MAX_MEMBER_SECRETS) break;
      s.fill(0);
      this.state.memberSecrets.delete(k);
    }
  }

  private others(): string[] {
    return [...this.state.members.keys()].filter((m) => m !== this.me).sort();
  }

  private mustBeMember(): void {
    if (!this.state.joined || this.state.removed) throw new WalkawayError('INVALID_ARGUMENT', 'this member is not in the group');
  }

  /** One-time pre-keys for the members I have no channel with yet (published after every step). */
  oneTimeKeys(): SchemeMessage | undefined {
    return oneTimeKeysToPublish(this.state, this.me, this.random);
  }

  private sendAll(recipients: readonly string[], plaintext: Uint8Array, now: number) {
    return sendOverAll(this.state, this.random, recipients, plaintext, now);
  }

  private send(recipient: string, plaintext: Uint8Array, now: number): Promise<Uint8Array> {
    return sendOver(this.state, this.random, recipient, plaintext, now);
  }

  private receiveFrom(sender: string, message: Uint8Array): Promise<Uint8Array> {
    return receiveOver(this.state, sender, message);
  }
}

function recipientsOf(directs: readonly Direct[]): string[] {
  return directs.map((d) => toHex(d.recipient));
}
