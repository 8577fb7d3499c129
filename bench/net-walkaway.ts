/**
 * Child process of the `net` benchmark (bench/net.ts): one Walkaway node
 * (libp2p TCP + Noise + yamux + pnet, HyParView/PlumTree overlay, SQLite or
 * memory store) in the benchmark topic, driven by bench/net-child.ts.
 *
 *   npx tsx bench/net-walkaway.ts <dataDir> <storage: sqlite|memory>
 *
 * The node does not count what its overlay sends, so this process wraps
 * `Overlay.prototype.handle` (the sans-IO machine the gossip service drives)
 * and counts its 'send' outputs by message type: 'gossip' messages are the
 * payload copies of RMR. Sync transfers are counted from 'sync:end' events.
 */
import { Node } from '../src/node/index.ts';
import { Overlay, type OverlayInput, type OverlayOutput } from '../src/net/overlay/index.ts';
import { Libp2pTransport } from '../src/net/transport/libp2p-transport.ts';
import { Receiver } from '../src/node/receiver.ts';
import { TopicState } from '../src/node/topic-state.ts';
import { serve, stamp, TRACE, wallNow, type Counters, type Side } from './net-child.ts';

const TOPIC = 'walkaway/bench/net';
const NETWORK = 'walkaway-bench-net';

const counts: Counters = {
  payloadSent: 0,
  ihaveSent: 0,
  ihaveIds: 0,
  graftSent: 0,
  pruneSent: 0,
  membershipSent: 0,
  overlayDelivered: 0,
  hopSum: 0,
  hop1: 0,
  hop2: 0,
  hop3: 0,
  hop4plus: 0,
  overlayMs: 0,
  syncSessions: 0,
  neighborUp: 0,
  neighborDown: 0,
  syncOpsReceived: 0,
  syncOpsSent: 0,
  ingestInserted: 0,
  ingestDuplicate: 0,
  ingestSeqGap: 0,
  seqGapOps: 0,
  ingestOther: 0,
  ingestMs: 0,
  batchIngested: 0,
  batchInserted: 0,
  batchMs: 0,
};
const overlays = new Set<Overlay<string>>();
/** Operations that arrived ahead of their backlink at least once (ingestSeqGap also counts retries). */
const gapped = new Set<string>();

// Tracing the link: when each payload queued for a peer was written to its
// gossip stream ('w>peer'), and when the last chunk from a peer arrived
// before the overlay saw a payload from it ('in').
const pendingTo = new Map<string, Uint8Array[]>();
const lastChunkFrom = new Map<string, number>();
if (TRACE) {
  const open = Libp2pTransport.prototype.open;
  Libp2pTransport.prototype.open = async function (this: Libp2pTransport, peer: string, protocol: string) {
    const stream = await open.call(this, peer, protocol);
    if (protocol.endsWith('gossip') || protocol.includes('gossip')) {
      const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
      (stream as { write: unknown }).write = (...args: unknown[]) => {
        for (const payload of pendingTo.get(peer)?.splice(0) ?? []) stamp(`w>${peer.slice(0, 8)}`, payload);
        return write(...args);
      };
    }
    return stream;
  };
  const handle = Libp2pTransport.prototype.handle;
  Libp2pTransport.prototype.handle = function (this: Libp2pTransport, protocol, handler, options) {
    return handle.call(
      this,
      protocol,
      (stream, peer) => {
        const push = stream.push.bind(stream);
        stream.push = (chunk: unknown) => {
          lastChunkFrom.set(peer, wallNow());
          return push(chunk);
        };
        handler(stream, peer);
      },
      options,
    );
  };
}

if (TRACE) {
  const stored = TopicState.prototype.stored;
  TopicState.prototype.stored = function (this: TopicState, op) {
    stamp('chainIn', op.body);
    return stored.call(this, op);
  };
  const storedBySync = TopicState.prototype.storedBySync;
  TopicState.prototype.storedBySync = function (this: TopicState, op) {
    stamp('syncIn', op.body);
    return storedBySync.call(this, op);
  };
  const push = Receiver.prototype.push;
  Receiver.prototype.push = function (this: Receiver<unknown>, item: unknown) {
    stamp('rxPush', (item as { body?: Uint8Array }).body);
    return push.call(this, item);
  };
}

