/**
 * Rows of `npm run bench -- crypto` for the message scheme (DCGKA, forward
 * secrecy), measured in the same run as the data scheme and raw
 * XChaCha20-Poly1305:
 *
 * - messages per second sealed (sent) and opened (received), one sender and
 *   one receiver, each scheme's own seal/open on the same bodies: `raw`
 *   (XChaCha20-Poly1305, a random nonce), `data` (GroupEncryption: HKDF'd
 *   body key, random nonce, associated data), `message` (MessageGroup: one
 *   HKDF step of the sender's ratchet per message, ChaCha20-Poly1305). Runs
 *   interleave (raw, data, message, raw, ...); medians and min–max of CPU
 *   time (user + system).
 * - an update in a group of `--members` (128): the updater's CPU, one
 *   recipient reading it and writing its ack, one member's whole share
 *   (the update, its own ack, every other ack), the whole group's CPU for
 *   the update and all its acks, and the bytes of the update and of one ack.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { cpuUsage } from 'node:process';
import { PrivateKey, topicId } from '../src/core/index.ts';
import { GroupEncryption, MessageGroup, systemRandom, type GroupMembership } from '../src/encryption/index.ts';
import { decodeEnvelope } from '../src/encryption/envelope.ts';

const cpuNow = () => {
  const u = cpuUsage();
  return (u.user + u.system) / 1000;
};
const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Seal all, then open all: CPU ms of each half. */
type Run = { seal: number; open: number };

function timed(seal: () => Uint8Array[], open: (sealed: Uint8Array[]) => void): Run {
  let start = cpuNow();
  const sealed = seal();
  const sealMs = cpuNow() - start;
  start = cpuNow();
  open(sealed);
  return { seal: sealMs, open: cpuNow() - start };
}

function rawRun(bodies: Uint8Array[], key: Uint8Array): Run {
  const nonces: Uint8Array[] = [];
  return timed(
    () =>
      bodies.map((b) => {
        const nonce = systemRandom(24);
        nonces.push(nonce);
        return xchacha20poly1305(key, nonce).encrypt(b);
      }),
    (sealed) => sealed.forEach((c, i) => xchacha20poly1305(key, nonces[i]).decrypt(c)),
  );
}

async function dataPair(): Promise<{ sender: GroupEncryption; receiver: GroupEncryption; author: Uint8Array }> {
  const topic = topicId('bench/crypto/data-pair');
  const ids = [PrivateKey.fromBytes(systemRandom(32)), PrivateKey.fromBytes(systemRandom(32))];
  const keys = ids.map((k) => k.publicKey.toBytes());
  const membership: GroupMembership = { readers: () => keys, managersAt: () => [keys[0]] };
  const [sender, receiver] = ids.map((identity) => GroupEncryption.create({ identity, topic, membership, random: systemRandom }, Date.now()));
  sender.learnBundle(receiver.bundle());
  receiver.learnBundle(sender.bundle());
  const out = await sender.create(new Uint8Array(32), Date.now());
  for (const g of [sender, receiver]) await g.receive({ author: keys[0], lamport: 1, message: control(out.publish[0]) }, Date.now());
  return { sender, receiver, author: keys[0] };
}

async function messagePair(): Promise<{ sender: MessageGroup; receiver: MessageGroup; author: Uint8Array }> {
  const [sender, receiver] = await messageGroup(2, 'bench/crypto/message-pair');
  return { sender: sender.group, receiver: receiver.group, author: sender.key };
}

function control(body: Uint8Array): Uint8Array {
  const env = decodeEnvelope(body);
  if (env.kind !== 3 && env.kind !== 5) throw new Error('not a control message');
  return env.message;
}

/** `n` members under the message scheme, the group created by the first and every ack read by everyone. */
async function messageGroup(n: number, name: string): Promise<{ group: MessageGroup; key: Uint8Array }[]> {
  const topic = topicId(name);
  const now = Date.now();
  const members = Array.from({ length: n }, () => {
    const identity = PrivateKey.fromBytes(systemRandom(32));
    return { group: MessageGroup.create({ identity, topic, random: systemRandom }, now), key: identity.publicKey.toBytes() };
  });
  for (const m of members) for (const o of members) if (m !== o) m.group.learnBundle(o.group.bundle());
  const created = await members[0].group.create(
    members.map((m) => m.key),
    now,
  );
  await deliverAll(members, [{ author: members[0].key, body: created.publish[0] }]);
  return members;
}

