/**
 * Reading `.xdc` files: a good app opens with its manifest's name; every
 * way a hostile zip could hurt (traversal, absolute paths, too many
 * entries, a bomb's declared size, no index.html, garbage) is refused with
 * a typed error, and a hostile manifest is read without failing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zipSync, strToU8 } from 'fflate';
import { isWalkawayError } from '../../src/core/index.ts';
import { openXdc, parseManifest, DEFAULT_ARCHIVE_LIMITS } from '../../src/webxdc/index.ts';

const INDEX = strToU8('<!doctype html><script src="webxdc.js"></script>');

test('an app opens: files, the manifest name, the icon', () => {
  const xdc = zipSync({
    'index.html': INDEX,
    'manifest.toml': strToU8('name = "Poll"\nsource_code_url = "https://example.org/poll"\n'),
    'icon.png': new Uint8Array([1]),
    'js/app.js': strToU8('1'),
  });
  const app = openXdc(xdc, 'poll-v2.xdc');
  assert.equal(app.name, 'Poll');
  assert.equal(app.sourceCodeUrl, 'https://example.org/poll');
  assert.equal(app.icon, 'icon.png');
  assert.deepEqual([...app.files.keys()].sort(), ['icon.png', 'index.html', 'js/app.js', 'manifest.toml']);
});

test('without a manifest name the file name is the app name', () => {
  assert.equal(openXdc(zipSync({ 'index.html': INDEX }), '/tmp/My Game.xdc').name, 'My Game');
  assert.equal(openXdc(zipSync({ 'index.html': INDEX, 'manifest.toml': strToU8('name = ""') }), 'x.xdc').name, 'x');
});

test('hostile archives are refused with a typed error', () => {
  const refused = (files: Record<string, Uint8Array>, code: string, limits = DEFAULT_ARCHIVE_LIMITS) =>
    assert.throws(
      () => openXdc(zipSync(files), 'bad.xdc', limits),
      (err: unknown) => isWalkawayError(err) && err.code === code,
    );
  refused({ 'index.html': INDEX, '../evil.js': INDEX }, 'MALFORMED');
  refused({ 'index.html': INDEX, 'a/../../evil.js': INDEX }, 'MALFORMED');
  refused({ 'index.html': INDEX, '/etc/passwd': INDEX }, 'MALFORMED');
  refused({ 'index.html': INDEX, 'C:/x.js': INDEX }, 'MALFORMED');
  refused({ 'index.html': INDEX, 'a\\..\\b': INDEX }, 'MALFORMED');
  refused({ 'index.html': INDEX, 'a\u0000b': INDEX }, 'MALFORMED');
  refused({ 'app/index.html': INDEX }, 'MALFORMED');
  const many: Record<string, Uint8Array> = { 'index.html': INDEX };
  for (let i = 0; i < 20; i++) many[`f${i}`] = INDEX;
  refused(many, 'TOO_LARGE', { ...DEFAULT_ARCHIVE_LIMITS, maxEntries: 10 });
  refused({ 'index.html': INDEX, big: new Uint8Array(5000) }, 'TOO_LARGE', { ...DEFAULT_ARCHIVE_LIMITS, maxFileBytes: 4096 });
  refused({ 'index.html': INDEX, a: new Uint8Array(3000), b: new Uint8Array(3000) }, 'TOO_LARGE', { ...DEFAULT_ARCHIVE_LIMITS, maxTotalBytes: 5000 });
  assert.throws(
    () => openXdc(strToU8('not a zip at all'), 'x.xdc'),
    (err: unknown) => isWalkawayError(err, 'MALFORMED'),
  );
  assert.throws(
    () => openXdc(new Uint8Array(100), 'x.xdc', { ...DEFAULT_ARCHIVE_LIMITS, maxArchiveBytes: 10 }),
    (err: unknown) => isWalkawayError(err, 'TOO_LARGE'),
  );
});

test('a zip bomb that lies about its size inflates no further than it declared', () => {
  const xdc = zipSync({ 'index.html': INDEX, 'bomb.txt': new Uint8Array(1_000_000) }, { level: 9 });
  // Rewrite the declared size of bomb.txt in the central directory down to 10 bytes.
  const view = new DataView(xdc.buffer, xdc.byteOffset, xdc.byteLength);
  let patched = 0;
  for (let i = 0; i + 46 < xdc.length; i++) {
    if (view.getUint32(i, true) === 0x02014b50 && new TextDecoder().decode(xdc.subarray(i + 46, i + 54)) === 'bomb.txt') {
      view.setUint32(i + 24, 10, true);
      patched++;
    }
  }
  assert.equal(patched, 1);
  let opened: ReturnType<typeof openXdc>;
  try {
    opened = openXdc(xdc, 'bomb.xdc');
  } catch (err) {
    assert.ok(isWalkawayError(err), 'a typed error or a bounded result');
    return;
  }
  assert.ok(opened.files.get('bomb.txt')!.length <= 10);
});

test('manifests are read defensively', () => {
  assert.deepEqual(parseManifest(strToU8('name = "A \\u00e9 \\"q\\""  # c\n')), { name: 'A é "q"' });
  assert.deepEqual(parseManifest(strToU8("name = 'lit'\n")), { name: 'lit' });
  assert.deepEqual(parseManifest(strToU8('[table]\nname = "no"\n')), {});
  assert.deepEqual(parseManifest(strToU8('name = 5\nsource_code_url = "javascript:alert(1)"\n')), {});
  assert.deepEqual(parseManifest(new Uint8Array([0xff, 0xfe, 0x00])), {});
  assert.deepEqual(parseManifest(strToU8(`name = "${'x'.repeat(1000)}"`)).name?.length, 128);
  assert.deepEqual(parseManifest(strToU8('name = "\\uD800"')), {});
  assert.deepEqual(parseManifest(strToU8('name = "a\u202eb"')), { name: 'ab' });
  assert.deepEqual(parseManifest(new Uint8Array(70_000).fill(0x61)), {});
});
