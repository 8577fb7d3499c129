/**
 * The receive path of a multicast datagram, as MulticastChannel's private
 * `#receive` (src/net/multicast/multicast.ts) does it: an 8-byte tag of the
 * network id, a kind byte, then a broadcast-sync packet or an ephemeral
 * `[topic, bytes]`. The channel keeps its decoder private and catches every
 * error itself (logging it), so the steps are repeated here without that
 * catch. The datagram format is being changed (encrypted); when it gets an
 * exported decoder, point `receiveDatagram` at it and make the seeds with its
 * encoder. Keep this file that small.
 */
import { encode } from 'cborg';
import { bytesEqual, concatBytes, crypto, decodeStrictCbor, networkId, utf8, WalkawayError, type Operation } from '../../src/core/index.ts';
import { signEphemeral } from '../../src/node/ephemeral.ts';
import { BroadcastSync } from '../../src/sync/broadcast.ts';
import type { Rng } from '../prng.ts';
import { seededKey, TOPIC } from './fixtures.ts';

const TAG = crypto().blake3(concatBytes(utf8('walkaway/multicast/'), networkId())).subarray(0, 8);
const KIND_SYNC = 0;
const KIND_EPHEMERAL = 1;
let machine = new BroadcastSync(TOPIC);
let received = 0;

export function receiveDatagram(datagram: Uint8Array): unknown {
  if (datagram.length <= TAG.length + 1 || !bytesEqual(datagram.subarray(0, TAG.length), TAG)) return undefined;
  const kind = datagram[TAG.length];
  const payload = datagram.subarray(TAG.length + 1);
  if (kind === KIND_SYNC) {
    if (++received % 65536 === 0) machine = new BroadcastSync(TOPIC);
    return machine.handle({ type: 'recv', packet: payload });
  }
  if (kind === KIND_EPHEMERAL) {
    const value = decodeStrictCbor(payload, 'multicast ephemeral datagram');
    if (!Array.isArray(value) || !(value[0] instanceof Uint8Array) || !(value[1] instanceof Uint8Array)) {
      throw new WalkawayError('MALFORMED', 'not an ephemeral datagram');
    }
    return value;
  }
  return undefined;
}

export function multicastDatagrams(rng: Rng, ops: Operation[]): Uint8Array[] {
  const sender = new BroadcastSync(TOPIC);
  const packets = sender.handle({ type: 'tick', heights: [{ author: ops[0].header.publicKey, logId: new Uint8Array(32), seqNum: 1 }] });
  packets.push(...sender.handle({ type: 'log-page', operations: ops }));
  const out = packets.flatMap((o) => (o.type === 'broadcast' ? [concatBytes(TAG, new Uint8Array([KIND_SYNC]), o.packet)] : []));
  const eph = signEphemeral(seededKey(rng), rng.bytes(30), 1, 2);
  out.push(concatBytes(TAG, new Uint8Array([KIND_EPHEMERAL]), new Uint8Array(encode([TOPIC, eph]))));
  return out;
}
