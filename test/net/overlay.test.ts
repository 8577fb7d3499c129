import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Overlay, TopicOverlays, type OverlayOutput, type TopicOverlaysOutput } from '../../src/net/index.ts';

/** Delivers every send between in-memory machines until nothing moves (timers ignored). */
function pump(nodes: Map<number, Overlay<number>>, queue: Array<{ from: number; out: OverlayOutput<number> }>): number {
  let delivered = 0;
  while (queue.length > 0) {
    const { from, out } = queue.shift()!;
    if (out.type === 'emit' && out.event.type === 'deliver') delivered++;
    if (out.type !== 'send') continue;
    const target = nodes.get(out.to)!;
    for (const o of target.handle({ type: 'recv', from, message: out.message }, 0)) queue.push({ from: out.to, out: o });
  }
  return delivered;
}

describe('Overlay', () => {
  it('membership neighbours feed the broadcast tree: a publish reaches a small overlay', () => {
    const nodes = new Map<number, Overlay<number>>();
    for (let i = 0; i < 4; i++) nodes.set(i, new Overlay<number>(i, 100 + i));
    const queue: Array<{ from: number; out: OverlayOutput<number> }> = [];
    for (let i = 1; i < 4; i++) {
      for (const o of nodes.get(i)!.handle({ type: 'command', command: { type: 'join', peers: [0] } }, 0)) queue.push({ from: i, out: o });
      pump(nodes, queue);
    }
    for (const [id, o] of nodes) assert.ok(o.activeView().length > 0, `node ${id} has neighbours`);
    for (const [, o] of nodes) assert.equal(o.broadcast.lazyPeers().length + o.broadcast.eagerPeers().length, o.activeView().length);
    // New links are lazy: the first broadcast travels by IHAVE + GRAFT, so timers must fire.
    const outs = nodes.get(0)!.handle({ type: 'command', command: { type: 'publish', payload: new Uint8Array([7]) } }, 0);
    const timers: Array<{ node: number; out: OverlayOutput<number> }> = [];
    const all: Array<{ from: number; out: OverlayOutput<number> }> = outs.map((o) => ({ from: 0, out: o }));
    let delivered = 0;
    for (let round = 0; round < 10 && (all.length > 0 || timers.length > 0); round++) {
      while (all.length > 0) {
        const { from, out } = all.shift()!;
        if (out.type === 'emit' && out.event.type === 'deliver') delivered++;
        if (out.type === 'set-timer') timers.push({ node: from, out });
        if (out.type !== 'send') continue;
        for (const o of nodes.get(out.to)!.handle({ type: 'recv', from, message: out.message }, 0)) all.push({ from: out.to, out: o });
      }
      for (const { node, out } of timers.splice(0)) {
        if (out.type !== 'set-timer') continue;
        for (const o of nodes.get(node)!.handle({ type: 'timer', timer: out.timer }, 0)) all.push({ from: node, out: o });
      }
    }
    assert.equal(delivered, 3);
  });
});

describe('TopicOverlays', () => {
  it('runs one overlay per topic over shared, reference-counted connections', () => {
    const t = new TopicOverlays<string>('me', 1);
    const a = t.handle({ type: 'command', topic: 'a', command: { type: 'join', peers: ['x'] } }, 0);
    const b = t.handle({ type: 'command', topic: 'b', command: { type: 'join', peers: ['x'] } }, 0);
    const conns = (outs: TopicOverlaysOutput<string>[]) => outs.filter((o) => o.type === 'connect' || o.type === 'disconnect');
    assert.deepEqual(conns(a), [{ type: 'connect', peer: 'x' }]);
    assert.deepEqual(conns(b), [], 'the second topic reuses the connection');
    assert.ok(a.some((o) => o.type === 'send' && o.topic === 'a' && o.message.type === 'join'));
    assert.ok(b.some((o) => o.type === 'send' && o.topic === 'b' && o.message.type === 'join'));
    assert.deepEqual(t.topics(), ['a', 'b']);
    const leaveA = t.handle({ type: 'command', topic: 'a', command: { type: 'leave' } }, 1);
    assert.deepEqual(conns(leaveA), [], 'topic b still needs x');
    const leaveB = t.handle({ type: 'command', topic: 'b', command: { type: 'leave' } }, 2);
    assert.deepEqual(conns(leaveB), [{ type: 'disconnect', peer: 'x' }]);
    const stray = t.handle({ type: 'recv', from: 'y', topic: 'zzz', message: { type: 'prune' } }, 3);
    assert.equal(stray.length, 1);
    assert.ok(stray[0].type === 'emit' && stray[0].event.type === 'dropped');
  });

  it('a broken connection reaches every topic overlay that used it', () => {
    const t = new TopicOverlays<string>('me', 2);
    for (const topic of ['a', 'b']) {
      t.handle({ type: 'command', topic, command: { type: 'join', peers: ['x'] } }, 0);
      t.handle({ type: 'recv', from: 'x', topic, message: { type: 'neighbor-reply', accepted: true } }, 1);
    }
    const out = t.handle({ type: 'peer-down', peer: 'x' }, 2);
    const downs = out.filter((o) => o.type === 'emit' && o.event.type === 'neighbor-down').map((o) => (o as { topic: string }).topic);
    assert.deepEqual(downs, ['a', 'b']);
    assert.equal(t.connections().size, 0);
  });
});
