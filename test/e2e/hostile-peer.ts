/**
 * A hostile peer (child process of node-hostile.test.ts): it joins the
 * network properly, then sends malformed frames, oversized frames, unknown
 * messages and invalid operations on every protocol of the node at the
 * given address, and prints "done".
 */
import '../../src/net/polyfill.ts';
import { multiaddr } from '@multiformats/multiaddr';
import { encode } from 'cborg';
import { createOperation, networkId, PrivateKey, topicId, withSignature, encodeHeader } from '../../src/core/index.ts';
import { createHost, protocolId } from '../../src/net/transport/host.ts';

const [target, topicName] = process.argv.slice(2);
const key = PrivateKey.generate();
const net = networkId('walkaway');
const host = await createHost({ privateKey: key, networkId: net, listen: ['/ip4/127.0.0.1/tcp/0'] });
const topic = topicId(topicName);

function frame(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

const forged = (() => {
  const op = createOperation({ privateKey: key, body: new TextEncoder().encode('{"type":"message","name":"mallory","text":"forged"}'), seqNum: 0 });
  const bad = new Uint8Array(op.header.signature);
  bad[0] ^= 0xff;
  return { headerBytes: withSignature(encodeHeader(op.header), bad), body: op.body };
})();
const gap = createOperation({ privateKey: key, seqNum: 5, backlink: forged && createOperation({ privateKey: key, seqNum: 0 }).hash });

const attacks: Record<string, Uint8Array[]> = {
  gossip: [
    frame(new Uint8Array([0xff, 0xfe, 0x00])),
    frame(encode([0, topic, { type: 'gossip', id: 7, payload: 'nope', hop: -1 }])),
    frame(encode([0, topic, { type: 'gossip', id: 'x1', payload: encode([0, forged.headerBytes, forged.body]), hop: 1 }])),
    frame(encode([0, topic, { type: 'gossip', id: 'x2', payload: encode([0, gap.headerBytes, null]), hop: 1 }])),
    frame(encode([0, topic, { type: 'shuffle', origin: 'zz', ttl: 1e9, peers: Array(5000).fill('a') }])),
    frame(encode([9, 'unknown'])),
    new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]), // a 2 GiB frame announced
  ],
  sync: [frame(encode({ hello: 'not a sync message' })), new Uint8Array([0x00, 0x00, 0x00, 0x00]), new Uint8Array([0x7f, 0xff, 0xff, 0xff])],
  topics: [frame(encode({ salt: new Uint8Array(3), hashes: 'no' })), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0])],
};

await host.dial(multiaddr(target));
for (const [name, frames] of Object.entries(attacks)) {
  for (const bytes of frames) {
    try {
      const stream = await host.dialProtocol(multiaddr(target), protocolId(net, name));
      stream.send(bytes);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await stream.close().catch(() => {});
    } catch {
      // the node hung up on us: that is what it should do
    }
  }
}
// Garbage on a protocol nobody speaks, and a flood of small junk frames.
try {
  const stream = await host.dialProtocol(multiaddr(target), protocolId(net, 'gossip'));
  for (let i = 0; i < 2000; i++) stream.send(frame(new Uint8Array([i & 0xff, 0x01])));
  await stream.close().catch(() => {});
} catch {
  // hung up
}
// By now the node has banned this peer: a new connection is refused by its gater.
await host.hangUp(multiaddr(target)).catch(() => {});
let again = 'refused';
try {
  await host.dialProtocol(multiaddr(target), protocolId(net, 'gossip'));
  again = 'connected';
} catch {
  // refused
}
console.log(`reconnect: ${again}`);
console.log('done');
await host.stop();
process.exit(0);
