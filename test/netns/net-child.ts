/**
 * One node of a namespace test, as its own process: a real Node (TCP, pnet,
 * relays, gossip, sync) on one topic. JSON lines out (ready, connections
 * with whether they are relayed, messages, addresses); JSON lines in
 * (publish, dial, connections, exit). Options as JSON in argv[2].
 */
import { createInterface } from 'node:readline';
import { multiaddr } from '@multiformats/multiaddr';
import { observedAddressesOf } from '../../src/net/transport/host.ts';
import { Node } from '../../src/node/index.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as {
  topic: string;
  listen?: string[];
  bootstrap?: string[];
  relay?: boolean;
  relays?: string[];
  dialPort?: number;
};

const out = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ at: Math.round(performance.now()), ...line })}\n`);
const node = await Node.create({
  networkId: 'netns-test',
  storage: 'memory',
  listen: options.listen,
  bootstrap: options.bootstrap,
  relay: options.relay,
  relays: options.relays,
  dialPort: options.dialPort,
});
const stream = node.stream(options.topic);
const decoder = new TextDecoder();

node.host.addEventListener('connection:open', ({ detail: c }) =>
  out({ type: 'conn', event: 'open', peer: c.remotePeer.toString(), addr: c.remoteAddr.toString(), relayed: c.remoteAddr.toString().includes('/p2p-circuit') }),
);
node.host.addEventListener('connection:close', ({ detail: c }) =>
  out({ type: 'conn', event: 'close', peer: c.remotePeer.toString(), addr: c.remoteAddr.toString(), relayed: c.remoteAddr.toString().includes('/p2p-circuit') }),
);
node.host.addEventListener('self:peer:update', () => out({ type: 'addresses', addresses: node.addresses }));
node.host.addEventListener('peer:identify', ({ detail }) => {
  if (detail.observedAddr) out({ type: 'observed', by: detail.connection.remoteAddr.toString(), addr: detail.observedAddr.toString() });
});
// With a dial port: the outside addresses learned for hole punching (offered to DCUtR, not announced).
observedAddressesOf(node.host)?.onConfirmed(() => out({ type: 'outside', addresses: observedAddressesOf(node.host)?.confirmed }));
node.on('neighbor:up', ({ peer }) => out({ type: 'neighbor', event: 'up', peer }));

void (async () => {
  for await (const event of stream.rx) {
    if (event.body) out({ type: 'message', text: decoder.decode(event.body), author: event.author, own: event.own });
    event.ack();
  }
})();

out({ type: 'ready', id: node.id, peerId: node.peerId, addresses: node.addresses });

createInterface({ input: process.stdin }).on('line', (line) => {
  let cmd: { cmd: string; text?: string; addr?: string };
  try {
    cmd = JSON.parse(line);
  } catch {
    return out({ type: 'error', message: 'not JSON' });
  }
  if (cmd.cmd === 'publish') {
    stream.tx.publish(new TextEncoder().encode(cmd.text ?? '')).then(
      () => out({ type: 'published', text: cmd.text }),
      (err: Error) => out({ type: 'error', message: err.message }),
    );
  } else if (cmd.cmd === 'dial') {
    node.host.dial(multiaddr(cmd.addr!)).then(
      (c) => out({ type: 'dialled', addr: c.remoteAddr.toString() }),
      (err: Error) => out({ type: 'dial-failed', addr: cmd.addr, message: err.message.split('\n')[0] }),
    );
  } else if (cmd.cmd === 'hangup') {
    const peer = node.host.getConnections().find((c) => c.remotePeer.toString() === cmd.addr)?.remotePeer;
    void (peer ? node.host.hangUp(peer) : Promise.resolve()).then(() => out({ type: 'hung-up', peer: cmd.addr }));
  } else if (cmd.cmd === 'connections') {
    out({
      type: 'connections',
      connections: node.host
        .getConnections()
        .map((c) => ({ peer: c.remotePeer.toString(), addr: c.remoteAddr.toString(), relayed: c.remoteAddr.toString().includes('/p2p-circuit') })),
    });
  } else if (cmd.cmd === 'exit') {
    void node.close().then(() => process.exit(0));
  }
});
process.on('SIGTERM', () => void node.close().then(() => process.exit(0)));
