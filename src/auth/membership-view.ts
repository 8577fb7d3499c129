/**
 * The view of a group the encryption layer asks for (structurally its
 * `GroupMembership` and `MembershipChange`, src/encryption/types.ts): read
 * access or more means holding the topic's secrets, and managers at an
 * auth operation's state are who may have sent a secret then. Byte ids,
 * since that layer speaks bytes.
 */
import { fromHex, toHex } from '../core/index.ts';
import type { AccessEvent } from './access-processor.ts';
import type { GroupState } from './group-state.ts';
import { MANAGE, READ } from './types.ts';

export interface MembershipView {
  /** Individuals with read access or more now (nesting included). */
  readers(): Uint8Array[];
  /** Individuals with manage access in the state after auth operation `op`, at its timestamp; undefined if unknown here. */
  managersAt(op: Uint8Array): Uint8Array[] | undefined;
}

/** `now` gives the current time (µs); the view reads the state on every call. */
export function membershipView(state: GroupState, group: string, now: () => number): MembershipView {
  return {
    readers: () => [...state.members(group, { time: now(), minLevel: READ }).keys()].map(fromHex),
    managersAt: (op) => {
      const id = toHex(op);
      const info = state.authorOf(id);
      if (!info) return undefined;
      return [...state.members(group, { time: info.timestamp, minLevel: MANAGE, at: [id] }).keys()].map(fromHex);
    },
  };
}

/** A `readers` event as the encryption layer's membership change; undefined for other events. */
export function readerChangeOf(event: AccessEvent): { type: 'added' | 'removed'; state: Uint8Array; by: Uint8Array; member: Uint8Array } | undefined {
  if (event.type !== 'readers') return undefined;
  return { type: event.change, state: fromHex(event.op), by: fromHex(event.by), member: fromHex(event.member) };
}
