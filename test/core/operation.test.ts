import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from 'cborg';
import {
  createOperation,
  decodeOperation,
  encodeHeader,
  fromHex,
  Hash,
  isWalkawayError,
  PublicKey,
  toHex,
  unsignedBytesOf,
  validateBacklink,
  withSignature,
  type ErrorCode,
} from '../../src/core/index.ts';
import { keyFor, logIdFor, makeLog, nextOp } from '../helpers/ops.ts';

function rejects(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err) => {
    assert.ok(isWalkawayError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

const key = keyFor(1);
const [op0, op1] = makeLog(key, 2);

describe('operations', () => {
  test('create then decode gives the same hash, header and body', () => {
    const decoded = decodeOperation(op1.headerBytes, op1.body);
    assert.ok(decoded.hash.equals(op1.hash));
    assert.equal(decoded.header.seqNum, 1);
    assert.ok(decoded.header.backlink!.equals(op0.hash));
    assert.ok(decoded.header.publicKey.equals(key.publicKey));
    assert.deepEqual(decoded.body, op1.body);
    assert.deepEqual(decoded.header.extensions, op1.header.extensions);
  });

  test('the operation id is BLAKE3 of the signed header bytes', () => {
    assert.ok(op0.hash.equals(Hash.digest(op0.headerBytes)));
  });

  test('a header without body omits payloadHash and a seq-0 header omits backlink', () => {
    const op = createOperation({ privateKey: key, seqNum: 0 });
    assert.equal(op.header.payloadSize, 0);
    assert.equal(op.header.payloadHash, undefined);
    // [version, publicKey, signature, payloadSize, seqNum]: a 5-item array.
    assert.equal(op.headerBytes[0], 0x85);
    assert.ok(decodeOperation(op.headerBytes).hash.equals(op.hash));
  });

  test('decoding needs no body: headers stay verifiable when bodies are deleted', () => {
    assert.ok(decodeOperation(op1.headerBytes).hash.equals(op1.hash));
  });

  test('unsigned bytes are exactly the encoding without signature, and back', () => {
    const unsigned = encodeHeader({ ...op1.header });
    assert.deepEqual(unsignedBytesOf(op1.headerBytes), unsigned);
    assert.deepEqual(withSignature(unsigned, op1.header.signature), op1.headerBytes);
  });

  test('causal previous lists are sorted and de-duplicated on create', () => {
    const a = Hash.digest(new Uint8Array([1]));
    const b = Hash.digest(new Uint8Array([2]));
    const op = createOperation({
      privateKey: key,
      seqNum: 0,
      extensions: { variant: 'causal', logId: logIdFor(1), timestamp: 5, previous: [b, a, b, a] },
    });
    const decoded = decodeOperation(op.headerBytes);
    assert.equal(decoded.header.extensions?.variant, 'causal');
    const previous = decoded.header.extensions?.variant === 'causal' ? decoded.header.extensions.previous : [];
    assert.equal(previous.length, 2);
    assert.ok(toHex(previous[0].bytes) < toHex(previous[1].bytes));
  });

  test('keys and hashes round-trip through bytes and hex', () => {
    const pk = PublicKey.fromHex(key.publicKey.toHex());
    assert.ok(pk.equals(key.publicKey));
    assert.ok(Hash.fromHex(op0.hash.toHex()).equals(op0.hash));
    assert.deepEqual(keyFor(1).toBytes(), new Uint8Array(32).fill(1));
    rejects(() => Hash.fromHex('zz'), 'MALFORMED');
    rejects(() => PublicKey.fromBytes(new Uint8Array(31)), 'MALFORMED');
  });
});

describe('validation: one error code per rule', () => {
  test('MALFORMED: truncated header', () => {
    rejects(() => decodeOperation(op1.headerBytes.subarray(0, op1.headerBytes.length - 3)), 'MALFORMED');
  });

  test('MALFORMED: not CBOR, not an array, trailing bytes', () => {
    rejects(() => decodeOperation(new Uint8Array([0xff, 0x00])), 'MALFORMED');
    rejects(() => decodeOperation(encode({ version: 1 })), 'MALFORMED');
    rejects(() => decodeOperation(new Uint8Array([...op1.headerBytes, 0x00])), 'MALFORMED');
    rejects(() => decodeOperation('nope' as unknown as Uint8Array), 'MALFORMED');
  });

  test('MALFORMED: non-canonical integer encoding', () => {
    // seqNum 1 (0x01) written as a 1-byte-argument integer (0x18 0x01).
    const bytes = op1.headerBytes;
    const seqAt = indexOfSeq(bytes);
    const patched = new Uint8Array([...bytes.subarray(0, seqAt), 0x18, 0x01, ...bytes.subarray(seqAt + 1)]);
    rejects(() => decodeOperation(patched, op1.body), 'MALFORMED');
  });

  test('MALFORMED: wrong field shape (short public key, missing backlink, extra field)', () => {
    const items = [1, key.publicKey.bytes.subarray(1), op0.header.signature, 0, 0];
    rejects(() => decodeOperation(encode(items)), 'MALFORMED');
    rejects(() => decodeOperation(encode([1, key.publicKey.bytes, op0.header.signature, 0, 1])), 'MALFORMED');
    rejects(() => decodeOperation(encode([1, key.publicKey.bytes, op0.header.signature, 0, 0, [1, 0, logIdFor(1), 1, false], 7])), 'MALFORMED');
  });

  test('MALFORMED: unsorted previous in causal extensions', () => {
    const a = new Uint8Array(32).fill(2);
    const b = new Uint8Array(32).fill(1);
    const unsigned = encode([1, key.publicKey.bytes, 0, 0, [1, 1, logIdFor(1), 5, [a, b]]]);
    const bytes = withSignature(unsigned, key.sign(unsigned));
    rejects(() => decodeOperation(bytes), 'MALFORMED');
  });

  test('UNSUPPORTED_VERSION: a version-2 header', () => {
    const unsigned = encode([2, key.publicKey.bytes, 0, 0]);
    rejects(() => decodeOperation(withSignature(unsigned, key.sign(unsigned))), 'UNSUPPORTED_VERSION');
  });

  test('INVALID_SIGNATURE: one flipped signature bit', () => {
    const bytes = new Uint8Array(op1.headerBytes);
    bytes[40] ^= 1;
    rejects(() => decodeOperation(bytes, op1.body), 'INVALID_SIGNATURE');
  });

  test('INVALID_SIGNATURE: a header signed by someone else', () => {
    const other = keyFor(2);
    const unsigned = encodeHeader({ ...op0.header });
    rejects(() => decodeOperation(withSignature(unsigned, other.sign(unsigned)), op0.body), 'INVALID_SIGNATURE');
  });

  test('PAYLOAD_MISMATCH: a body of the right size with other bytes, and of another size', () => {
    const body = new Uint8Array(op1.body!);
    body[0] ^= 1;
    rejects(() => decodeOperation(op1.headerBytes, body), 'PAYLOAD_MISMATCH');
    rejects(() => decodeOperation(op1.headerBytes, new Uint8Array([1, 2, 3])), 'PAYLOAD_MISMATCH');
  });

  test('TOO_LARGE: header and body over their limits', () => {
    const limits = { maxHeaderBytes: 100, maxBodyBytes: 4 };
    rejects(() => decodeOperation(op1.headerBytes, op1.body, limits), 'TOO_LARGE');
    rejects(() => decodeOperation(op1.headerBytes, op1.body, { maxHeaderBytes: 8192, maxBodyBytes: 4 }), 'TOO_LARGE');
  });

  test('validateBacklink accepts the next entry and a seq-0 start', () => {
    validateBacklink(op0, op1);
    validateBacklink(undefined, op0);
  });

  test('AUTHOR_MISMATCH, LOG_MISMATCH, SEQ_GAP, BACKLINK_MISMATCH', () => {
    const other = makeLog(keyFor(2), 2);
    rejects(() => validateBacklink(other[0], op1), 'AUTHOR_MISMATCH');
    const otherLog = makeLog(key, 2, { logId: logIdFor(9) });
    rejects(() => validateBacklink(otherLog[0], op1), 'LOG_MISMATCH');
    const log = makeLog(key, 3);
    rejects(() => validateBacklink(log[0], log[2]), 'SEQ_GAP');
    rejects(() => validateBacklink(undefined, log[2]), 'SEQ_GAP');
    const stranger = createOperation({
      privateKey: key,
      seqNum: 1,
      backlink: Hash.digest(new Uint8Array([7])),
      extensions: op1.header.extensions,
    });
    rejects(() => validateBacklink(op0, stranger), 'BACKLINK_MISMATCH');
  });

  test('prune-aware: an operation with the prune flag needs no previous entry', () => {
    const log = makeLog(key, 4, { prune: [3] });
    validateBacklink(undefined, log[3]);
    validateBacklink(log[2], log[3]);
    const plain = nextOp(key, log[3], new Uint8Array([1]));
    rejects(() => validateBacklink(undefined, plain), 'SEQ_GAP');
  });

  test('createOperation refuses a backlink that does not fit seqNum', () => {
    rejects(() => createOperation({ privateKey: key, seqNum: 1 }), 'INVALID_ARGUMENT');
    rejects(() => createOperation({ privateKey: key, seqNum: 0, backlink: op0.hash }), 'INVALID_ARGUMENT');
    rejects(() => createOperation({ privateKey: key, seqNum: -1 }), 'INVALID_ARGUMENT');
  });

  test('unknown extension versions decode (forward compatibility)', () => {
    const unsigned = encode([1, key.publicKey.bytes, 0, 0, [7, 3, 'future']]);
    const op = decodeOperation(withSignature(unsigned, key.sign(unsigned)));
    assert.deepEqual(op.header.extensions, { variant: 'unknown', version: 7, variantId: 3 });
  });

  test('extra trailing extension fields are tolerated', () => {
    const unsigned = encode([1, key.publicKey.bytes, 0, 0, [1, 0, logIdFor(1), 5, true, 'extra']]);
    const op = decodeOperation(withSignature(unsigned, key.sign(unsigned)));
    assert.equal(op.header.extensions?.variant, 'basic');
  });
});

/** Offset of the seqNum byte in a seq-1 header with a body and a backlink. */
function indexOfSeq(bytes: Uint8Array): number {
  // head(1) version(1) key(34) signature(66) payloadSize(1: size < 24) payloadHash(34)
  const at = 1 + 1 + 34 + 66 + 1 + 34;
  assert.equal(bytes[at], 0x01);
  return at;
}

test('fromHex rejects odd or non-hex input', () => {
  assert.throws(() => fromHex('abc'));
  assert.throws(() => fromHex('zz'));
});
