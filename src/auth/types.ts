/**
 * The shapes of the group-membership CRDT. Ids are lowercase hex: an
 * individual is an Ed25519 public key, a group is the hash of the operation
 * that created it (so a group id can never be claimed twice). Everything a
 * remote author can grow has a cap in `GroupStateConfig`.
 */
import type { WalkawayError } from '../core/index.ts';

/** pull < read < write < manage; each level includes those below it. */
export const LEVELS = ['pull', 'read', 'write', 'manage'] as const;
export type LevelName = (typeof LEVELS)[number];
export const PULL = 0;
export const READ = 1;
export const WRITE = 2;
export const MANAGE = 3;

/**
 * A level with an optional expiry (microseconds since the epoch, like
 * operation timestamps): the grant counts at times strictly before it.
 */
export interface Access {
  level: number;
  expires?: number;
}

export type MemberKind = 'individual' | 'group';

export interface Member {
  kind: MemberKind;
  /** 64 hex characters: a public key (individual) or a create operation's hash (group). */
  id: string;
}

export interface Grant {
  member: Member;
  access: Access;
}

/** What one auth operation asks for. `group` is the id of the group it changes. */
export type GroupAction =
  | { type: 'create'; members: Grant[] }
  | { type: 'add'; group: string; member: Member; access: Access }
  | { type: 'remove'; group: string; member: Member }
  | { type: 'promote'; group: string; member: Member; access: Access }
  | { type: 'demote'; group: string; member: Member; access: Access };

/**
 * One auth operation as the CRDT sees it. `id`, `author` and `timestamp`
 * come from the signed operation header; `deps` are the heads of the auth
 * graph the author had seen (the body's dependencies, every one also a
 * causal dependency of the header, so the causal orderer delivers them
 * first). The author's access is checked at its own timestamp.
 */
export interface AuthOp {
  id: string;
  author: string;
  deps: string[];
  timestamp: number;
  action: GroupAction;
}

export interface GroupStateConfig {
  /** Most operations one state holds (ancestry costs n²/2 bits). */
  maxOperations: number;
  /** Most distinct members ever named in one group. */
  maxMembersPerGroup: number;
  maxGroups: number;
  /** Most groups on a path from a group to an individual; deeper grants are not followed. */
  maxDepth: number;
}

export const DEFAULT_GROUP_STATE_CONFIG: GroupStateConfig = {
  maxOperations: 20_000,
  maxMembersPerGroup: 4096,
  maxGroups: 1024,
  maxDepth: 8,
};

/** A change of one group's direct membership after an operation (or a re-resolution). */
export interface MemberChange {
  type: 'member';
  group: string;
  member: Member;
  /** null: no longer a member. */
  access: Access | null;
  previous: Access | null;
  /** The author of the operation that made the change, when one operation did. */
  by?: string;
}

/** What applying one operation did. */
export type ApplyResult =
  | { type: 'applied'; id: string; rebuilt: boolean; changes: MemberChange[] }
  | { type: 'duplicate'; id: string }
  | { type: 'rejected'; id: string; error: WalkawayError };

export function memberKey(m: Member): string {
  return (m.kind === 'individual' ? 'i:' : 'g:') + m.id;
}

export function memberOfKey(key: string): Member {
  return { kind: key.startsWith('i:') ? 'individual' : 'group', id: key.slice(2) };
}

export function levelName(level: number): LevelName {
  return LEVELS[level];
}

export function levelOf(name: string): number | undefined {
  const i = (LEVELS as readonly string[]).indexOf(name);
  return i < 0 ? undefined : i;
}

/** A grant counts at `time` if it has no expiry or expires later. */
export function liveAt(access: Access, time: number): boolean {
  return access.expires === undefined || time < access.expires;
}

/** Total order used to settle conflicts: level first, then expiry (none is latest). */
export function compareAccess(a: Access, b: Access): number {
  if (a.level !== b.level) return a.level - b.level;
  const ea = a.expires ?? Number.POSITIVE_INFINITY;
  const eb = b.expires ?? Number.POSITIVE_INFINITY;
  return ea === eb ? 0 : ea < eb ? -1 : 1;
}

/** The narrower of two grants: a nested grant is capped by the grant of its group. */
export function narrower(a: Access, b: Access): Access {
  const level = Math.min(a.level, b.level);
  const ea = a.expires ?? Number.POSITIVE_INFINITY;
  const eb = b.expires ?? Number.POSITIVE_INFINITY;
  const e = Math.min(ea, eb);
  return e === Number.POSITIVE_INFINITY ? { level } : { level, expires: e };
}

export function accessEqual(a: Access | null | undefined, b: Access | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return compareAccess(a, b) === 0;
}
