/**
 * Child process of the `net` benchmark (bench/net.ts): one libp2p 3 host
 * with `@libp2p/gossipsub` 17 (default options: D=6, flood publish, StrictSign:
 * every message signed by its publisher and verified at every hop), on the
 * same stack as a Walkaway host: TCP, Noise, yamux, identify and the same
 * pnet key. Driven by bench/net-child.ts.
 *
 *   npx tsx bench/net-gossipsub.ts [default|tuned]
 *
 * GossipSub has no peer discovery of its own (doPX is off by default, and
 * libp2p 3 does not autodial), so after the star of bootstrap dials the
 * harness plays the discovery service: `connect` also dials every other
 * node (what @libp2p/pubsub-peer-discovery or a DHT would do). Payload
 * copies are counted by wrapping the instance's `sendRpc`, through which
 * every publish and forward goes.
 */
import '../src/net/polyfill.ts';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { privateNetwork } from '../src/net/transport/private-network.ts';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import { networkId } from '../src/core/index.ts';
import { PATIENT_CONNECTION_MANAGER, pnetKey, SLOW_PEER_MS } from '../src/net/transport/host.ts';
import { serve, type Counters, type Side } from './net-child.ts';

const TOPIC = 'walkaway/bench/net';
const [mode = 'default'] = process.argv.slice(2);

/**
 * `tuned`: as GossipSub's documentation advises for a small network: a fast
 * message id (the seen-cache is checked before the signature is verified),
 * mesh degrees sized to 8 nodes (7 peers: D=4, Dlo=3, Dhi=5, Dout=1,
 * Dscore=2, Dlazy=3 instead of 6/4/12/2/4/6), flood publish off (a
 * publisher sends to its mesh only, not to every subscriber).
 */
const TUNED = {
  D: 4,
  Dlo: 3,
  Dhi: 5,
  Dout: 1,
  Dscore: 2,
  Dlazy: 3,
  floodPublish: false,
  fastMsgIdFn: (msg: { data?: Uint8Array; seqno?: Uint8Array }) => Buffer.from(msg.data ?? []).toString('base64') + Buffer.from(msg.seqno ?? []).toString('base64'),
};
const options = mode === 'tuned' ? TUNED : {};

const counts: Counters = { payloadSent: 0, rpcSent: 0, ihaveSent: 0, iwantSent: 0, graftSent: 0, pruneSent: 0, idontwantSent: 0, publishErrors: 0 };
let host: Libp2p<{ pubsub: GossipSub }>;
let deliver: (payload: Uint8Array) => void = () => {};

const side: Side = {
  async start() {
    host = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // The same slow-peer timeouts as a Walkaway host (src/net/transport/host.ts):
      // libp2p's 1 s pnet default fails on a loaded machine.
      connectionProtector: privateNetwork({ psk: pnetKey(networkId('walkaway-bench-net')), timeoutMs: SLOW_PEER_MS }),
      connectionManager: PATIENT_CONNECTION_MANAGER,
      services: { identify: identify({ timeout: SLOW_PEER_MS }), pubsub: gossipsub(options) },
    });
    const gs = host.services.pubsub as any;
    const sendRpc = gs.sendRpc.bind(gs);
    gs.sendRpc = (id: string, rpc: any) => {
      const messages = rpc.messages?.length ?? 0;
      const c = rpc.control;
      const sent = sendRpc(id, rpc);
      if (sent) {
        counts.rpcSent++;
        counts.payloadSent += messages;
        counts.ihaveSent += c?.ihave?.length ?? 0;
        counts.iwantSent += c?.iwant?.length ?? 0;
        counts.graftSent += c?.graft?.length ?? 0;
        counts.pruneSent += c?.prune?.length ?? 0;
        counts.idontwantSent += c?.idontwant?.length ?? 0;
      }
      return sent;
    };
    if (typeof gs.sendRpcInBatch === 'function') {
      const batch = gs.sendRpcInBatch.bind(gs);
      gs.sendRpcInBatch = (tosend: Set<string>, rpc: any) => {
        counts.payloadSent += (rpc.messages?.length ?? 0) * tosend.size;
        return batch(tosend, rpc);
      };
    }
    host.services.pubsub.addEventListener('message', (event) => {
      if (event.detail.topic === TOPIC) deliver(event.detail.data);
    });
    host.services.pubsub.subscribe(TOPIC);
    return { addresses: host.getMultiaddrs().map(String), id: host.peerId.toString() };
  },
  async connect(bootstrap, all) {
    const own = new Set(host.getMultiaddrs().map(String));
    // Retried like Walkaway's bootstrap dials (src/net/connections.ts).
    const dial = async (a: string) => {
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          await host.dial(multiaddr(a));
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
        }
      }
    };
    for (const a of bootstrap) await dial(a);
    await Promise.all(all.filter((a) => !own.has(a)).map(dial));
  },
  status() {
    const gs = host.services.pubsub as any;
    return {
      mesh: gs.getMeshPeers(TOPIC).length,
      dlo: mode === 'tuned' ? TUNED.Dlo : 4,
      subscribers: host.services.pubsub.getSubscribers(TOPIC).length,
      connections: host.getConnections().length,
    };
  },
  async publish(payload) {
    try {
      await host.services.pubsub.publish(TOPIC, payload);
    } catch {
      // NoPeersSubscribedToTopic when the mesh and subscriptions are lost
      // under load: the message is lost; counted, and the run goes on.
      counts.publishErrors++;
    }
  },
  onDeliver(cb) {
    deliver = cb;
  },
  counters() {
    return { ...counts };
  },
  async stop() {
    await host?.stop();
  },
};

await serve(side);
