import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { isWalkawayError } from '../../src/core/index.ts';
import { DEFAULT_SYNC_CONFIG, syncOverStream } from '../../src/sync/index.ts';
import { frames, hello, openStore, testOptions, TOPIC } from './helpers.ts';

/**
 * A hostile peer on a real TCP socket (127.0.0.1) sends a hello and then one
 * frame of empty CBOR maps. The acceptor must refuse it with a typed error
 * from the decoder's budget (nothing built), close the session and the socket.
 */
async function bombard(frameBytes: number) {
  const store = openStore('sqlite');
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const attacker = net.connect(port, '127.0.0.1');
  attacker.on('error', () => {}); // the honest side may reset it mid-write
  attacker.resume();
  const attackerClosed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
  const socket = await accepted;
  server.close();
  const handle = syncOverStream(store, socket, { ...testOptions(store), role: 'acceptor', topic: TOPIC, config: { stallTimeoutMs: 10_000 } });
  // [n maps...]: the array head then n bytes of 0xa0, framed with its length.
  const n = frameBytes - 5;
  const body = Buffer.alloc(frameBytes, 0xa0);
  body[0] = 0x9a;
  body.writeUInt32BE(n, 1);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(frameBytes);
  attacker.write(frames(hello()));
  attacker.write(Buffer.concat([prefix, body]));
  const error = await handle.done.then(
    () => assert.fail('the session should fail'),
    (err: unknown) => err,
  );
  await attackerClosed;
  store.close();
  assert.ok(isWalkawayError(error), `a typed error, got ${error}`);
  return error;
}

test('over TCP, a largest-allowed frame of empty maps is stopped by the item budget and the session closes', async () => {
  const error = await bombard(DEFAULT_SYNC_CONFIG.maxFrameBytes);
  assert.equal(error.code, 'TOO_LARGE');
  assert.equal(error.data.unit, 'items', 'the scan refused it: cborg never built the maps');
  assert.ok((error.data.at as number) < 20_000, `stopped after ${error.data.at} of ${DEFAULT_SYNC_CONFIG.maxFrameBytes} bytes`);
});

test('over TCP, the 2 MiB frame of empty maps is refused by its length alone and the session closes', async () => {
  const error = await bombard(2 * 1024 * 1024);
  assert.equal(error.code, 'TOO_LARGE');
  assert.equal(error.data.size, 2 * 1024 * 1024);
  assert.equal(error.data.limit, DEFAULT_SYNC_CONFIG.maxFrameBytes);
});
