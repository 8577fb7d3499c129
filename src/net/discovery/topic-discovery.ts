/**
 * Which connected peers share which topics, without telling a peer about
 * topics it does not have. The asker sends a fresh random salt and
 * BLAKE3(salt || topic) for each of its topics; the answerer hashes its own
 * topics with that salt and answers only the hashes it shares. A peer learns
 * nothing about topics it does not hold (topics are 32 random bytes, or the
 * hash of a name: a guessable name can be tested by whoever guesses it).
 *
 * Bounded: at most 2 questions answered at once per peer and 64 overall, 12
 * questions per peer per minute (the record of who asked expires after a
 * minute and holds at most 1024 peers), one question of ours in flight per
 * peer and 64 overall, and every read times out.
 */
import type { Duplex } from 'node:stream';
import { encode } from 'cborg';
import { concatBytes, crypto, decodeStrictCbor, realRuntime, toHex, WalkawayError, type Runtime } from '../../core/index.ts';
import { encodeFrames, FrameDecoder } from '../../sync/index.ts';
import { protocolId } from '../transport/protocol.ts';
import type { Transport } from '../transport/transport.ts';

const MAX_TOPICS = 1024;
const MAX_FRAME = 64 + MAX_TOPICS * 40;
const TIMEOUT_MS = 10_000;
const MAX_ANSWERING_PER_PEER = 2;
const MAX_ANSWERING = 64;
const MAX_QUESTIONS_PER_MINUTE = 12;
const MAX_ASKERS_TRACKED = 1024;
const MAX_ASKING = 64;

/** Counts per peer in one-minute windows, at most `max` peers (oldest window forgotten first). */
class PerMinute {
  #windows = new Map<string, { start: number; count: number }>();
  constructor(readonly max: number) {}
  /** Counts one event of `peer` at `now`; returns the count in its current window. */
  hit(peer: string, now: number): number {
    let w = this.#windows.get(peer);
    if (!w || now - w.start >= 60_000) {
      this.#windows.delete(peer);
      this.#windows.set(peer, (w = { start: now, count: 0 }));
    }
    for (const [key, old] of this.#windows) {
      if (this.#windows.size <= this.max && now - old.start < 60_000) break;
      this.#windows.delete(key);
    }
    return ++w.count;
  }
}

export interface TopicDiscoveryOptions {
  transport: Transport;
  /** Default: the process's clock, timers and CSPRNG. */
  runtime?: Runtime;
  networkId: Uint8Array;
  /** The topics this node is in now. */
  topics: () => Uint8Array[];
  /** Called on both sides with the topics a peer shares with us. */
  onShared: (peer: string, topics: Uint8Array[]) => void;
  log?: (message: string) => void;
}

export class TopicDiscovery {
  readonly protocol: string;
  readonly #o: TopicDiscoveryOptions;
  #answering = new Map<string, number>();
  /** Peers asked now; true if the topics changed meanwhile and they are to be asked again. */
  #asking = new Map<string, boolean>();
  #questions = new PerMinute(MAX_ASKERS_TRACKED);
  readonly #runtime: Runtime;

  constructor(options: TopicDiscoveryOptions) {
    this.#o = options;
    this.#runtime = options.runtime ?? realRuntime();
    this.protocol = protocolId(options.networkId, 'topics');
  }

  async start(): Promise<void> {
    await this.#o.transport.handle(this.protocol, (stream, peer) => void this.#answer(stream, peer), { maxInboundStreams: MAX_ANSWERING_PER_PEER });
    this.#o.transport.on('peer:connect', ({ peer }) => void this.ask(peer));
  }

