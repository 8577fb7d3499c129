/**
 * A member of a group under the message scheme: the key agreement
 * (dcgka.ts) plus a message ratchet per epoch (ratchet.ts). Every control
 * message of a member opens a new epoch of that member (its own create,
 * update, remove or add, and its acks), and its messages after it are sealed
 * in that epoch, one key and nonce per message.
 *
 * Forward secrecy: a used message key is wiped at once, a chain secret is
 * overwritten by the next, and an epoch's chain goes when the sender has
 * moved MAX_EPOCHS_PER_SENDER epochs on. Post-compromise security: a thief
 * holding a member's state loses track as soon as that member's update has
 * been acknowledged, since every step after it mixes in secrets that went
 * over two-party channels under keys drawn after the theft.
 *
 * Own messages: the sender keeps no key to open its own bodies (that is the
 * point); `seal` remembers the plaintexts of its last MAX_OWN_PLAINTEXTS
 * bodies in memory so that the node's own operations read back, and a
 * restarted member no longer reads what it wrote before.
 */
import { toHex, WalkawayError, type PrivateKey } from '../../core/index.ts';
import { TAG_LENGTH } from '../envelope.ts';
import { bundleOf, encodeBundle, generateMemberKeys } from '../prekeys.ts';
import type { RandomSource } from '../random.ts';
import { Dcgka, type DcgkaState, type DcgkaStep } from './dcgka.ts';
import { decodeSchemeMessage, encodeSchemeMessage } from './messages.ts';
import { newReceiveChain, newSendChain, openAt, sealNext, wipeChain, type ReceiveChain, type SendChain } from './ratchet.ts';
import { decodeSealedMessage, encodeMessageControl, messageAad, messageHeader, SEALED_MESSAGE_HEADER } from './sealed.ts';

/** Epochs kept per sender for its messages still in flight (older ones are wiped). */
export const MAX_EPOCHS_PER_SENDER = 4;
/** Plaintexts of own bodies kept in memory to read them back. */
export const MAX_OWN_PLAINTEXTS = 1024;

export interface MessageGroupConfig {
  identity: PrivateKey;
  /** Topic id: bodies are bound to it. */
  topic: Uint8Array;
  random: RandomSource;
  /** Most pre-key bundles kept. */
  maxBundles?: number;
}

/** Everything a member keeps (plain, structured-clonable data). */
export interface MessageGroupState {
  dcgka: DcgkaState;
  sending?: { epoch: number; chain: SendChain };
  /** Message ratchets of the other members, by member and epoch. */
  receiving: Map<string, Map<number, ReceiveChain>>;
}

export interface MessageOutput {
  /** Control bodies to publish on the topic (enveloped, kind 5). */
  publish: Uint8Array[];
  /** Epochs (`member:seq`) that opened here: bodies waiting for them may open now. */
  epochs: string[];
  failed: { member: string; error: WalkawayError }[];
}

export class MessageGroup {
  private readonly dcgka: Dcgka;
  private readonly own = new Map<string, Uint8Array>();

  constructor(
    private readonly config: MessageGroupConfig,
    private readonly state: MessageGroupState,
  ) {
    this.dcgka = new Dcgka(config.identity, config.random, state.dcgka);
  }

  /** A member with fresh key material (pre-key valid from `now`), in no group yet. */
  static create(config: MessageGroupConfig, now: number): MessageGroup {
    const keys = generateMemberKeys(config.identity, config.random, now);
    const dcgka: DcgkaState = {
      keys,
      bundles: new Map(),
      channels: new Map(),
      seq: 0,
      lastSeq: new Map(),
      members: new Map(),
      ratchets: new Map(),
      memberSecrets: new Map(),
      early: [],
      peerOneTimeKeys: new Map(),
      oneTimeFor: new Set(),
      former: new Set(),
      joined: false,
      removed: false,
    };
    const member = new MessageGroup(config, { dcgka, receiving: new Map() });
    dcgka.bundles.set(member.memberId, bundleOf(keys, config.identity));
    return member;
  }

  get memberId(): string {
    return this.dcgka.me;
  }

  /** Members in this member's view, sorted (empty once removed). */
  members(): string[] {
    return this.dcgka.members();
  }

  get joined(): boolean {
    return this.state.dcgka.joined && !this.state.dcgka.removed;
  }

  /** A copy of the whole state (to persist it; in tests, what a thief takes). */
  exportState(): MessageGroupState {
    return structuredClone(this.state);
  }

  bundle(): Uint8Array {
    return encodeBundle(bundleOf(this.state.dcgka.keys, this.config.identity));
  }

  /** A control body publishing a bundle (mine by default) on the topic. */
  bundleMessage(bundle: Uint8Array = this.bundle()): Uint8Array {
    return encodeMessageControl(encodeSchemeMessage({ type: 'bundle', seq: 0, bundle }));
  }

