/**
 * The body of an auth operation, version 1: one CBOR array
 *
 *     [1, deps, action]
 *     deps   = [bytes32 ...]                      at most 32, no repeats
 *     action = [0, [[kind, id, level, expires] ...]]          create (at most 256 grants)
 *            | [1, group, kind, id, level, expires]           add
 *            | [2, group, kind, id]                           remove
 *            | [3, group, kind, id, level, expires]           promote
 *            | [4, group, kind, id, level, expires]           demote
 *     kind = 0 individual | 1 group; level = 0 pull .. 3 manage;
 *     expires = null | microseconds since the epoch (a safe integer)
 *
 * Decoding scans the item heads under a fixed budget before building
 * anything (src/core/cbor.ts), so a hostile body costs at most its bytes.
 * A new layout gets a new version number, never a changed meaning.
 */
import { encode } from 'cborg';
import { WalkawayError, decodeStrictCbor, fromHex, toHex, type CborLimits } from '../core/index.ts';
import { MANAGE, type Access, type AuthOp, type Grant, type GroupAction, type Member } from './types.ts';

export const AUTH_BODY_VERSION = 1;
export const MAX_AUTH_DEPS = 32;
export const MAX_CREATE_GRANTS = 256;

/** Sized for the largest honest body: 32 deps and 256 grants. */
export const AUTH_BODY_LIMITS: CborLimits = {
  maxItems: 3 + 1 + MAX_AUTH_DEPS + 3 + MAX_CREATE_GRANTS * 5,
  maxDepth: 4,
  maxBytes: 16 * 1024,
};

const TAGS = ['create', 'add', 'remove', 'promote', 'demote'] as const;

/** The parts of an auth body; `id`, `author` and `timestamp` come from the header. */
export interface AuthBody {
  deps: string[];
  action: GroupAction;
}

export function encodeAuthBody(body: AuthBody): Uint8Array {
  checkBody(body);
  const action = body.action;
  const tag = TAGS.indexOf(action.type);
  let wire: unknown[];
  if (action.type === 'create') wire = [tag, action.members.map((g) => [...memberWire(g.member), ...accessWire(g.access)])];
  else if (action.type === 'remove') wire = [tag, fromHex(action.group), ...memberWire(action.member)];
  else wire = [tag, fromHex(action.group), ...memberWire(action.member), ...accessWire(action.access)];
  return encodeCbor([AUTH_BODY_VERSION, body.deps.map((d) => fromHex(d)), wire]);
}

/** Decodes and checks the shape; throws MALFORMED, TOO_LARGE or UNSUPPORTED_VERSION. */
export function decodeAuthBody(bytes: Uint8Array): AuthBody {
  const value = decodeStrictCbor(bytes, 'an auth body', AUTH_BODY_LIMITS);
  if (!Array.isArray(value) || value.length !== 3) throw malformed('is not a 3-element array');
  if (value[0] !== AUTH_BODY_VERSION) {
    throw new WalkawayError('UNSUPPORTED_VERSION', `auth body version ${String(value[0])}, expected ${AUTH_BODY_VERSION}`);
  }
  const [, depsWire, actionWire] = value as [number, unknown, unknown];
  if (!Array.isArray(depsWire)) throw malformed('has deps that are not an array');
  const deps = depsWire.map((d) => hash32(d, 'a dependency'));
  const action = decodeAction(actionWire);
  const body = { deps, action };
  checkBody(body);
  return body;
}

/** An `AuthOp` from a decoded body and the header's hash, author and timestamp. */
export function authOpOf(id: string, author: string, timestamp: number, body: AuthBody): AuthOp {
  return { id, author, timestamp, deps: body.deps, action: body.action };
}

function decodeAction(wire: unknown): GroupAction {
  if (!Array.isArray(wire) || wire.length < 2) throw malformed('has an action that is not an array');
  const type = Number.isInteger(wire[0]) ? TAGS[wire[0] as number] : undefined;
  if (type === undefined) throw malformed(`has an unknown action tag ${String(wire[0])}`);
  if (type === 'create') {
    if (wire.length !== 2 || !Array.isArray(wire[1])) throw malformed('has a create that is not [0, grants]');
    const members: Grant[] = wire[1].map((g: unknown) => {
      if (!Array.isArray(g) || g.length !== 4) throw malformed('has a grant that is not [kind, id, level, expires]');
      return { member: member(g[0], g[1]), access: access(g[2], g[3]) };
    });
    return { type, members };
  }
  const group = hash32(wire[1], 'a group id');
  if (type === 'remove') {
    if (wire.length !== 4) throw malformed('has a remove that is not [2, group, kind, id]');
    return { type, group, member: member(wire[2], wire[3]) };
  }
  if (wire.length !== 6) throw malformed(`has a ${type} that is not [tag, group, kind, id, level, expires]`);
  return { type, group, member: member(wire[2], wire[3]), access: access(wire[4], wire[5]) };
}

function member(kind: unknown, id: unknown): Member {
  if (kind !== 0 && kind !== 1) throw malformed(`has a member kind ${String(kind)}, expected 0 or 1`);
  return { kind: kind === 0 ? 'individual' : 'group', id: hash32(id, 'a member id') };
}

function access(level: unknown, expires: unknown): Access {
  if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > MANAGE) {
    throw malformed(`has a level ${String(level)}, expected 0..3`);
  }
  if (expires === null) return { level };
  if (typeof expires !== 'number' || !Number.isSafeInteger(expires) || expires < 0) {
    throw malformed('has an expiry that is not null or a safe non-negative integer');
  }
  return { level, expires };
}

function hash32(value: unknown, what: string): string {
  if (!(value instanceof Uint8Array) || value.length !== 32) throw malformed(`has ${what} that is not 32 bytes`);
  return toHex(value);
}

/** The rules both directions share, so no encoder makes a body its peers refuse. */
function checkBody(body: AuthBody): void {
  if (body.deps.length > MAX_AUTH_DEPS) {
    throw new WalkawayError('TOO_LARGE', `an auth body names ${body.deps.length} dependencies, limit ${MAX_AUTH_DEPS}`);
  }
  if (new Set(body.deps).size !== body.deps.length) throw malformed('names a dependency twice');
  const a = body.action;
  if (a.type === 'create') {
    if (a.members.length > MAX_CREATE_GRANTS) {
      throw new WalkawayError('TOO_LARGE', `a create names ${a.members.length} members, limit ${MAX_CREATE_GRANTS}`);
    }
    const keys = new Set(a.members.map((g) => `${g.member.kind}:${g.member.id}`));
    if (keys.size !== a.members.length) throw malformed('names a member twice in a create');
  }
}

function memberWire(m: Member): unknown[] {
  return [m.kind === 'individual' ? 0 : 1, fromHex(m.id)];
}

function accessWire(a: Access): unknown[] {
  return [a.level, a.expires ?? null];
}

function malformed(detail: string): WalkawayError {
  return new WalkawayError('MALFORMED', `an auth body ${detail}`);
}

function encodeCbor(value: unknown): Uint8Array {
  return encode(value);
}
