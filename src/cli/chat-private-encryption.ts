/**
 * `--private` rooms are encrypted for the topic's group (the data scheme):
 * the readers are the group's members with read access or more (src/auth,
 * through `AuthMembership`), and every change of them the access slot
 * reports goes to the scheme (a removal draws a fresh secret for those who
 * stay). A newcomer's add reaches the scheme once its pre-key bundle is
 * known here (it publishes it on the topic, which it may only sync once
 * added), so that its welcome can carry the history. The state is kept in
 * the data directory (`groupChat`).
 */
import type { AccessEvent } from '../auth/access-processor.ts';
import type { PrivateTopic } from '../auth/on-node/private-topic.ts';
import { fromHex } from '../core/index.ts';
import { AuthMembership, type GroupMembership, type MembershipChange } from '../encryption/index.ts';
import { groupChat, type GroupChat } from './chat-encryption.ts';

/** Most adds held back for a bundle that has not arrived yet (the oldest go first). */
const MAX_HELD_ADDS = 256;

export interface PrivateGroupChat extends GroupChat {
  /** Feeds an access event of the private topic (its `onEvent`). */
  onAccess(event: AccessEvent): void;
  /** The owner's first secret, once its group exists (nothing when a secret is held already). */
  start(): Promise<void>;
}

export function privateGroupChat(options: { dataDir: string; topic: string; room: () => PrivateTopic | undefined; onError?: (err: Error) => void }): PrivateGroupChat {
  const clock = () => Date.now() * 1000;
  const view = (): AuthMembership | undefined => {
    const room = options.room();
    return room?.group ? new AuthMembership(room.state, room.group, clock) : undefined;
  };
  const membership: GroupMembership = { readers: () => view()?.readers() ?? [], managersAt: (state) => view()?.managersAt(state) };
  const held = new Map<string, MembershipChange>();
  let queue: Promise<void> = Promise.resolve();
  // Changes go to the scheme one at a time, in the order the access slot reported them.
  const enqueue = (change: MembershipChange) => {
    queue = queue
      .then(() => chat.current()?.topic.changed(change))
      .then(
        () => {},
        (err: Error) => options.onError?.(err),
      );
  };
  const releaseHeld = () => {
    const group = chat.current()?.persisted.group;
    if (!group) return;
    for (const [member, change] of held) {
      if (!group.hasBundle(member)) continue;
      held.delete(member);
      enqueue(change);
    }
  };
  const chat = groupChat({ dataDir: options.dataDir, topic: options.topic, membership, onStateChange: () => releaseHeld() });
  return {
    ...chat,
    onAccess(event) {
      if (event.type !== 'readers') return;
      const group = chat.current()?.persisted.group;
      if (!group) return;
      const change: MembershipChange = { type: event.change, state: fromHex(event.op), by: fromHex(event.by), member: fromHex(event.member) };
      if (event.change === 'removed') {
        held.delete(event.member);
        enqueue(change);
      } else if (event.member === group.memberId) {
        enqueue(change);
        // Published again now that it is a reader: a bundle written before the add was outside its access and refused.
        queue = queue.then(() => chat.current()?.topic.publishBundle());
      } else if (group.hasBundle(event.member)) {
        enqueue(change);
      } else {
        held.set(event.member, change);
        if (held.size > MAX_HELD_ADDS) held.delete(held.keys().next().value!);
      }
    },
    async start() {
      await queue;
      const room = options.room();
      const current = chat.current();
      if (!room?.group || !current || room.owner !== current.persisted.group.memberId) return;
      if (current.persisted.group.latestSecretId() !== undefined) return;
      await current.topic.create(fromHex(room.group));
    },
  };
}
