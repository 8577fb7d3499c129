/**
 * A node in its own process for the pruning tests: `node --import tsx
 * prune-peer.ts DATA_DIR TOPIC [BOOTSTRAP]`. Commands come as JSON lines on
 * stdin, answers and events go out as JSON lines on stdout:
 *   {"cmd":"publish","text":"...","prune":true}  -> {"type":"published","hash","seqNum"}
 *   {"cmd":"entries"}                            -> {"type":"entries","entries":[{author,seqNum,text|null}]}
 *   {"cmd":"deleteBody","hash":"..."}            -> {"type":"deletedBody","deleted":bool}
 *   {"cmd":"sync","peer":"..."}                  starts a sync; {"type":"sync",...} at its end
 * and {"type":"event",author,seqNum,text} for every operation the topic's stream delivers.
 */
import { createInterface } from 'node:readline';
import { Hash } from '../../src/core/index.ts';
import { Node } from '../../src/node/index.ts';

const [dataDir, topic, bootstrap] = process.argv.slice(2);
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const text = (body: Uint8Array | undefined) => (body ? new TextDecoder().decode(body) : null);

const node = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: bootstrap ? [bootstrap] : [] });
const stream = node.stream(topic);
node.on('sync:end', (e) => print({ type: 'sync', ...e }));
(async () => {
  for await (const event of stream.rx) {
    print({ type: 'event', author: event.author, seqNum: event.seqNum, text: text(event.body) });
    event.ack();
  }
})();

function entries(): { author: string; seqNum: number; text: string | null }[] {
  const out = [];
  for (const log of node.store.logs(stream.topic)) {
    for (const op of node.store.readLog(log.author, log.logId, -1, 10_000)) {
      out.push({ author: op.header.publicKey.toHex(), seqNum: op.header.seqNum, text: text(op.body) });
    }
  }
  return out;
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  const command = JSON.parse(line);
  if (command.cmd === 'publish') {
    const hash = await stream.tx.publish(new TextEncoder().encode(command.text), { prune: command.prune === true });
    print({ type: 'published', hash: hash.toHex(), seqNum: node.store.getOperation(hash)!.header.seqNum });
  } else if (command.cmd === 'entries') {
    print({ type: 'entries', entries: entries() });
  } else if (command.cmd === 'deleteBody') {
    print({ type: 'deletedBody', deleted: stream.deleteBody(Hash.fromHex(command.hash)) });
  } else if (command.cmd === 'sync') {
    node.syncWith(command.peer, topic);
  }
});
process.on('SIGTERM', () => void node.close().then(() => process.exit(0)));
print({ type: 'ready', id: node.id, addresses: node.addresses });
