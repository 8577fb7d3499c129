/**
 * Private topics in the chat and the shell: which topics are private (kept
 * in the store, so a restart without --private stays private), the chat's
 * /add /remove /members, and access events as chat events (`member`,
 * `rejected`).
 */
import { WalkawayError } from '../core/index.ts';
import { LEVELS, levelName, levelOf, MANAGE, WRITE, type AccessEvent } from '../auth/index.ts';
import type { PrivateTopic } from '../auth/on-node/private-topic.ts';
import type { Store } from '../store/index.ts';
import { UsageError } from './args.ts';

/** Store cursor: topic hex → the private topic's owner (hex public key). */
const PRIVATE_CURSOR = 'walkaway-chat/private/';
const PRIVATE_LIST = 'walkaway-chat/private-topics';
const HEX_KEY = /^[0-9a-f]{64}$/;

export type ChatEvent = Record<string, unknown> & { type: string };

/** The owner of a topic this data directory knows as private, or undefined. */
export function privateOwner(store: Store, topicHex: string): string | undefined {
  const bytes = store.getCursor(PRIVATE_CURSOR + topicHex);
  const owner = bytes ? new TextDecoder().decode(bytes) : undefined;
  return owner && HEX_KEY.test(owner) ? owner : undefined;
}

/** Store cursor: topic hex → the encryption scheme a private topic was created with ('message'; absent: the data scheme). */
const SCHEME_CURSOR = 'walkaway-chat/scheme/';

/** The scheme a private topic known here was created with. */
export function privateScheme(store: Store, topicHex: string): 'message' | undefined {
  const bytes = store.getCursor(SCHEME_CURSOR + topicHex);
  return bytes && new TextDecoder().decode(bytes) === 'message' ? 'message' : undefined;
}

/** Records the scheme of a private topic (once: a room's scheme never changes). */
export function rememberScheme(store: Store, topicHex: string, scheme: 'message'): void {
  store.setCursor(SCHEME_CURSOR + topicHex, new TextEncoder().encode(scheme));
}

export function rememberPrivate(store: Store, topicHex: string, owner: string): void {
  store.setCursor(PRIVATE_CURSOR + topicHex, new TextEncoder().encode(owner));
  const known = privateTopics(store);
  if (!known.includes(topicHex)) store.setCursor(PRIVATE_LIST, new TextEncoder().encode(JSON.stringify([...known, topicHex])));
}

/** The private topics of this data directory (topic hex), in the order they became private here. */
export function privateTopics(store: Store): string[] {
  const bytes = store.getCursor(PRIVATE_LIST);
  try {
    const list: unknown = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : [];
    return Array.isArray(list) ? list.filter((t): t is string => typeof t === 'string' && HEX_KEY.test(t)) : [];
  } catch {
    return [];
  }
}

/** A public key argument: 64 hex characters (a typo is a usage error, not a member). */
export function publicKeyArg(value: string | undefined, what = 'the public key'): string {
  const key = value?.toLowerCase();
  if (!key || !HEX_KEY.test(key)) throw new UsageError(`${what} must be 64 hex characters (see "walkaway id")`);
  return key;
}

/** A level name: pull, read, write or manage. */
export function levelArg(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const level = levelOf(value);
  if (level === undefined) throw new UsageError(`the level must be one of ${LEVELS.join(', ')}`);
  return level;
}

/** An access event of the topic's group as a chat event. */
export function accessChatEvent(e: AccessEvent): ChatEvent | undefined {
  if (e.type === 'member') {
    if (e.member.kind !== 'individual')
      return { type: 'member', group: e.member.id, kind: 'group', level: e.access ? levelName(e.access.level) : null, by: e.by ?? null, op: e.op };
    return {
      type: 'member',
      member: e.member.id,
      level: e.access ? levelName(e.access.level) : null,
      previous: e.previous ? levelName(e.previous.level) : null,
      by: e.by ?? null,
      op: e.op,
    };
  }
  if (e.type === 'rejected') return { type: 'rejected', op: e.op, author: e.author, code: e.error.code, message: e.error.message };
  return undefined;
}

/** Members now, sorted by level (highest first), as plain objects. */
export function memberList(room: PrivateTopic): { member: string; level: string; expires?: number }[] {
  return [...room.members()]
    .sort(([a, x], [b, y]) => y.level - x.level || (a < b ? -1 : 1))
    .map(([member, access]) => ({ member, level: levelName(access.level), ...(access.expires !== undefined ? { expires: access.expires } : {}) }));
}

/**
 * The chat's group commands: `/add KEY [read|write|manage]`, `/remove KEY`,
 * `/members`. Answers with one chat event.
 */
export async function groupChatCommand(room: PrivateTopic | undefined, name: string, args: string[]): Promise<ChatEvent> {
  if (!room) return { type: 'error', message: `/${name} works in a private topic (walkaway chat <topic> --private)` };
  try {
    if (name === 'members') return { type: 'members', group: room.group ?? null, members: memberList(room) };
    const member = publicKeyArg(args[0]);
    if (name === 'add') {
      const level = levelArg(args[1], WRITE);
      if (level > MANAGE) throw new UsageError('unknown level');
      await room.add(member, { level });
      return { type: 'info', message: `added ${member.slice(0, 8)} with ${levelName(level)} access` };
    }
    await room.remove(member);
    return { type: 'info', message: `removed ${member.slice(0, 8)}` };
  } catch (err) {
    if (err instanceof UsageError || err instanceof WalkawayError) return { type: 'error', message: `/${name}: ${err.message}` };
    throw err;
  }
}
