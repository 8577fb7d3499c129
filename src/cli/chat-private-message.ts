/**
 * `--private --forward-secrecy` rooms: the message scheme (DCGKA) instead of
 * the data scheme. The group CRDT (src/auth) still decides who is a member;
 * the member who made an access change makes the matching DCGKA operation
 * (its add, once the newcomer's pre-key bundle is known here; its remove),
 * and everyone else answers the DCGKA control messages as they arrive. A
 * newcomer publishes its bundle once it is a reader (before, access control
 * refuses its operations). The state is kept in `message-state/<topic id
 * hex>` of the data directory, written after every change.
 *
 * What a member cannot read: anything written before its add (no history),
 * and, after a restart, its own earlier messages (their keys are gone).
 */
import type { AccessEvent } from '../auth/access-processor.ts';
import type { PrivateTopic } from '../auth/on-node/private-topic.ts';
import { fromHex } from '../core/index.ts';
import {
  messageStateFile,
  messageTopicEncryption,
  openMessageState,
  systemRandom,
  type MessageTopicEncryption,
  type PersistedMessageGroup,
} from '../encryption/index.ts';
import type { ChatEncryption } from './chat-encryption.ts';
import { topicIdOf } from './chat-encryption.ts';

/** Most adds held back for a bundle that has not arrived yet (the oldest go first). */
const MAX_HELD_ADDS = 256;

export interface PrivateMessageChat extends ChatEncryption {
  mode: 'forward-secrecy';
  current(): { persisted: PersistedMessageGroup; topic: MessageTopicEncryption } | undefined;
  onAccess(event: AccessEvent): void;
  /** The owner creates the DCGKA group once its auth group exists (nothing when it is in one). */
  start(): Promise<void>;
}

export function privateMessageChat(options: {
  dataDir: string;
  topic: string;
  room: () => PrivateTopic | undefined;
  now?: () => number;
  onError?: (err: Error) => void;
}): PrivateMessageChat {
  const id = topicIdOf(options.topic);
  const now = options.now ?? Date.now;
  let current: { persisted: PersistedMessageGroup; topic: MessageTopicEncryption } | undefined;
  /** My adds waiting for the newcomer's bundle, by member hex. */
  const held = new Set<string>();
  let queue: Promise<void> = Promise.resolve();
  // One DCGKA operation at a time, in the order the access slot reported the changes.
  const enqueue = (step: () => Promise<void> | undefined) => {
    queue = queue.then(step).then(
      () => {},
      (err: Error) => options.onError?.(err),
    );
  };
  const addNow = (member: string) =>
    enqueue(() => {
      const c = current;
      if (!c?.persisted.group.joined || c.persisted.group.members().includes(member)) return; // a replay after a restart
      return c.topic.add(fromHex(member));
    });
  const releaseHeld = () => {
    const group = current?.persisted.group;
    if (!group) return;
    for (const member of held) {
      if (!group.hasBundle(member)) continue;
      held.delete(member);
      addNow(member);
    }
  };
  return {
    mode: 'forward-secrecy',
    current: () => current,
    forNode(node) {
      const config = { identity: node.privateKey, topic: id, random: systemRandom };
      const persisted = openMessageState(messageStateFile(options.dataDir, id), config, now());
      const topic = messageTopicEncryption({
        group: persisted.group,
        now,
        onStateChange: () => {
          persisted.save();
          releaseHeld();
        },
      });
      current = { persisted, topic };
      return { encryption: topic, attach: (publish) => topic.attach(publish) };
    },
    onAccess(event) {
      if (event.type !== 'readers' || !current) return;
      const me = current.persisted.group.memberId;
      if (event.member === me) {
        // Published again now that it is a reader: a bundle written before the add was outside its access and refused.
        if (event.change === 'added') enqueue(async () => current?.topic.publishBundle());
        return;
      }
      if (event.by !== me) return; // the member who made the change makes the DCGKA operation
      if (event.change === 'removed') {
        held.delete(event.member);
        enqueue(() => {
          const c = current;
          if (!c?.persisted.group.joined || !c.persisted.group.members().includes(event.member)) return;
          return c.topic.remove(fromHex(event.member));
        });
      } else if (current.persisted.group.hasBundle(event.member)) {
        addNow(event.member);
      } else {
        held.add(event.member);
        if (held.size > MAX_HELD_ADDS) held.delete(held.values().next().value!);
      }
    },
    async start() {
      await queue;
      const room = options.room();
      const c = current;
      if (!room?.group || !c || room.owner !== c.persisted.group.memberId || c.persisted.group.joined) return;
      await c.topic.create([fromHex(c.persisted.group.memberId)]);
      // Members who later send to me for the first time need my bundle (newcomers publish theirs when added).
      c.topic.publishBundle();
      c.persisted.save();
    },
  };
}