const original = Overlay.prototype.handle;
Overlay.prototype.handle = function (this: Overlay<string>, input: OverlayInput<string>, now: number): OverlayOutput<string>[] {
  if (!overlays.has(this)) {
    overlays.add(this);
    // Experiment knob (NET_IHAVE_MS): the PlumTree IHAVE batching window, to measure a proposed default.
    if (process.env.NET_IHAVE_MS) (this.broadcast.config as { ihaveDispatchMs: number }).ihaveDispatchMs = Number(process.env.NET_IHAVE_MS);
  }
  if (TRACE) {
    if (input.type === 'recv' && input.message.type === 'gossip') {
      stamp('in', input.message.payload, lastChunkFrom.get(input.from));
      stamp('recv', input.message.payload);
      stamp(`from:${input.from.slice(0, 8)}`, input.message.payload);
    }
    if (input.type === 'command' && input.command.type === 'publish') stamp('ovPub', input.command.payload);
  }
  const t0 = performance.now();
  const outputs = original.call(this, input, now) as OverlayOutput<string>[];
  counts.overlayMs += performance.now() - t0;
  if (TRACE && input.type === 'recv' && input.message.type === 'gossip') stamp('recvDone', input.message.payload);
  for (const o of outputs) {
    if (o.type === 'send') {
      switch (o.message.type) {
        case 'gossip':
          counts.payloadSent++;
          if (TRACE) {
            stamp('queued', o.message.payload);
            stamp(`q>${o.to.slice(0, 8)}`, o.message.payload);
            let list = pendingTo.get(o.to);
            if (!list) pendingTo.set(o.to, (list = []));
            list.push(o.message.payload);
          }
          break;
        case 'ihave':
          counts.ihaveSent++;
          counts.ihaveIds += o.message.ids.length;
          break;
        case 'graft':
          counts.graftSent++;
          break;
        case 'prune':
          counts.pruneSent++;
          break;
        default:
          counts.membershipSent++;
      }
    } else if (o.type === 'emit' && o.event.type === 'deliver') {
      counts.overlayDelivered++;
      const hop = o.event.hop;
      if (TRACE) stamp('hop', o.event.payload, hop);
      counts.hopSum += hop;
      if (hop <= 1) counts.hop1++;
      else if (hop === 2) counts.hop2++;
      else if (hop === 3) counts.hop3++;
      else counts.hop4plus++;
    }
  }
  return outputs;
} as typeof Overlay.prototype.handle;

function plumtreeStats(): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const o of overlays) for (const [k, v] of Object.entries(o.broadcast.stats)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

const [dataDir, storage = 'sqlite'] = process.argv.slice(2);
let node: Node;
let deliver: (payload: Uint8Array) => void = () => {};

async function drain(stream: ReturnType<Node['stream']>): Promise<void> {
  for await (const event of stream.rx) {
    event.ack();
    if (!event.own && event.body) deliver(event.body);
  }
}

let stream: ReturnType<Node['stream']> | undefined;

const side: Side = {
  async start() {
    node = await Node.create({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      storage: storage as 'sqlite' | 'memory',
      dataDir,
      networkId: NETWORK,
    });
    // Count what reaches the store, and how (the node does not expose it).
    const store = node.store;
    const ingest = store.ingest.bind(store);
    store.ingest = (op, topic) => {
      const t0 = performance.now();
      const outcome = ingest(op, topic);
      counts.ingestMs += performance.now() - t0;
      if (outcome.status === 'inserted') counts.ingestInserted++;
      else if (outcome.status === 'duplicate') counts.ingestDuplicate++;
      else if (outcome.status === 'rejected' && outcome.error.code === 'SEQ_GAP') {
        counts.ingestSeqGap++;
        const key = op.hash.toHex();
        if (!gapped.has(key)) {
          gapped.add(key);
          counts.seqGapOps++;
        }
      } else counts.ingestOther++;
      return outcome;
    };
    const ingestBatch = store.ingestBatch.bind(store);
    store.ingestBatch = (items, options) => {
      const t0 = performance.now();
      const durable = options?.durable !== false;
      if (TRACE) for (const it of items) stamp(durable ? 'commit' : 'ingest', it.operation.body);
      const outcomes = ingestBatch(items, options);
      if (TRACE) for (const it of items) stamp(durable ? 'commitEnd' : 'ingestEnd', it.operation.body);
      counts.batchMs += performance.now() - t0;
      counts.batchIngested += items.length;
      for (const o of outcomes) if (o.status === 'inserted') counts.batchInserted++;
      return outcomes;
    };
    node.on('neighbor:up', () => counts.neighborUp++);
    node.on('neighbor:down', () => counts.neighborDown++);
    node.on('sync:end', (e: { received: number; sent: number }) => {
      counts.syncSessions++;
      counts.syncOpsReceived += e.received;
      counts.syncOpsSent += e.sent;
    });
    return { addresses: node.addresses, id: node.id, ticket: node.ticket(TOPIC) };
  },
  async connect(bootstrap) {
    // The hub joins by name; the others by the hub's ticket (its addresses
    // are dialled exactly like `bootstrap` addresses).
    stream = node.stream(bootstrap.length > 0 ? bootstrap[0] : TOPIC);
    void drain(stream);
  },
  status() {
    const views = node.neighbors(TOPIC);
    let eager = 0;
    for (const o of overlays) eager += o.broadcast.eagerPeers().length;
    return { id: node.id.slice(0, 8), active: views.active.length, passive: views.passive.length, eager, connections: node.host.getConnections().length };
  },
  async publish(payload) {
    await stream!.tx.publish(payload);
  },
  onDeliver(cb) {
    deliver = cb;
  },
  counters() {
    const stats = plumtreeStats();
    return {
      ...counts,
      duplicates: stats.duplicates ?? 0,
      grafts: stats.grafts ?? 0,
      prunes: stats.prunes ?? 0,
      optimisations: stats.optimisations ?? 0,
      dropped: stats.dropped ?? 0,
    };
  },
  async stop() {
    await node?.close();
  },
};

await serve(side);
