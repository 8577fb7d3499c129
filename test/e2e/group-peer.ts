/**
 * A member of a group-encrypted topic in its own process, its group state
 * kept in its data directory: `node --import tsx group-peer.ts DATA_DIR TOPIC
 * READERS MANAGER [BOOTSTRAP]` (READERS: comma-separated hex public keys).
 * The membership is fixed (a plain set; the group CRDT is wired elsewhere).
 * Commands are JSON lines on stdin:
 *   {"cmd":"create"} | {"cmd":"update"}   a fresh group secret for every reader
 *   {"cmd":"send","text":"..."}           -> {"type":"sent"} or {"type":"error","code"}
 * Out: {"type":"ready",id,addresses,restored}, {"type":"group",bundles,secret}
 * after every change of the group state, {"type":"message",author,text}.
 */
import { createInterface } from 'node:readline';
import { fromHex, isWalkawayError, topicId, utf8 } from '../../src/core/index.ts';
import { groupStateFile, groupTopicEncryption, openGroupState, systemRandom, type GroupMembership } from '../../src/encryption/index.ts';
import { Node } from '../../src/node/index.ts';

const [dataDir, topic, readersArg, manager, bootstrap] = process.argv.slice(2);
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const readers = readersArg.split(',').map(fromHex);
const membership: GroupMembership = { readers: () => readers, managersAt: () => [fromHex(manager)] };

const node = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: bootstrap ? [bootstrap] : [], mdns: false });
const id = topicId(topic);
const persisted = openGroupState(groupStateFile(dataDir, id), { identity: node.privateKey, topic: id, membership, random: systemRandom }, Date.now());
const { group } = persisted;
const status = () => {
  const state = group.exportState();
  print({ type: 'group', bundles: state.bundles.size, secret: group.latestSecretId() ?? null });
};
const encryption = groupTopicEncryption({
  group,
  onStateChange: () => {
    persisted.save();
    status();
  },
});
const stream = node.stream(topic, { encryption });
encryption.attach((body) => stream.tx.publish(body));
if (!persisted.restored) encryption.publishBundle();
(async () => {
  for await (const event of stream.rx) {
    print({ type: 'message', author: event.author, text: event.body ? new TextDecoder().decode(event.body) : null });
    event.ack();
  }
})();

createInterface({ input: process.stdin }).on('line', async (line) => {
  const command = JSON.parse(line);
  try {
    if (command.cmd === 'create') await encryption.create(new Uint8Array(32).fill(1));
    else if (command.cmd === 'update') await encryption.update(new Uint8Array(32).fill(2));
    else if (command.cmd === 'send') {
      await stream.tx.publish(utf8(command.text));
      print({ type: 'sent', text: command.text });
    }
  } catch (err) {
    print({ type: 'error', code: isWalkawayError(err) ? err.code : 'UNEXPECTED', message: (err as Error).message });
  }
});
process.on('SIGTERM', () => void node.close().then(() => process.exit(0)));
print({ type: 'ready', id: node.id, addresses: node.addresses, restored: persisted.restored });
status();
