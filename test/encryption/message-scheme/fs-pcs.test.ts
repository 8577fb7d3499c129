/**
 * Forward secrecy and post-compromise security of the message scheme, with
 * a thief who copies a member's whole state (identity key included) at time
 * t and from then on reads every operation on the network:
 *
 * - FS: nothing the member had read before t opens with the stolen state
 *   (its keys were used and wiped), not even across epochs.
 * - PCS: nothing sent after the member's next update has been acknowledged
 *   opens with it, by any sender.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toHex } from '../../../src/core/index.ts';
import { decodeSchemeMessage } from '../../../src/encryption/message-scheme/index.ts';
import { newTwoPartyState, receiveTwoParty } from '../../../src/encryption/two-party.ts';
import { Net, openText } from './harness.ts';

async function founded(seed: string): Promise<Net> {
  const net = new Net(seed);
  for (const n of ['a', 'b', 'c']) net.join(n);
  await net.create('a', ['a', 'b', 'c']);
  await net.syncAll();
  return net;
}

test('forward secrecy: a state stolen at t opens nothing read before t', async () => {
  const net = await founded('fs');
  const early = [net.say('a', 'one'), net.say('b', 'two')];
  await net.update('b'); // a new epoch: the old chains are replaced
  await net.syncAll();
  const late = [net.say('a', 'three'), net.say('b', 'four')];
  await net.syncAll();
  for (const e of [...early, ...late]) assert.ok(net.readers(e).includes('c'), 'c read everything before the theft');
  const thief = net.steal('c');
  for (const e of [...early, ...late]) {
    assert.equal(openText(thief.group, net.get(e!.author).key, e!.body), 'error:MISSING_KEY', `stolen state opens "${e!.text}"`);
  }
  // The state holds no secret of the keys used: no 32-byte run of a used key would help, the chains moved on.
  const stolen = net.get('c').group.exportState();
  for (const chains of stolen.receiving.values()) for (const chain of chains.values()) assert.equal(chain.skipped.size, 0);
});

test('forward secrecy holds for skipped keys too: only unread messages open with the stolen state', async () => {
  const net = await founded('fs-skipped');
  const burst = ['1', '2', '3'].map((t) => net.say('a', t)!);
  const c = net.get('c');
  // c reads only the last one: the keys of 1 and 2 are kept for them (bounded window).
  c.opened.set(burst[2].id, openText(c.group, net.get('a').key, burst[2].body));
  const thief = net.steal('c');
  assert.equal(openText(thief.group, net.get('a').key, burst[2].body), 'error:MISSING_KEY');
  // What c had not read yet is the thief's too: the documented limit of forward secrecy.
  assert.equal(openText(thief.group, net.get('a').key, burst[0].body), '1');
});

test('post-compromise security: after the victim updates and its update is acknowledged, the thief opens nothing', async () => {
  const net = await founded('pcs');
  const thief = net.steal('c');
  // Before c heals, the thief follows the group: the documented window.
  const window = net.say('a', 'still readable by the thief');
  await net.syncAll();
  assert.ok(net.readers(window).includes(thief.name));
  await net.update('c');
  await net.syncAll(['a', 'b', 'c', thief.name]); // everyone acks; the thief reads all of it
  const after = [net.say('a', 'a after'), net.say('b', 'b after'), net.say('c', 'c after')];
  await net.syncAll();
  for (const e of after) {
    assert.ok(!net.readers(e).includes(thief.name), `thief opened "${e!.text}"`);
    assert.deepEqual(
      net.readers(e).filter((r) => r !== thief.name),
      ['a', 'b', 'c'].filter((x) => x !== e!.author),
    );
  }
});

test('post-compromise security also after a removal: the removed member follows nothing', async () => {
  const net = await founded('pcs-remove');
  net.join('n');
  await net.add('a', 'n');
  await net.syncAll();
  await net.remove('b', 'c');
  await net.syncAll();
  const after = ['a', 'b', 'n'].map((s) => net.say(s, `${s} after`)!);
  await net.syncAll();
  for (const e of after) assert.ok(!net.readers(e).includes('c'));
  for (const e of after) assert.equal(net.readers(e).length, 2);
});

test('forward secrecy of first contact: a one-time pre-key is deleted once read, so a later theft cannot open the X3DH message', async () => {
  const net = await founded('one-time');
  // After the create, b and c have no channel with each other: each published a one-time pre-key for the other.
  const before = net.get('c').group.exportState();
  assert.equal(before.dcgka.keys.oneTimeKeys?.size, 1);
  await net.update('b');
  const update = net.log[net.log.length - 1];
  const toC = decodeSchemeMessage(update.body.subarray(2));
  assert.equal(toC.type, 'update');
  const direct = toC.type === 'update' ? toC.directs.find((d) => toHex(d.recipient) === net.get('c').group.memberId) : undefined;
  assert.ok(direct, 'b sent c a seed');
  await net.syncAll();
  const after = net.get('c').group.exportState();
  assert.equal(after.dcgka.keys.oneTimeKeys?.size, 0, 'c deleted the one-time key it used');
  const bKey = net.get('b').key;
  // A copy of c's state from before reads the first message (that is what the key was for) ...
  await receiveTwoParty(newTwoPartyState(), before.dcgka.keys, bKey, direct.message);
  // ... a copy from after does not, though it holds c's identity and signed pre-key.
  await assert.rejects(receiveTwoParty(newTwoPartyState(), after.dcgka.keys, bKey, direct.message), { code: 'MISSING_KEY' });
});
