/**
 * The processors' growable storage: chunked references and a number stack
 * that keeps its memory when emptied.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NumberStack, RefSlab } from '../../src/processors/slabs.ts';

describe('RefSlab', () => {
  test('holds references across chunk boundaries and keeps them while growing', () => {
    const slab = new RefSlab<{ n: number }>();
    const objects = Array.from({ length: 10_000 }, (_, n) => ({ n }));
    for (let i = 0; i < objects.length; i++) {
      slab.reserve(i + 1);
      slab.set(i, objects[i]);
    }
    for (const i of [0, 4095, 4096, 8191, 8192, 9999]) assert.equal(slab.get(i), objects[i]);
    slab.set(4096, undefined);
    assert.equal(slab.get(4096), undefined);
    assert.equal(slab.get(4097), objects[4097]);
  });

  test('reserved but unset indexes read as undefined', () => {
    const slab = new RefSlab<string>();
    slab.reserve(5000);
    assert.equal(slab.get(4999), undefined);
  });
});

describe('NumberStack', () => {
  test('pushes, pops and reads in order, past its first size, and keeps non-integers', () => {
    const stack = new NumberStack();
    for (let i = 0; i < 1000; i++) stack.push(i + 0.5);
    assert.equal(stack.length, 1000);
    assert.equal(stack.at(0), 0.5);
    assert.equal(stack.pop(), 999.5);
    assert.equal(stack.length, 999);
    assert.deepEqual(stack.toArray().slice(0, 3), [0.5, 1.5, 2.5]);
  });

  test('remove takes out the first match only and keeps the order of the rest', () => {
    const stack = new NumberStack();
    for (const x of [5, 7, 5, 9]) stack.push(x);
    assert.equal(stack.remove(5), true);
    assert.deepEqual(stack.toArray(), [7, 5, 9]);
    assert.equal(stack.remove(42), false);
    assert.deepEqual(stack.toArray(), [7, 5, 9]);
  });

  test('remove from the middle and the end of a stack that has grown', () => {
    const stack = new NumberStack();
    for (let i = 0; i < 100; i++) stack.push(i);
    assert.equal(stack.remove(50), true);
    assert.equal(stack.remove(99), true);
    assert.equal(stack.length, 98);
    assert.deepEqual(stack.toArray().slice(48, 51), [48, 49, 51]);
    assert.equal(stack.at(stack.length - 1), 98);
    assert.equal(new NumberStack().remove(1), false);
  });

  test('clear empties it for reuse', () => {
    const stack = new NumberStack();
    for (let i = 0; i < 100; i++) stack.push(i);
    stack.clear();
    assert.equal(stack.length, 0);
    stack.push(3);
    assert.deepEqual(stack.toArray(), [3]);
  });
});
