/**
 * Benchmark `crypto`: sealed bodies through the decryption processor against
 * raw XChaCha20-Poly1305 on the same bodies in the same run, and the cost of
 * a group update.
 *
 *   npm run bench -- crypto [--bodies 20000] [--size 1024] [--runs 5] [--members 128]
 *
 * `messageScheme`: the message scheme (forward secrecy) against the data
 * scheme and raw XChaCha20-Poly1305, and its update cost (crypto-message.ts).
 *
 * Throughput: `ours` seals every body with a topic key (a random nonce, the
 * HKDF-derived key, the associated data and the envelope) and then opens
 * them through `DecryptProcessor.processAll` in batches of 64, as the chain's
 * decrypt slot receives them; `raw` encrypts and decrypts the same bodies
 * with @noble/ciphers' XChaCha20-Poly1305 and a random nonce each, nothing
 * else. Signing the operations that carry the sealed bodies happens between
 * the two timed halves and is not counted. Runs alternate; medians of CPU
 * time (user + system), which a loaded machine disturbs less than wall time.
 *
 * Group update: `--members` members, one creates the group (first contact:
 * X3DH to everyone), then updates (HPKE to everyone); CPU milliseconds of
 * the updater and bytes of the control body, and the CPU milliseconds for
 * one recipient to read it.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { cpuUsage } from 'node:process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createOperation, PrivateKey, topicId } from '../src/core/index.ts';
import { DecryptProcessor, GroupEncryption, systemRandom, TopicKey, type GroupMembership } from '../src/encryption/index.ts';
import { decodeEnvelope } from '../src/encryption/envelope.ts';
import type { OrderedOperation } from '../src/processors/index.ts';
import { messageSchemeRows } from './crypto-message.ts';

const BATCH = 64;

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

/** CPU milliseconds of this process (user + system): on a shared machine they move less than wall time. */
function cpuNow(): number {
  const u = cpuUsage();
  return (u.user + u.system) / 1000;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/** The same shape as `oursRun`: seal all, then open all, each half timed after a full GC. */
function rawRun(bodies: Uint8Array[], key: Uint8Array): number {
  gc();
  let start = cpuNow();
  const sealed = bodies.map((body) => {
    const nonce = systemRandom(24);
    return { nonce, ciphertext: xchacha20poly1305(key, nonce).encrypt(body) };
  });
  let elapsed = cpuNow() - start;
  gc();
  start = cpuNow();
  for (const { nonce, ciphertext } of sealed) xchacha20poly1305(key, nonce).decrypt(ciphertext);
  elapsed += cpuNow() - start;
  return elapsed;
}

function oursRun(bodies: Uint8Array[], key: TopicKey, signer: PrivateKey): number {
  const author = signer.publicKey.toBytes();
  gc();
  let start = cpuNow();
  const sealed = bodies.map((b) => key.seal(b, author, systemRandom));
  let elapsed = cpuNow() - start;
  // Not timed: the operations that carry the sealed bodies (signing dominates).
  const ops: OrderedOperation[] = sealed.map((body, i) => ({
    operation: {
      ...createOperation({ privateKey: signer, body, seqNum: 0, extensions: { variant: 'basic', logId: new Uint8Array(32), timestamp: i, pruneFlag: false } }),
      localSeq: i,
    },
    lamport: 0,
  }));
  const processor = new DecryptProcessor({ mode: { type: 'topic-key', key }, now: () => 0 });
  gc();
  start = cpuNow();
  let opened = 0;
  for (let i = 0; i < ops.length; i += BATCH) {
    const out = processor.processAll(ops.slice(i, i + BATCH));
    if (out instanceof Promise) throw new Error('the topic-key slot went asynchronous');
    opened += out.length;
  }
  elapsed += cpuNow() - start;
  if (opened !== bodies.length) throw new Error(`opened ${opened} of ${bodies.length}`);
  return elapsed;
}

async function groupUpdate(members: number): Promise<Record<string, number>> {
  const topic = topicId('bench/crypto/group');
  const ids = Array.from({ length: members }, () => PrivateKey.fromBytes(systemRandom(32)));
  const keys = ids.map((k) => k.publicKey.toBytes());
  const membership: GroupMembership = { readers: () => keys, managersAt: () => [keys[0]] };
  const now = Date.now();
  const group = ids.map((identity) => GroupEncryption.create({ identity, topic, membership, random: systemRandom }, now));
  for (const g of group) for (const other of group) if (g !== other) g.learnBundle(other.bundle());
  const cpu = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const before = cpuUsage();
    const result = await f();
    const used = cpuUsage(before);
    return [result, (used.user + used.system) / 1000];
  };
  const [created, createMs] = await cpu(() => group[0].create(new Uint8Array(32), now));
  const createBody = created.publish[0];
  const receive = (g: GroupEncryption, body: Uint8Array, lamport: number) => {
    const env = decodeEnvelope(body);
    if (env.kind !== 3) throw new Error('not a control message');
    return g.receive({ author: keys[0], lamport, message: env.message }, now);
  };
  await receive(group[0], createBody, 1);
  for (const g of group.slice(1)) await receive(g, createBody, 1);
  const [updated, updateMs] = await cpu(() => group[0].update(new Uint8Array(32), now));
  const updateBody = updated.publish[0];
  const [, readMs] = await cpu(() => receive(group[1], updateBody, 2));
  return {
    members,
    createCpuMs: round(createMs, 1),
    createBytes: createBody.length,
    updateCpuMs: round(updateMs, 1),
    updateBytes: updateBody.length,
    updateBytesPerRecipient: Math.round(updateBody.length / (members - 1)),
    readOneUpdateCpuMs: round(readMs, 2),
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const count = arg(args, 'bodies', 20_000);
  const size = arg(args, 'size', 1024);
  const runs = arg(args, 'runs', 5);
  const members = arg(args, 'members', 128);
  const bodies = Array.from({ length: count }, () => systemRandom(size));
  const rawKey = systemRandom(32);
  const topicKey = TopicKey.fromBytes(systemRandom(32), topicId('bench/crypto'));
  const signer = PrivateKey.fromBytes(systemRandom(32));
  rawRun(bodies.slice(0, 1000), rawKey);
  oursRun(bodies.slice(0, 1000), topicKey, signer);
  const raw: number[] = [];
  const ours: number[] = [];
  for (let r = 0; r < runs; r++) {
    raw.push(rawRun(bodies, rawKey));
    ours.push(oursRun(bodies, topicKey, signer));
  }
  const rawPerSec = Math.round(count / (median(raw) / 1000));
  const oursPerSec = Math.round(count / (median(ours) / 1000));
  return {
    bodySize: size,
    bodies: count,
    rawSealOpenPerSec: rawPerSec,
    processorSealOpenPerSec: oursPerSec,
    processorOverRaw: round(oursPerSec / rawPerSec),
    groupUpdate: await groupUpdate(members),
    messageScheme: await messageSchemeRows(bodies.slice(0, Math.min(count, 5000)), Math.max(3, runs), members),
    note: `CPU time, medians of ${runs} alternating runs; seal + open per body; processor in batches of ${BATCH}; signing not timed`,
  };
}
