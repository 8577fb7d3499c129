/**
 * Bundles: a topic's operations in a file, for media that carry bytes but
 * no conversation (a USB stick, a mail attachment). Version 1:
 *
 *   magic "walkaway-bundle/1\n", then length-prefixed frames (frames.ts) of
 *   strict CBOR: [1, networkId (32 bytes), topic (32 bytes)], one
 *   [headerBytes, body | null] per operation (in log order), and a trailer
 *   [count] that says the file is whole.
 *
 * Encoding is plain; decoding is incremental and bounded: one frame at a time
 * (at most one operation's limits), a cap on operations, strict CBOR with a
 * handful of items. What the reader yields is not verified: the importer
 * decodes each operation (signature, payload hash) and ingests it through the
 * store's rules (backlink, seqNum, forks).
 */
import { bytesEqual, decodeStrictCbor, DEFAULT_LIMITS, utf8, WalkawayError, type Operation } from '../core/index.ts';
import { encode } from 'cborg';
import { encodeFrames, FrameDecoder } from './frames.ts';

export const BUNDLE_MAGIC = utf8('walkaway-bundle/1\n');
export const BUNDLE_VERSION = 1;
/** Operations in one bundle (a whole topic of a chat is far smaller). */
export const MAX_BUNDLE_OPERATIONS = 1_000_000;
/** One frame: an operation at the core limits plus CBOR overhead. */
export const MAX_BUNDLE_FRAME = DEFAULT_LIMITS.maxHeaderBytes + DEFAULT_LIMITS.maxBodyBytes + 64;
const BUNDLE_CBOR_LIMITS = { maxItems: 8, maxDepth: 2 };

export interface BundleHead {
  networkId: Uint8Array;
  topic: Uint8Array;
}

export type BundleItem = ({ type: 'head' } & BundleHead) | { type: 'operation'; headerBytes: Uint8Array; body: Uint8Array | undefined } | { type: 'end'; count: number };

export function encodeBundleHead(head: BundleHead): Buffer {
  return Buffer.concat([BUNDLE_MAGIC, encodeFrames([encode([BUNDLE_VERSION, head.networkId, head.topic])])]);
}

export function encodeBundleOperation(op: Pick<Operation, 'headerBytes' | 'body'>): Buffer {
  return encodeFrames([encode([op.headerBytes, op.body ?? null])]);
}

export function encodeBundleEnd(count: number): Buffer {
  return encodeFrames([encode([count])]);
}

/** Reads a bundle chunk by chunk; throws MALFORMED or TOO_LARGE (WalkawayError) on bad input. */
export class BundleReader {
  readonly #frames = new FrameDecoder(MAX_BUNDLE_FRAME);
  readonly #maxOperations: number;
  #magic = 0;
  #head = false;
  #count = 0;
  #ended = false;

  constructor(options: { maxOperations?: number } = {}) {
    this.#maxOperations = options.maxOperations ?? MAX_BUNDLE_OPERATIONS;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(chunk: Uint8Array): BundleItem[] {
    let rest = chunk;
    if (this.#magic < BUNDLE_MAGIC.length) {
      const n = Math.min(BUNDLE_MAGIC.length - this.#magic, rest.length);
      if (!bytesEqual(rest.subarray(0, n), BUNDLE_MAGIC.subarray(this.#magic, this.#magic + n))) {
        throw new WalkawayError('MALFORMED', 'not a walkaway bundle (version 1): the file does not start with "walkaway-bundle/1"');
      }
      this.#magic += n;
      rest = rest.subarray(n);
      if (rest.length === 0) return [];
    }
    return this.#frames.push(rest).map((frame) => this.#item(frame));
  }

  /** Call at the end of the file: a bundle without its trailer was cut short. */
  finish(): void {
    if (!this.#ended) throw new WalkawayError('MALFORMED', `the bundle is cut short after ${this.#count} operations (no trailer)`);
  }

  #item(frame: Uint8Array): BundleItem {
    if (this.#ended) throw new WalkawayError('MALFORMED', 'data after the bundle trailer');
    const value = decodeStrictCbor(frame, 'bundle frame', BUNDLE_CBOR_LIMITS);
    if (!Array.isArray(value)) throw new WalkawayError('MALFORMED', 'a bundle frame is a CBOR array');
    if (!this.#head) {
      const [version, networkId, topic] = value;
      if (version !== BUNDLE_VERSION) throw new WalkawayError('MALFORMED', `bundle version ${String(version).slice(0, 16)}, this node reads ${BUNDLE_VERSION}`);
      if (value.length !== 3 || !isBytes(networkId, 32) || !isBytes(topic, 32)) throw new WalkawayError('MALFORMED', 'the bundle head is not [1, networkId, topic]');
      this.#head = true;
      return { type: 'head', networkId, topic };
    }
    if (value.length === 1) {
      if (value[0] !== this.#count)
        throw new WalkawayError('MALFORMED', `the trailer counts ${String(value[0]).slice(0, 16)} operations, the bundle holds ${this.#count}`);
      this.#ended = true;
      return { type: 'end', count: this.#count };
    }
    const [headerBytes, body] = value;
    if (value.length !== 2 || !isBytes(headerBytes) || !(body === null || isBytes(body))) {
      throw new WalkawayError('MALFORMED', 'a bundle operation is [headerBytes, body | null]');
    }
    if (++this.#count > this.#maxOperations) throw new WalkawayError('TOO_LARGE', `more than ${this.#maxOperations} operations in one bundle`);
    return { type: 'operation', headerBytes, body: body ?? undefined };
  }
}

function isBytes(value: unknown, length?: number): value is Uint8Array {
  return value instanceof Uint8Array && (length === undefined || value.length === length);
}
