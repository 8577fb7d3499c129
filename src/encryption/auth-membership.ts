/**
 * The group CRDT of src/auth as the data scheme's `GroupMembership`: readers
 * are the individuals with read access or more (through nested groups too),
 * managers those with manage access at the state after an auth operation.
 * `readerChanges` turns what one auth operation did into the data scheme's
 * membership changes by comparing the readers before and after it, which
 * also covers nesting and the rebuilds of strong removal (a concurrent
 * removal that undoes an earlier add shows as that member leaving).
 */
import { MANAGE, READ, type GroupState } from '../auth/index.ts';
import { fromHex, isWalkawayError, toHex } from '../core/index.ts';
import type { GroupMembership, MembershipChange } from './types.ts';

export class AuthMembership implements GroupMembership {
  constructor(
    private readonly auth: GroupState,
    /** The group's id (its create operation's hash, hex). */
    private readonly group: string,
    /** Microseconds since the epoch, as grants' expiries are written. */
    private readonly clock: () => number,
  ) {}

  readers(): Uint8Array[] {
    return this.readerIds().map(fromHex);
  }

  readerIds(): string[] {
    if (!this.auth.groups().includes(this.group)) return [];
    return [...this.auth.members(this.group, { time: this.clock(), minLevel: READ }).keys()].sort();
  }

  managersAt(state: Uint8Array): Uint8Array[] | undefined {
    try {
      const managers = this.auth.members(this.group, { time: this.clock(), minLevel: MANAGE, at: [toHex(state)] });
      return [...managers.keys()].sort().map(fromHex);
    } catch (err) {
      if (isWalkawayError(err, 'NOT_FOUND')) return undefined;
      throw err;
    }
  }
}

/** The data scheme's changes for an auth operation `state` by `by`, from the readers before and after it. */
export function readerChanges(before: readonly string[], after: readonly string[], state: Uint8Array, by: Uint8Array): MembershipChange[] {
  const was = new Set(before);
  const is = new Set(after);
  const changes: MembershipChange[] = [];
  // Removals first: a welcome must not go out while a removal in the same step is still unseen.
  for (const m of before) if (!is.has(m)) changes.push({ type: 'removed', state, by, member: fromHex(m) });
  for (const m of after) if (!was.has(m)) changes.push({ type: 'added', state, by, member: fromHex(m) });
  return changes;
}
