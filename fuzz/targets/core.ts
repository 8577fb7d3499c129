/**
 * src/core: the operation header (fast path and generic decoder, and the two
 * compared), a whole operation with its signature, and the extensions array.
 */
import { encode } from 'cborg';
import { decodeHeader, decodeOperation, decodeStrictCbor } from '../../src/core/index.ts';
import { extensionsFromCbor, extensionsToCbor } from '../../src/core/extensions.ts';
import { decodeHeaderFast } from '../../src/core/header-fast.ts';
import { decodeHeaderGeneric } from '../../src/core/header.ts';
import { toHex } from '../engine.ts';
import { SIGNATURE_BUDGET_US_PER_KIB, type Target } from '../target.ts';
import { seededOperations } from './fixtures.ts';

const headers = (rng: Parameters<Target['seeds']>[0]) => seededOperations(rng).map((op) => op.headerBytes);

export const header: Target = {
  name: 'header',
  format: 'cbor',
  about: 'decodeHeader (header-fast, else the strict generic decoder)',
  seeds: headers,
  run: (input) => decodeHeader(input),
};

/**
 * Whatever the fast path accepts, the generic decoder accepts too, with the
 * same fields (the fast path is a strict subset). A difference is thrown as
 * a plain Error: an untyped error, so a failure.
 */
export const headerFast: Target = {
  name: 'header-fast',
  format: 'cbor',
  about: 'decodeHeaderFast compared with decodeHeaderGeneric on what it accepts',
  seeds: headers,
  run: (input) => {
    const fast = decodeHeaderFast(input);
    if (fast === undefined) return undefined;
    let generic: ReturnType<typeof decodeHeaderGeneric>;
    try {
      generic = decodeHeaderGeneric(input);
    } catch (err) {
      throw new Error(`fast path accepted what the generic decoder refuses (${(err as Error).message})`);
    }
    const same =
      fast.publicKey.toHex() === generic.publicKey.toHex() &&
      toHex(fast.signature) === toHex(generic.signature) &&
      fast.payloadSize === generic.payloadSize &&
      fast.seqNum === generic.seqNum &&
      fast.payloadHash?.toHex() === generic.payloadHash?.toHex() &&
      fast.backlink?.toHex() === generic.backlink?.toHex() &&
      JSON.stringify(fast.extensions, extJson) === JSON.stringify(generic.extensions, extJson);
    if (!same) throw new Error('fast path and generic decoder disagree');
    return fast;
  },
};

function extJson(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (value && typeof value === 'object' && 'toHex' in value && typeof value.toHex === 'function') return value.toHex();
  return value;
}

export const operation: Target = {
  name: 'operation',
  format: 'cbor',
  about: 'decodeOperation: header shape, limits, signature',
  budgetUsPerKiB: SIGNATURE_BUDGET_US_PER_KIB,
  seeds: headers,
  run: (input) => decodeOperation(input),
};

export const extensions: Target = {
  name: 'extensions',
  format: 'cbor',
  about: 'extensionsFromCbor of a strictly decoded CBOR value',
  seeds: (rng) =>
    seededOperations(rng)
      .filter((op) => op.header.extensions)
      .map((op) => new Uint8Array(encode(extensionsToCbor(op.header.extensions!)))),
  run: (input) => extensionsFromCbor(decodeStrictCbor(input, 'extensions')),
};
