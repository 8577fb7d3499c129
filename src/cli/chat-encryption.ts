/**
 * Encrypted chat rooms, the CLI side: `--key <hex>` (a pre-shared topic key),
 * the key inside a ticket, and the key kept in the data directory
 * (`topic-keys/<topic id hex>`, 32 bytes, mode 0600 in a 0700 folder) so that
 * a restarted chat still reads the room. The key never goes on the network:
 * only the ticket, handed over out of band, carries it.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex, topicId } from '../core/index.ts';
import {
  groupStateFile,
  groupTopicEncryption,
  openGroupState,
  systemRandom,
  topicKeyEncryption,
  type GroupMembership,
  type GroupTopicEncryption,
  type HistoryPolicy,
  type PersistedGroup,
} from '../encryption/index.ts';
import type { Node, StreamOptions } from '../node/index.ts';
import { decodeTicket, isTicket } from '../node/ticket.ts';
import { UsageError } from './args.ts';

/** How a chat room is encrypted; what the page and the terminal show. */
export type ChatEncryptionMode = 'topic-key' | 'group' | 'forward-secrecy';

/** What a chat session needs to encrypt its room. */
export interface ChatEncryption {
  mode: ChatEncryptionMode;
  /** The topic key, put into the room's tickets (topic-key mode only). */
  key?: Uint8Array;
  /** The stream's encryption, built once the node (the author bodies are bound to) exists. */
  forNode(node: Node): { encryption: NonNullable<StreamOptions['encryption']>; attach?(publish: (body: Uint8Array) => unknown): void };
}

export const KEY_LENGTH = 32;
const KEYS_FOLDER = 'topic-keys';

/** `--key`: exactly 64 hex digits (32 bytes); anything else is a UsageError (exit 2). */
export function parseTopicKey(value: unknown, name = '--key'): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[0-9a-fA-F]{64}$/.test(value)) {
    throw new UsageError(`${name} must be ${KEY_LENGTH * 2} hex digits (a ${KEY_LENGTH}-byte key), e.g. from "openssl rand -hex 32"`);
  }
  return new Uint8Array(Buffer.from(value, 'hex'));
}

/** Read from a `--key-file` at most: 64 hex digits and a line ending fit many times over. */
const KEY_FILE_MAX_BYTES = 1024;

/**
 * The topic key of `--key HEX` or `--key-file FILE`. A key on the command
 * line shows in the process list (`ps`) of everyone on the machine; a file
 * (64 hex digits, surrounding whitespace ignored, or 32 raw bytes) does not.
 */