  /** Asks every connected peer (after this node joined a topic). */
  askAll(): void {
    for (const peer of this.#o.transport.peers()) void this.ask(peer);
  }

  async ask(peer: string): Promise<void> {
    const topics = this.#o.topics();
    if (topics.length === 0) return;
    if (this.#asking.has(peer)) return void this.#asking.set(peer, true);
    if (this.#asking.size >= MAX_ASKING) return this.#o.log?.(`topics: too many questions in flight, ${peer.slice(0, 8)} not asked`);
    if (!this.#o.transport.isConnected(peer)) return;
    this.#asking.set(peer, false);
    const salt = this.#runtime.randomBytes(32);
    const byHash = new Map(topics.map((t) => [toHex(saltedHash(salt, t)), t]));
    try {
      const stream = await withTimeout(this.#runtime, this.#o.transport.open(peer, this.protocol), 'no topic stream in time');
      stream.write(encodeFrames([encode({ salt, hashes: [...byHash.keys()].map((h) => Buffer.from(h, 'hex')) })]));
      const reply = await readOne(stream, this.#runtime);
      stream.end();
      const matches = (reply as { matches?: unknown }).matches;
      if (!Array.isArray(matches)) throw new WalkawayError('MALFORMED', 'topic answer without matches');
      const shared = matches.flatMap((m) => (m instanceof Uint8Array ? [byHash.get(toHex(m))] : [])).filter((t): t is Uint8Array => !!t);
      if (shared.length > 0) this.#o.onShared(peer, shared);
    } catch (err) {
      this.#o.log?.(`topics: asking ${peer.slice(0, 8)} failed: ${(err as Error).message}`);
    } finally {
      const again = this.#asking.get(peer);
      this.#asking.delete(peer);
      if (again) void this.ask(peer);
    }
  }

  async #answer(stream: Duplex, peer: string): Promise<void> {
    const busy = this.#answering.get(peer) ?? 0;
    if (busy >= MAX_ANSWERING_PER_PEER || this.#answering.size >= MAX_ANSWERING || this.#questions.hit(peer, this.#runtime.now()) > MAX_QUESTIONS_PER_MINUTE) {
      this.#o.log?.(`topics: too many questions from ${peer.slice(0, 8)}, refused`);
      return void stream.destroy(new WalkawayError('PENDING_OVERFLOW', 'too many topic questions'));
    }
    this.#answering.set(peer, busy + 1);
    try {
      const request = (await readOne(stream, this.#runtime)) as { salt?: unknown; hashes?: unknown };
      const { salt, hashes } = request;
      if (!(salt instanceof Uint8Array) || salt.length !== 32 || !Array.isArray(hashes) || hashes.length > MAX_TOPICS) {
        throw new WalkawayError('MALFORMED', 'topic question must carry a 32-byte salt and at most 1024 hashes');
      }
      const asked = new Set(hashes.filter((h): h is Uint8Array => h instanceof Uint8Array).map(toHex));
      const shared = this.#o.topics().filter((t) => asked.has(toHex(saltedHash(salt, t))));
      stream.end(encodeFrames([encode({ matches: shared.map((t) => saltedHash(salt, t)) })]));
      if (peer && shared.length > 0) this.#o.onShared(peer, shared);
    } catch (err) {
      this.#o.log?.(`topics: bad question from ${peer.slice(0, 8)}: ${(err as Error).message}`);
      stream.destroy(err as Error);
    } finally {
      const left = (this.#answering.get(peer) ?? 1) - 1;
      if (left > 0) this.#answering.set(peer, left);
      else this.#answering.delete(peer);
    }
  }
}

function saltedHash(salt: Uint8Array, topic: Uint8Array): Uint8Array {
  return crypto().blake3(concatBytes(salt, topic));
}

/** Reads one frame; a peer that sends nothing for TIMEOUT_MS has its stream aborted. */
async function readOne(stream: Duplex, runtime: Runtime): Promise<unknown> {
  const decoder = new FrameDecoder(MAX_FRAME);
  const timer = runtime.setTimer(TIMEOUT_MS, () => stream.destroy(new WalkawayError('TIMEOUT', 'no topic message in time')));
  try {
    // Returning after one frame must not destroy the stream: the answer goes out on it.
    for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
      const frames = decoder.push(chunk as Uint8Array);
      if (frames.length > 0) return decodeStrictCbor(frames[0], 'topic message');
    }
  } finally {
    runtime.clearTimer(timer);
  }
  throw new WalkawayError('CLOSED', 'stream ended before a topic message');
}

/** A stream opened in time, or a TIMEOUT (a stream that opens late is reset). */
function withTimeout(runtime: Runtime, opening: Promise<Duplex>, what: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = runtime.setTimer(TIMEOUT_MS, () => {
      late = true;
      reject(new WalkawayError('TIMEOUT', what));
    });
    opening.then(
      (stream) => {
        runtime.clearTimer(timer);
        if (late) stream.destroy();
        else resolve(stream);
      },
      (err: Error) => {
        runtime.clearTimer(timer);
        reject(err);
      },
    );
  });
}
