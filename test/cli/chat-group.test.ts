/**
 * A group-encrypted chat room (`groupChat`, src/cli/chat-encryption.ts) over
 * real nodes on 127.0.0.1 with SQLite stores: the room reads as encrypted
 * for a group, members read each other, and a member whose session is
 * closed and started again from its data directory still reads (its group
 * state is kept there). The membership is a fixed set here; the group CRDT
 * feeds it in `--private` chats.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { groupChat } from '../../src/cli/chat-encryption.ts';
import { ChatSession, type ChatEvent } from '../../src/cli/chat-session.ts';
import { PrivateKey } from '../../src/core/index.ts';
import type { GroupMembership } from '../../src/encryption/index.ts';
import { tempDirs } from '../helpers/chat-process.ts';
import { until } from '../helpers/wait.ts';

const { dirs, cleanup } = tempDirs(2);
const open: ChatSession[] = [];
after(async () => {
  await Promise.all(open.map((c) => c.close()));
  cleanup();
});

const TOPIC = 'group-chat-room';
const base = { storage: 'sqlite' as const, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, topic: TOPIC };

test('a group-encrypted room: members read each other, and a restarted member still reads', async () => {
  const identities = dirs.map((_, i) => PrivateKey.fromBytes(new Uint8Array(32).fill(i + 11)));
  const keys = identities.map((k) => k.publicKey.toBytes());
  const membership: GroupMembership = { readers: () => keys, managersAt: () => [keys[0]] };
  const texts = (chat: ChatSession) => {
    const seen: string[] = [];
    chat.on('event', (e: ChatEvent) => e.type === 'message' && seen.push(String(e.text)));
    return seen;
  };

  const annGroup = groupChat({ dataDir: dirs[0], topic: TOPIC, membership });
  const ann = await ChatSession.start({ ...base, name: 'ann', dataDir: dirs[0], privateKey: identities[0], encryption: annGroup });
  open.push(ann);
  const annTexts = texts(ann);
  let benGroup = groupChat({ dataDir: dirs[1], topic: TOPIC, membership });
  let ben = await ChatSession.start({ ...base, name: 'ben', dataDir: dirs[1], privateKey: identities[1], encryption: benGroup, bootstrap: ann.node.addresses });
  open.push(ben);
  let benTexts = texts(ben);
  assert.equal(ann.ready().encryption, 'group');

  await until(() => annGroup.current()!.persisted.group.exportState().bundles.size === 2, "ben's bundle at ann");
  await annGroup.current()!.topic.create(new Uint8Array(32).fill(1));
  await until(() => benGroup.current()!.persisted.group.latestSecretId() !== undefined, 'the first secret at ben');
  await ann.send('hello ben');
  await ben.send('hello ann');
  await until(() => benTexts.includes('hello ben') && annTexts.includes('hello ann'), 'both messages');

  await ben.close();
  open.splice(open.indexOf(ben), 1);
  benGroup = groupChat({ dataDir: dirs[1], topic: TOPIC, membership });
  ben = await ChatSession.start({ ...base, name: 'ben', dataDir: dirs[1], privateKey: identities[1], encryption: benGroup, bootstrap: ann.node.addresses });
  open.push(ben);
  benTexts = texts(ben);
  assert.equal(benGroup.current()!.persisted.restored, true);
  await ann.send('after your restart');
  await until(() => benTexts.includes('after your restart'), 'the message after the restart');
  for (const dir of dirs) assert.equal(readFileSync(join(dir, 'store.db')).indexOf(Buffer.from('after your restart')), -1, 'sealed at rest');
});