  learnBundle(bytes: Uint8Array): void {
    this.dcgka.learnBundle(bytes, this.config.maxBundles ?? 4096);
  }

  hasBundle(member: string): boolean {
    return this.state.dcgka.bundles.has(member);
  }

  /** Creates the group with these members (those without a bundle are left out and reported). */
  async create(members: readonly Uint8Array[], now: number): Promise<MessageOutput> {
    return this.apply(await this.dcgka.create(members.map(toHex), now));
  }

  async update(now: number): Promise<MessageOutput> {
    return this.apply(await this.dcgka.update(now));
  }

  async add(member: Uint8Array, now: number): Promise<MessageOutput> {
    return this.apply(await this.dcgka.add(toHex(member), now));
  }

  async remove(member: Uint8Array, now: number): Promise<MessageOutput> {
    return this.apply(await this.dcgka.remove(toHex(member), now));
  }

  /** A control message (envelope taken off) by `author`, in causal order. Typed errors for one it cannot use. */
  async receive(input: { author: Uint8Array; message: Uint8Array }, now: number): Promise<MessageOutput> {
    const message = decodeSchemeMessage(input.message);
    if (message.type === 'bundle') {
      this.learnBundle(message.bundle);
      return { publish: [], epochs: [], failed: [] };
    }
    return this.apply(await this.dcgka.receive(toHex(input.author), message, now));
  }

  /** Seals a body in my current epoch with the next key of my ratchet; MISSING_KEY before I joined or once removed. */
  seal(plaintext: Uint8Array): Uint8Array {
    const sending = this.state.sending;
    if (!sending || !this.joined) throw new WalkawayError('MISSING_KEY', 'not in the group: nothing to seal with');
    const header = messageHeader(sending.epoch, sending.chain.generation);
    const body = new Uint8Array(SEALED_MESSAGE_HEADER + plaintext.length + TAG_LENGTH);
    body.set(header);
    const aad = messageAad(header, this.config.topic, this.config.identity.publicKey.toBytes());
    const generation = sealNext(sending.chain, plaintext, aad, body.subarray(SEALED_MESSAGE_HEADER));
    this.own.set(`${sending.epoch}:${generation}`, plaintext.slice());
    if (this.own.size > MAX_OWN_PLAINTEXTS) this.own.delete(this.own.keys().next().value!);
    return body;
  }

  /**
   * Opens a kind-4 body by `author`. MISSING_KEY for an epoch not open here
   * (yet; `permanent` in its data when it never will be: before my add,
   * dropped, or a key used already), DECRYPTION_FAILED when it does not
   * authenticate.
   */
  open(author: Uint8Array, body: Uint8Array): Uint8Array {
    const sealed = decodeSealedMessage(body);
    const sender = toHex(author);
    if (sender === this.memberId) {
      const key = `${sealed.epoch}:${sealed.generation}`;
      const plaintext = this.own.get(key);
      if (!plaintext) throw new WalkawayError('MISSING_KEY', 'an own body from before a restart: its key is gone', { permanent: true });
      this.own.delete(key);
      return plaintext;
    }
    const chain = this.state.receiving.get(sender)?.get(sealed.epoch);
    if (!chain) {
      const read = this.state.dcgka.lastSeq.get(sender);
      const permanent = read !== undefined && sealed.epoch <= read;
      throw new WalkawayError('MISSING_KEY', `no message ratchet of ${sender} epoch ${sealed.epoch} here`, { permanent, epoch: `${sender}:${sealed.epoch}` });
    }
    return openAt(chain, sealed.generation, sealed.ciphertext, messageAad(sealed.header, this.config.topic, author));
  }

  /** Installs the epochs a step opened and envelopes its control message. */
  private apply(step: DcgkaStep): MessageOutput {
    const epochs: string[] = [];
    for (const e of step.epochs) {
      if (e.member === this.memberId) {
        if (this.state.sending) wipeChain(this.state.sending.chain);
        this.state.sending = { epoch: e.seq, chain: newSendChain(e.secret) };
      } else {
        const chains = this.state.receiving.get(e.member) ?? new Map<number, ReceiveChain>();
        chains.set(e.seq, newReceiveChain(e.secret));
        for (const [seq, chain] of chains) {
          if (chains.size <= MAX_EPOCHS_PER_SENDER) break;
          wipeChain(chain);
          chains.delete(seq);
        }
        this.state.receiving.set(e.member, chains);
        epochs.push(`${e.member}:${e.seq}`);
      }
      e.secret.fill(0);
    }
    if (this.state.dcgka.removed && this.state.sending) {
      wipeChain(this.state.sending.chain);
      this.state.sending = undefined;
    }
    const oneTime = this.dcgka.oneTimeKeys();
    const controls = oneTime ? [...step.controls, oneTime] : step.controls;
    const publish = controls.map((c) => encodeMessageControl(encodeSchemeMessage(c)));
    return { publish, epochs, failed: step.failed };
  }
}
