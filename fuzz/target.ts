/** What a fuzz target is: a decoder of remote or user input, with valid seeds built by the real encoders. */
import { isWalkawayError } from '../src/core/index.ts';
import type { Rng } from './prng.ts';

export interface Target {
  name: string;
  /** What the decoder reads (weights the mutations: CBOR-aware ones only for 'cbor'). */
  format: 'cbor' | 'bytes' | 'text';
  /** What it is: one line for the README and the table. */
  about: string;
  /** Valid inputs, made with the encoders of src/ (signed with seeded keys). */
  seeds(rng: Rng): Uint8Array[] | Promise<Uint8Array[]>;
  /** Decodes one input. Throws on bad input; only `expected` errors are fine. */
  run(input: Uint8Array): unknown;
  /** Thrown errors that are a documented outcome (default: any WalkawayError). */
  expected?(err: unknown): boolean;
  /** Tokens spliced in by the dictionary mutation. */
  dictionary?: Uint8Array[];
  /** Cost bound for this target if not the general one (µs per KiB of input). */
  budgetUsPerKiB?: number;
  /** Most inputs per run, for targets that cannot reach a million (real requests). */
  maxInputs?: number;
  /** Asynchronous targets (a real server) are awaited one input at a time. */
  async?: boolean;
  close?(): Promise<void> | void;
}

/**
 * Targets that verify an Ed25519 signature per input: one verification, with
 * a KeyObject made for a key not seen before (src/core/crypto-node.ts caches
 * them), costs 100-350 µs here, more than the general bound of a sub-KiB input.
 */
export const SIGNATURE_BUDGET_US_PER_KIB = 1000;

export const expectWalkawayError = (err: unknown): boolean => isWalkawayError(err);

export const utf8Bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
