/**
 * The message scheme's state on disk (`<data dir>/message-state/<topic id
 * hex>`), like the data scheme's (group-state-file.ts): node:v8's structured
 * serialization of `exportState()` in a versioned envelope naming the topic
 * and the member, mode 0600, written to a temporary file and renamed. A
 * damaged file, or one of another topic, member or version, is a typed error
 * and never replaced (the keys in it would be lost).
 *
 * Forward secrecy and the disk: the file is rewritten after every change, so
 * a used key leaves the newest file at once; a filesystem that keeps old
 * blocks (snapshots, journals) keeps old keys, which no code here can undo.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { bytesEqual, toHex, WalkawayError } from '../../core/index.ts';
import { MAX_GROUP_STATE_BYTES } from '../group-state-file.ts';
import { MessageGroup, type MessageGroupConfig, type MessageGroupState } from './group.ts';

const FORMAT = 'walkaway/message-state';
const VERSION = 1;

export function messageStateFile(dataDir: string, topic: Uint8Array): string {
  return join(dataDir, 'message-state', toHex(topic));
}

interface Envelope {
  format: string;
  version: number;
  topic: Uint8Array;
  member: Uint8Array;
  state: MessageGroupState;
}

export function encodeMessageState(topic: Uint8Array, member: Uint8Array, state: MessageGroupState): Uint8Array {
  return new Uint8Array(serialize({ format: FORMAT, version: VERSION, topic, member, state } satisfies Envelope));
}

export function decodeMessageState(bytes: Uint8Array, topic: Uint8Array, member: Uint8Array): MessageGroupState {
  if (bytes.length > MAX_GROUP_STATE_BYTES) throw new WalkawayError('TOO_LARGE', `message-scheme state of ${bytes.length} bytes`);
  let value: unknown;
  try {
    value = deserialize(bytes);
  } catch (err) {
    throw new WalkawayError('MALFORMED', `message-scheme state does not decode: ${(err as Error).message}`);
  }
  const e = value as Partial<Envelope> | null;
  if (!e || typeof e !== 'object' || e.format !== FORMAT) throw new WalkawayError('MALFORMED', 'not a message-scheme state file');
  if (e.version !== VERSION) throw new WalkawayError('UNSUPPORTED_VERSION', `message-scheme state version ${String(e.version)}`);
  if (!(e.topic instanceof Uint8Array) || !bytesEqual(e.topic, topic)) throw new WalkawayError('MALFORMED', 'message-scheme state of another topic');
  if (!(e.member instanceof Uint8Array) || !bytesEqual(e.member, member)) throw new WalkawayError('MALFORMED', 'message-scheme state of another member');
  checkShape(e.state);
  return e.state;
}

function checkShape(state: unknown): asserts state is MessageGroupState {
  const bad = (what: string) => new WalkawayError('MALFORMED', `message-scheme state: ${what}`);
  const s = state as Record<string, unknown> | null;
  if (!s || typeof s !== 'object' || !(s.receiving instanceof Map)) throw bad('no state');
  const d = s.dcgka as Record<string, unknown> | undefined;
  if (!d || typeof d !== 'object') throw bad('no key agreement');
  const keys = d.keys as Record<string, unknown> | undefined;
  if (!keys || !(keys.owner instanceof Uint8Array)) throw bad('member keys');
  for (const name of ['bundles', 'channels', 'lastSeq', 'members', 'ratchets', 'memberSecrets'] as const) {
    if (!(d[name] instanceof Map)) throw bad(name);
  }
  if (!(d.former instanceof Set) || !Array.isArray(d.early)) throw bad('former members');
  if (typeof d.seq !== 'number' || typeof d.joined !== 'boolean' || typeof d.removed !== 'boolean') throw bad('flags');
}

export function saveMessageState(file: string, group: MessageGroup, topic: Uint8Array, member: Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, encodeMessageState(topic, member, group.exportState()), { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

export interface PersistedMessageGroup {
  group: MessageGroup;
  restored: boolean;
  save(): void;
}

/** The member's message-scheme state for `config.topic`: restored from `file`, or a new member written at once. */
export function openMessageState(file: string, config: MessageGroupConfig, now: number): PersistedMessageGroup {
  const member = config.identity.publicKey.toBytes();
  const restored = existsSync(file);
  let group: MessageGroup;
  if (restored) {
    const size = statSync(file).size;
    if (size > MAX_GROUP_STATE_BYTES) throw new WalkawayError('TOO_LARGE', `${file}: message-scheme state of ${size} bytes`);
    group = new MessageGroup(config, decodeMessageState(new Uint8Array(readFileSync(file)), config.topic, member));
  } else {
    group = MessageGroup.create(config, now);
  }
  const save = () => saveMessageState(file, group, config.topic, member);
  if (!restored) save();
  return { group, restored, save };
}
