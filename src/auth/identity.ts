/**
 * Multi-device identities: a person is a group whose members are the
 * person's devices (individual keys, each managing the group, so any device
 * can add a new one or remove a lost one). Granting the person's group
 * access to a topic's group grants it to every device, through nesting:
 * adding a device to the identity gives it the person's access everywhere,
 * and removing it takes that access away everywhere at once. These are
 * plain group actions; nothing about them is special in the CRDT.
 */
import type { GroupState } from './group-state.ts';
import { MANAGE, type Access, type GroupAction, type Member } from './types.ts';

export function individual(id: string): Member {
  return { kind: 'individual', id };
}

export function groupMember(id: string): Member {
  return { kind: 'group', id };
}

/** The action that creates a person's identity from its devices; its operation's hash becomes the identity id. */
export function createIdentity(devices: readonly string[]): GroupAction {
  return { type: 'create', members: devices.map((d) => ({ member: individual(d), access: { level: MANAGE } })) };
}

export function addDevice(identity: string, device: string): GroupAction {
  return { type: 'add', group: identity, member: individual(device), access: { level: MANAGE } };
}

export function removeDevice(identity: string, device: string): GroupAction {
  return { type: 'remove', group: identity, member: individual(device) };
}

/** Gives a person (all of their devices) `access` to `group`. */
export function grantIdentity(group: string, identity: string, access: Access): GroupAction {
  return { type: 'add', group, member: groupMember(identity), access };
}

/** The devices of an identity now. */
export function devicesOf(state: GroupState, identity: string): string[] {
  return [...state.directMembers(identity).keys()].filter((k) => k.startsWith('i:')).map((k) => k.slice(2));
}
