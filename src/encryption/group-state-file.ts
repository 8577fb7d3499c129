/**
 * The group data scheme's state on disk, so that a restarted member still
 * reads (and writes) a group-encrypted topic: its X25519 keys, the pre-key
 * bundles it knows, its two-party channels and the group secrets. The state
 * is plain structured-clonable data (`GroupEncryptionState`), written with
 * node:v8's structured serializer inside a versioned envelope that names the
 * topic and the member, into a file of mode 0600 (written whole, then
 * renamed: a crash leaves the old state or the new one, never half).
 *
 * The file holds secret keys and is trusted like `identity.key`: it is read
 * only from this member's own data directory, never from the network. It is
 * still checked (version, topic, member, the shape of every part) so that a
 * damaged or misplaced file is a typed error, not a half-working member.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { bytesEqual, toHex, WalkawayError } from '../core/index.ts';
import { GroupEncryption, type GroupEncryptionConfig, type GroupEncryptionState } from './data-scheme.ts';

const FORMAT = 'walkaway/group-state';
const VERSION = 1;
/** A state file larger than this is refused (4096 secrets and bundles fit many times over). */
export const MAX_GROUP_STATE_BYTES = 64 * 1024 * 1024;

/** Where a node keeps its group state for a topic: `<data dir>/group-state/<topic id hex>`. */
export function groupStateFile(dataDir: string, topic: Uint8Array): string {
  return join(dataDir, 'group-state', toHex(topic));
}

interface Envelope {
  format: string;
  version: number;
  topic: Uint8Array;
  member: Uint8Array;
  state: GroupEncryptionState;
}

export function encodeGroupState(topic: Uint8Array, member: Uint8Array, state: GroupEncryptionState): Uint8Array {
  const envelope: Envelope = { format: FORMAT, version: VERSION, topic, member, state };
  return new Uint8Array(serialize(envelope));
}

/** The state in `bytes`, checked to be this member's for this topic. */
export function decodeGroupState(bytes: Uint8Array, topic: Uint8Array, member: Uint8Array): GroupEncryptionState {
  if (bytes.length > MAX_GROUP_STATE_BYTES) throw new WalkawayError('TOO_LARGE', `group state of ${bytes.length} bytes`);
  let value: unknown;
  try {
    value = deserialize(bytes);
  } catch (err) {
    throw new WalkawayError('MALFORMED', `group state does not decode: ${(err as Error).message}`);
  }
  const e = value as Partial<Envelope> | null;
  if (!e || typeof e !== 'object' || e.format !== FORMAT) throw new WalkawayError('MALFORMED', 'not a group state file');
  if (e.version !== VERSION) throw new WalkawayError('UNSUPPORTED_VERSION', `group state version ${String(e.version)}`);
  if (!(e.topic instanceof Uint8Array) || !bytesEqual(e.topic, topic)) throw new WalkawayError('MALFORMED', 'group state of another topic');
  if (!(e.member instanceof Uint8Array) || !bytesEqual(e.member, member)) throw new WalkawayError('MALFORMED', 'group state of another member');
  checkShape(e.state);
  return e.state;
}

function checkShape(state: unknown): asserts state is GroupEncryptionState {
  const s = state as Record<string, unknown> | null;
  const bad = (what: string) => new WalkawayError('MALFORMED', `group state: ${what}`);
  if (!s || typeof s !== 'object') throw bad('no state');
  const keys = s.keys as Record<string, unknown> | undefined;
  if (!keys || !(keys.owner instanceof Uint8Array) || !isKeyPair(keys.identity) || !isKeyPair(keys.preKey)) throw bad('member keys');
  for (const name of ['bundles', 'channels', 'secrets', 'ownPending', 'adds', 'acks'] as const) {
    const map = s[name];
    if (!(map instanceof Map) || ![...map.keys()].every((k) => typeof k === 'string')) throw bad(name);
  }
  for (const entry of (s.secrets as Map<string, Record<string, unknown>>).values()) {
    if (!(entry?.secret instanceof Uint8Array) || entry.secret.length !== 32 || typeof entry.lamport !== 'number' || typeof entry.sealable !== 'boolean')
      throw bad('a secret');
  }
  for (const channel of (s.channels as Map<string, Record<string, unknown>>).values()) {
    if (!(channel?.mySecrets instanceof Map) || typeof channel.nextIndex !== 'number') throw bad('a two-party channel');
  }
  for (const acks of (s.acks as Map<string, unknown>).values()) if (!(acks instanceof Set)) throw bad('acks');
  if (typeof s.removed !== 'boolean') throw bad('removed');
}

function isKeyPair(value: unknown): boolean {
  const pair = value as Record<string, unknown> | undefined;
  return !!pair && pair.secret instanceof Uint8Array && pair.public instanceof Uint8Array;
}

/** Writes the member's state to `file` (mode 0600, folder 0700): a temporary file, then a rename. */
export function saveGroupState(file: string, group: GroupEncryption, topic: Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, encodeGroupState(topic, group.memberKey, group.exportState()), { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

export interface PersistedGroup {
  group: GroupEncryption;
  /** Whether the state came from the file (false: a new member, fresh keys). */
  restored: boolean;
  /** Writes the current state; call after every change (`groupTopicEncryption`'s `onStateChange`). */
  save(): void;
}

/**
 * The member's group state for `config.topic`, restored from `file` when
 * there is one (MALFORMED or UNSUPPORTED_VERSION for a damaged file: it is
 * never replaced silently, the keys in it would be lost), else a new member
 * whose state is written at once.
 */
export function openGroupState(file: string, config: GroupEncryptionConfig, now: number): PersistedGroup {
  const member = config.identity.publicKey.toBytes();
  let group: GroupEncryption;
  const restored = existsSync(file);
  if (restored) {
    const size = statSync(file).size;
    if (size > MAX_GROUP_STATE_BYTES) throw new WalkawayError('TOO_LARGE', `${file}: group state of ${size} bytes`);
    const bytes = readFileSync(file);
    group = new GroupEncryption(config, decodeGroupState(new Uint8Array(bytes), config.topic, member));
  } else {
    group = GroupEncryption.create(config, now);
  }
  const save = () => saveGroupState(file, group, config.topic);
  if (!restored) save();
  return { group, restored, save };
}
