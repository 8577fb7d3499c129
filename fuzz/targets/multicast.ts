/**
 * The receive path of a multicast datagram (wire format v2), as
 * MulticastChannel.receive (src/net/multicast/multicast.ts) takes it: the
 * topic tag, the AEAD, then a broadcast-sync packet or an ephemeral
 * message. The channel catches every error itself (counting it), so the
 * steps are repeated here without that catch. Mutated datagrams mostly fail
 * authentication, as they would on the LAN; the inner decoders have targets
 * of their own (broadcast-sync, ephemeral).
 */
import { bytesEqual, networkId, type Operation } from '../../src/core/index.ts';
import { deriveTopicKeys, open, seal, topicTagOf } from '../../src/net/multicast/multicast-crypto.ts';
import { signEphemeral, verifyEphemeral } from '../../src/node/ephemeral.ts';
import { BroadcastSync } from '../../src/sync/broadcast-sync.ts';
import type { Rng } from '../prng.ts';
import { seededKey, TOPIC } from './fixtures.ts';

const KEYS = deriveTopicKeys(networkId(), TOPIC);
const KIND_SYNC = 0;
const KIND_EPHEMERAL = 1;
let machine = new BroadcastSync(TOPIC);
let received = 0;

export function receiveDatagram(datagram: Uint8Array): unknown {
  const tag = topicTagOf(datagram);
  if (!tag || !bytesEqual(tag, KEYS.tag)) return undefined;
  const opened = open(KEYS, datagram);
  if (opened instanceof Error) throw opened;
  if (opened.kind === KIND_SYNC) {
    if (++received % 65536 === 0) machine = new BroadcastSync(TOPIC);
    return machine.handle({ type: 'recv', packet: opened.payload });
  }
  if (opened.kind === KIND_EPHEMERAL) return verifyEphemeral(opened.payload);
  return undefined;
}

export function multicastDatagrams(rng: Rng, ops: Operation[]): Uint8Array[] {
  const sender = new BroadcastSync(TOPIC);
  const packets = sender.handle({ type: 'tick', heights: [{ author: ops[0].header.publicKey, logId: new Uint8Array(32), seqNum: 1 }] });
  packets.push(...sender.handle({ type: 'log-page', operations: ops }));
  const out = packets.flatMap((o) => (o.type === 'broadcast' ? [seal(KEYS, KIND_SYNC, o.packet, rng.bytes(24))] : []));
  out.push(seal(KEYS, KIND_EPHEMERAL, signEphemeral(seededKey(rng), rng.bytes(30), 1, 2), rng.bytes(24)));
  return out;
}