export function topicKeyOption(values: { key?: unknown; 'key-file'?: unknown }): Uint8Array | undefined {
  if (values['key-file'] === undefined) return parseTopicKey(values.key);
  if (values.key !== undefined) throw new UsageError('--key and --key-file exclude each other');
  const file = values['key-file'];
  if (typeof file !== 'string' || file.length === 0 || file.length > 4096) throw new UsageError('--key-file takes a file name');
  let bytes: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(KEY_FILE_MAX_BYTES + 1);
      bytes = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, null));
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new UsageError(`--key-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
  }
  if (bytes.length === KEY_LENGTH) return new Uint8Array(bytes);
  if (bytes.length > KEY_FILE_MAX_BYTES) throw new UsageError(`--key-file ${file} is too long for a key`);
  return parseTopicKey(bytes.toString('latin1').trim(), `--key-file ${file}`);
}

/** The topic id of a topic name or a ticket. */
export function topicIdOf(topicOrTicket: string): Uint8Array {
  return isTicket(topicOrTicket) ? decodeTicket(topicOrTicket).topic : topicId(topicOrTicket);
}

function keyFile(dataDir: string, topic: Uint8Array): string {
  return join(dataDir, KEYS_FOLDER, toHex(topic));
}

/** The topic key kept for `topic` in the data directory, if any. */
export function storedTopicKey(dataDir: string, topic: Uint8Array): Uint8Array | undefined {
  const file = keyFile(dataDir, topic);
  if (!existsSync(file)) return undefined;
  const bytes = readFileSync(file);
  if (bytes.length !== KEY_LENGTH) throw new UsageError(`${file} must hold a ${KEY_LENGTH}-byte topic key, found ${bytes.length} bytes`);
  return new Uint8Array(bytes);
}

/** Keeps the topic key in the data directory (written whole, then renamed: never half a key). */
export function storeTopicKey(dataDir: string, topic: Uint8Array, key: Uint8Array): void {
  const folder = join(dataDir, KEYS_FOLDER);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const file = keyFile(dataDir, topic);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, key, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

/**
 * The room's topic key: from `--key`, from the ticket, or kept from an
 * earlier run. Two different keys for one room are a UsageError (a key
 * cannot be changed in place: move to a new topic).
 */
export function resolveTopicKey(options: { dataDir: string; topic: string; flag?: Uint8Array }): Uint8Array | undefined {
  const id = topicIdOf(options.topic);
  const fromTicket = isTicket(options.topic) ? decodeTicket(options.topic).key : undefined;
  const stored = storedTopicKey(options.dataDir, id);
  const given = [
    ['--key', options.flag],
    ['the ticket', fromTicket],
    [`the data directory (${keyFile(options.dataDir, id)})`, stored],
  ].filter((g): g is [string, Uint8Array] => g[1] !== undefined);
  for (const [where, key] of given.slice(1)) {
    if (!Buffer.from(key).equals(Buffer.from(given[0][1]))) throw new UsageError(`${given[0][0]} and ${where} hold different keys for this topic`);
  }
  return given[0]?.[1];
}

/** A room encrypted with a pre-shared topic key. */
export function topicKeyChat(topic: string, key: Uint8Array): ChatEncryption {
  const id = topicIdOf(topic);
  return { mode: 'topic-key', key, forNode: (node) => ({ encryption: topicKeyEncryption({ topic: id, key, author: node.privateKey.publicKey.toBytes() }) }) };
}

/** A room encrypted for the members of a group; `current()` is set once the session's node exists. */
export interface GroupChat extends ChatEncryption {
  mode: 'group';
  /** The member's persisted state and the topic's encryption (create, update, membership changes). */
  current(): { persisted: PersistedGroup; topic: GroupTopicEncryption } | undefined;
}

/**
 * A group-encrypted room whose state is kept in the data directory
 * (`group-state/<topic id hex>`, written after every change), so that a
 * restarted chat still reads it. A new member publishes its pre-key bundle
 * on the topic. The membership comes from the caller (the group CRDT).
 */
export function groupChat(options: {
  dataDir: string;
  topic: string;
  membership: GroupMembership;
  history?: HistoryPolicy;
  now?: () => number;
  /** After every change of the group state (saved first). */
  onStateChange?: () => void;
}): GroupChat {
  const id = topicIdOf(options.topic);
  const now = options.now ?? Date.now;
  let current: { persisted: PersistedGroup; topic: GroupTopicEncryption } | undefined;
  return {
    mode: 'group',
    current: () => current,
    forNode(node) {
      const config = { identity: node.privateKey, topic: id, membership: options.membership, random: systemRandom, history: options.history };
      const persisted = openGroupState(groupStateFile(options.dataDir, id), config, now());
      const topic = groupTopicEncryption({
        group: persisted.group,
        now,
        onStateChange: () => {
          persisted.save();
          options.onStateChange?.();
        },
      });
      current = { persisted, topic };
      const attach = (publish: (body: Uint8Array) => unknown) => {
        topic.attach(publish);
        if (!persisted.restored) topic.publishBundle();
      };
      return { encryption: topic, attach };
    },
  };
}

/** The line the terminal prints at start. */
export function describeEncryption(mode: ChatEncryptionMode | null): string {
  if (mode === 'topic-key') return 'this room is encrypted with a topic key: only those who hold the key (in a ticket or --key) read it';
  if (mode === 'group') return 'this room is encrypted for its members (group keys): only members read it, and removed members read nothing new';
  if (mode === 'forward-secrecy') {
    return 'this room is encrypted for its members with forward secrecy (one key per message): only members read it, newcomers read from their add on';
  }
  return 'this room is not encrypted: every peer that carries the topic reads it';
}