/** Every member reads every body (and what it writes in answer), in order; returns CPU ms per member. */
async function deliverAll(members: { group: MessageGroup; key: Uint8Array }[], bodies: { author: Uint8Array; body: Uint8Array }[]): Promise<number[]> {
  const spent = members.map(() => 0);
  for (let i = 0; i < bodies.length; i++) {
    const { author, body } = bodies[i];
    for (let k = 0; k < members.length; k++) {
      const m = members[k];
      if (m.key === author) continue;
      const start = cpuNow();
      const out = await m.group.receive({ author, message: control(body) }, Date.now());
      spent[k] += cpuNow() - start;
      for (const b of out.publish) bodies.push({ author: m.key, body: b });
    }
  }
  return spent;
}

async function updateIn(members: number): Promise<Record<string, number>> {
  const group = await messageGroup(members, 'bench/crypto/message-update');
  // The creator updates: its channels to everyone are open (HPKE), as in the data scheme's row.
  const updater = group[0];
  let start = cpuNow();
  const out = await updater.group.update(Date.now());
  const updateMs = cpuNow() - start;
  const update = out.publish[0];
  // One recipient reads the update and writes its ack.
  const reader = group[2];
  start = cpuNow();
  const answered = await reader.group.receive({ author: updater.key, message: control(update) }, Date.now());
  const readAndAckMs = cpuNow() - start;
  const ack = answered.publish[0];
  const others = group.filter((m) => m !== reader);
  const bodies = [
    { author: updater.key, body: update },
    { author: reader.key, body: ack },
  ];
  const spent = await deliverAll(others, bodies);
  const acks = bodies.slice(1);
  // Another member's share: it reads the update, writes its ack and reads every other ack.
  const oneMemberMs = spent[others.indexOf(group[3])];
  return {
    members,
    updateCpuMs: round(updateMs),
    updateBytes: update.length,
    readUpdateAndAckCpuMs: round(readAndAckMs, 2),
    ackBytes: ack.length,
    acks: acks.length,
    oneMemberReadsUpdateAndAllAcksCpuMs: round(oneMemberMs, 1),
    wholeGroupCpuMs: round(updateMs + readAndAckMs + spent.reduce((a, b) => a + b, 0)),
  };
}

export async function messageSchemeRows(bodies: Uint8Array[], runs: number, members: number): Promise<Record<string, unknown>> {
  const rawKey = systemRandom(32);
  const data = await dataPair();
  const message = await messagePair();
  const schemes = {
    raw: () => rawRun(bodies, rawKey),
    data: () =>
      timed(
        () => bodies.map((b) => data.sender.seal(b)),
        (sealed) => sealed.forEach((s) => data.receiver.open(data.author, decodeEnvelope(s))),
      ),
    message: () =>
      timed(
        () => bodies.map((b) => message.sender.seal(b)),
        (sealed) => sealed.forEach((s) => message.receiver.open(message.author, s)),
      ),
  };
  const results: Record<string, Run[]> = { raw: [], data: [], message: [] };
  for (const f of Object.values(schemes)) f(); // warm-up
  for (let r = 0; r < runs; r++) for (const [name, f] of Object.entries(schemes)) results[name].push(f());
  const perSec = (ms: number) => Math.round(bodies.length / (ms / 1000));
  const row = (xs: Run[], part: keyof Run) => {
    const rates = xs.map((x) => perSec(x[part]));
    return { median: perSec(median(xs.map((x) => x[part]))), min: Math.min(...rates), max: Math.max(...rates) };
  };
  const table = Object.fromEntries(Object.entries(results).map(([name, xs]) => [name, { sentPerSec: row(xs, 'seal'), receivedPerSec: row(xs, 'open') }]));
  return {
    messagesPerSec: table,
    messageOverData: {
      sent: round(table.message.sentPerSec.median / table.data.sentPerSec.median, 2),
      received: round(table.message.receivedPerSec.median / table.data.receivedPerSec.median, 2),
    },
    messageUpdate: await updateIn(members),
    note: `CPU time; ${runs} interleaved runs of ${bodies.length} bodies; median and min-max messages/s; one sender, one receiver`,
  };
}
