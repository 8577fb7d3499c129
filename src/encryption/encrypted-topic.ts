/**
 * What a node stream needs to encrypt one topic: the decryption slot and the
 * sealing of published bodies (`node.stream(topic, { encryption })`), with a
 * topic key, the group data scheme or the message scheme. The node layer sits below this
 * one, so the node takes both as plain functions.
 */
import { topicId } from '../core/index.ts';
import type { ReportSink } from '../processors/index.ts';
import type { GroupEncryption } from './data-scheme.ts';
import { DecryptProcessor, type DecryptStats } from './decrypt-processor.ts';
import type { MessageGroup } from './message-scheme/group.ts';
import { systemRandom, type RandomSource } from './random.ts';
import { TopicKey } from './topic-key.ts';
import type { MembershipChange } from './types.ts';

export interface TopicKeyEncryptionOptions {
  /** The topic's name or id (the same value given to `stream`; a ticket's topic id). */
  topic: string | Uint8Array;
  /** The pre-shared 32-byte key. */
  key: Uint8Array;
  /** The node's public key: the author every body sealed here is bound to. */
  author: Uint8Array;
  random?: RandomSource;
  now?: () => number;
  onReport?: ReportSink;
}

export interface TopicEncryption {
  decrypt: DecryptProcessor;
  seal(body: Uint8Array): Uint8Array;
  stats(): DecryptStats;
}

export function topicKeyEncryption(options: TopicKeyEncryptionOptions): TopicEncryption {
  const key = TopicKey.fromBytes(options.key, topicId(options.topic));
  const random = options.random ?? systemRandom;
  const decrypt = new DecryptProcessor({ mode: { type: 'topic-key', key }, now: options.now ?? Date.now, onReport: options.onReport });
  return { decrypt, seal: (body) => key.seal(body, options.author, random), stats: () => decrypt.stats() };
}

export interface GroupTopicOptions {
  group: GroupEncryption;
  now?: () => number;
  onReport?: ReportSink;
  /** Most control bodies kept until `attach` (bounded: the oldest go first). */
  maxQueued?: number;
  /** After every change of the scheme's state, before the control bodies it made go out (persist it: group-state-file.ts). */
  onStateChange?: () => void;
}

/** A group-encrypted topic: the slot, sealing, and the group's control messages published on the topic. */
export interface GroupTopicEncryption extends TopicEncryption {
  /** Where control bodies go (the stream's `tx.publish`); bodies made before are sent now. */
  attach(publish: (body: Uint8Array) => unknown): void;
  create(state: Uint8Array): Promise<void>;
  update(state: Uint8Array): Promise<void>;
  /** A membership change from the group CRDT (`readerChanges`). */
  changed(change: MembershipChange): Promise<void>;
  /** Publishes a pre-key bundle on the topic (mine by default, or an invitee's), so that members can send to its owner. */
  publishBundle(bundle?: Uint8Array): void;
}

/**
 * For `node.stream(topic, { encryption })` with the group data scheme. The
 * scheme's control bodies must go out unsealed: `seal` passes exactly the
 * body objects the scheme made (remembered by identity, so an app body with
 * the same bytes is still sealed) and seals everything else.
 */
export function groupTopicEncryption(options: GroupTopicOptions): GroupTopicEncryption {
  const { group } = options;
  const now = options.now ?? Date.now;
  const { emit, emitAll, attach, isControl, changed } = controlOutbox(options);
  const decrypt = new DecryptProcessor({ mode: { type: 'group', group }, now, onReport: options.onReport, onPublish: emit, onStateChange: changed });
  return {
    decrypt,
    seal: (body) => (isControl(body) ? body : group.seal(body)),
    stats: () => decrypt.stats(),
    attach,
    create: async (state) => emitAll(await group.create(state, now())),
    update: async (state) => emitAll(await group.update(state, now())),
    changed: async (change) => emitAll(await group.changed(change, now())),
    publishBundle: (bundle) => emit(group.bundleMessage(bundle)),
  };
}

export interface MessageTopicOptions {
  group: MessageGroup;
  now?: () => number;
  onReport?: ReportSink;
  maxQueued?: number;
  /** After every change of the scheme's state, before the control bodies it made go out (persist it). */
  onStateChange?: () => void;
}

/** A topic under the message scheme (forward secrecy): the slot, sealing, and DCGKA's control messages on the topic. */
export interface MessageTopicEncryption extends TopicEncryption {
  attach(publish: (body: Uint8Array) => unknown): void;
  /** Creates the group with these members (the caller first). */
  create(members: readonly Uint8Array[]): Promise<void>;
  update(): Promise<void>;
  add(member: Uint8Array): Promise<void>;
  remove(member: Uint8Array): Promise<void>;
  publishBundle(bundle?: Uint8Array): void;
}

/** For `node.stream(topic, { encryption })` with the message scheme; control bodies go out unsealed, as for the data scheme. */
export function messageTopicEncryption(options: MessageTopicOptions): MessageTopicEncryption {
  const { group } = options;
  const now = options.now ?? Date.now;
  const { emit, emitAll, attach, isControl, changed } = controlOutbox(options);
  const decrypt = new DecryptProcessor({ mode: { type: 'message', group }, now, onReport: options.onReport, onPublish: emit, onStateChange: changed });
  return {
    decrypt,
    seal: (body) => (isControl(body) ? body : group.seal(body)),
    stats: () => decrypt.stats(),
    attach,
    create: async (members) => emitAll(await group.create(members, now())),
    update: async () => emitAll(await group.update(now())),
    add: async (member) => emitAll(await group.add(member, now())),
    remove: async (member) => emitAll(await group.remove(member, now())),
    publishBundle: (bundle) => emit(group.bundleMessage(bundle)),
  };
}

/**
 * Where a scheme's control bodies wait for the stream's publisher, and how
 * `seal` knows them: by identity (a WeakSet), so that an app body with the
 * same bytes is still sealed.
 */
function controlOutbox(options: { maxQueued?: number; onStateChange?: () => void }) {
  const controlBodies = new WeakSet<Uint8Array>();
  const queued: Uint8Array[] = [];
  let publisher: ((body: Uint8Array) => unknown) | undefined;
  const emit = (body: Uint8Array) => {
    controlBodies.add(body);
    if (publisher) publisher(body);
    else if (queued.push(body) > (options.maxQueued ?? 1024)) queued.shift();
  };
  const changed = options.onStateChange ?? (() => {});
  return {
    emit,
    changed,
    isControl: (body: Uint8Array) => controlBodies.has(body),
    /** The state changed first (persisted), then the bodies go out. */
    emitAll: (out: { publish: Uint8Array[] }) => {
      changed();
      out.publish.forEach(emit);
    },
    attach: (publish: (body: Uint8Array) => unknown) => {
      publisher = publish;
      for (const body of queued.splice(0)) publish(body);
    },
  };
}
