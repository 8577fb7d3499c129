/**
 * Model test of the message scheme (DCGKA): fast-check draws, per seed, a
 * run of commands (say, update, add, remove) by random members, interleaved
 * with partial syncs: a member reads only from some authors (a partition),
 * in a causal order, or not at all for a while (it lags). At the end
 * everyone reads everything.
 *
 * A reference model, written apart from the implementation and without any
 * cryptography, follows each member's view of the group from the control
 * messages it reads (adds by members; removals, with strong removal of
 * what the removed member added unknown to the remover; mutual removals;
 * a newcomer's view from its adder, then the messages its adder had not
 * read). The run passes when:
 *
 * - every message is opened by exactly the members in its sender's view
 *   when it was sealed (the sender excluded), and by nobody else;
 * - a member can seal exactly when the reference says it is in the group;
 * - every member's view equals the reference's.
 *
 * `npm run model -- dcgka [--seeds N]` runs many seeds; the suite runs a slice
 * (test/encryption/message-scheme/model.test.ts).
 */
import fc from 'fast-check';
import { WalkawayError } from '../../src/core/index.ts';
import { decodeSchemeMessage, type SchemeMessage } from '../../src/encryption/message-scheme/index.ts';
import { MESSAGE_CONTROL_KIND } from '../../src/encryption/message-scheme/sealed.ts';
import { type Entry, type Member, Net } from '../encryption/message-scheme/harness.ts';

const NAMES = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
const FOUNDERS = ['m0', 'm1', 'm2'];

type Command =
  | { type: 'say' | 'update'; who: number }
  | { type: 'add' | 'remove'; who: number; target: number }
  | { type: 'sync'; who: number; from: string[] }
  | { type: 'sync-all' };

const who = fc.nat(NAMES.length - 1);
const commands = fc.array(
  fc.oneof(
    { arbitrary: fc.record({ type: fc.constant('say' as const), who }), weight: 5 },
    { arbitrary: fc.record({ type: fc.constant('update' as const), who }), weight: 1 },
    { arbitrary: fc.record({ type: fc.constant('add' as const), who, target: fc.integer({ min: 3, max: 5 }) }), weight: 2 },
    { arbitrary: fc.record({ type: fc.constant('remove' as const), who, target: who }), weight: 1 },
    { arbitrary: fc.record({ type: fc.constant('sync' as const), who, from: fc.subarray(NAMES, { minLength: 1 }) }), weight: 4 },
    { arbitrary: fc.constant({ type: 'sync-all' as const }), weight: 1 },
  ),
  { minLength: 20, maxLength: 48 },
);

export interface Outcome {
  seed: number;
  ok: boolean;
  operations: number;
  messages: number;
  readings: number;
  detail?: string;
}

/** The reference: one member's view of the group, from what it read. */
interface Ref {
  joined: boolean;
  removed: boolean;
  view: Map<string, string | undefined>;
  former: Set<string>;
  early: Entry[];
}

class Reference {
  readonly refs = new Map<string, Ref>();
  /** Each add's and removal's author view right after it (a welcome carries it; a removal's seeds go to it). */
  readonly viewAfter = new Map<number, Map<string, string | undefined>>();
  readonly decoded = new Map<number, SchemeMessage>();

  constructor(private readonly net: Net) {
    for (const n of NAMES) this.refs.set(n, { joined: false, removed: false, view: new Map(), former: new Set(), early: [] });
  }

  inGroup(name: string): boolean {
    const r = this.refs.get(name)!;
    return r.joined && !r.removed;
  }

  private message(e: Entry): SchemeMessage {
    let m = this.decoded.get(e.id);
    if (!m) {
      m = decodeSchemeMessage(e.body.subarray(2));
      this.decoded.set(e.id, m);
    }
    return m;
  }

  private name(key: Uint8Array): string {
    return [...this.net.members.values()].find((m) => m.key.every((b, i) => b === key[i]))!.name;
  }

  appended(author: Member, e: Entry): void {
    if (e.kind !== 'control' || e.body[1] !== MESSAGE_CONTROL_KIND) return;
    const r = this.refs.get(author.name)!;
    const m = this.message(e);
    if (m.type === 'create') {
      r.view = new Map(m.members.map((k) => [this.name(k), undefined]));
      r.joined = true;
    } else if (m.type === 'add') {
      r.view.set(this.name(m.member), author.name);
    } else if (m.type === 'remove') {
      r.view.delete(this.name(m.member));
      r.former.add(this.name(m.member));
    }
    if (m.type === 'add' || m.type === 'remove') this.viewAfter.set(e.id, new Map(r.view));
  }

  delivered(reader: Member, e: Entry): void {
    if (e.kind !== 'control' || e.author === reader.name) return;
    const r = this.refs.get(reader.name)!;
    const m = this.message(e);
    if (!r.joined) {
      if (m.type === 'create' && m.members.some((k) => this.name(k) === reader.name)) {
        r.view = new Map(m.members.map((k) => [this.name(k), undefined]));
      } else if (m.type === 'add' && this.name(m.member) === reader.name) {
        r.view = new Map(this.viewAfter.get(e.id));
      } else {
        r.early.push(e);
        return;
      }
      r.joined = true;
      // What the adder had not read when it added me (concurrent with my add) is read now.
      for (const f of r.early.splice(0)) if (!e.deps.has(f.id)) this.apply(r, f);
      return;
    }
    this.apply(r, e);
  }

  private apply(r: Ref, e: Entry): void {
    const m = this.message(e);
    const respond = r.view.has(e.author) && !r.removed;
    if (m.type === 'add' && respond && !r.view.has(this.name(m.member))) r.view.set(this.name(m.member), e.author);
    if (m.type !== 'remove' || r.removed || !(respond || r.former.has(e.author))) return;
    const stays = new Set(this.viewAfter.get(e.id)!.keys());
    const gone = new Set([this.name(m.member)]);
    for (let changed = true; changed; ) {
      changed = false;
      for (const [id, adder] of r.view) {
        if (gone.has(id) || (adder !== undefined && gone.has(adder) && !stays.has(id))) {
          r.view.delete(id);
          gone.add(id);
          changed = true;
        }
      }
    }
    for (const g of gone) r.former.add(g);
    if (gone.has([...this.refs].find(([, x]) => x === r)![0])) r.removed = true;
  }
}

export async function runModel(seed: number): Promise<Outcome> {
  const [run] = fc.sample(commands, { seed, numRuns: 1 }) as Command[][];
  const net = new Net(`dcgka-model-${seed}`);
  for (const n of NAMES) net.join(n);
  const reference = new Reference(net);
  net.onAppend = (author, e) => reference.appended(author, e);
  net.onDeliver = (reader, e) => reference.delivered(reader, e);
  const expected = new Map<number, string[]>();
  const fail = (detail: string): Outcome => ({ seed, ok: false, operations: net.log.length, messages: expected.size, readings: 0, detail });
  await net.create('m0', FOUNDERS);
  await net.syncAll();
  const added = new Set(FOUNDERS);
  let said = 0;
  for (const c of run) {
    if (c.type === 'sync-all') {
      await net.syncAll();
      continue;
    }
    const name = NAMES[c.who];
    if (c.type === 'sync') {
      await net.sync(name, c.from);
      continue;
    }
    if (c.type === 'say') {
      const view = [...reference.refs.get(name)!.view.keys()].filter((x) => x !== name).sort();
      const entry = net.say(name, `${name} says ${said++}`);
      if ((entry !== undefined) !== reference.inGroup(name)) return fail(`${name} could seal: ${entry !== undefined}, reference: ${reference.inGroup(name)}`);
      if (entry) expected.set(entry.id, view);
      continue;
    }
    if (!reference.inGroup(name)) continue;
    const target = NAMES['target' in c ? c.target : 0];
    try {
      if (c.type === 'update') await net.update(name);
      else if (c.type === 'add' && !added.has(target)) {
        added.add(target);
        await net.add(name, target);
      } else if (c.type === 'remove' && target !== name && reference.refs.get(name)!.view.has(target)) await net.remove(name, target);
    } catch (err) {
      return fail(`${c.type} by ${name}: ${(err as Error).message}`);
    }
  }
  await net.syncAll();
  let readings = 0;
  for (const e of net.log) {
    const want = expected.get(e.id);
    if (!want) continue;
    const got = net.readers(e);
    readings += got.length;
    if (got.join() !== want.join()) {
      const what = [...net.members.values()].map((m) => `${m.name}: ${m.opened.get(e.id)} ${m.errors.map((x) => x.message).join('; ')}`).join('\n');
      return fail(`message ${e.id} "${e.text}": opened by [${got}], expected [${want}]\n${what}`);
    }
  }
  for (const m of net.members.values()) {
    const ref = reference.refs.get(m.name)!;
    const want = ref.joined && !ref.removed ? [...ref.view.keys()].sort() : [];
    const got = m.group
      .members()
      .map((id) => net.nameOf(id))
      .sort();
    if (got.join() !== want.join()) return fail(`${m.name} sees [${got}], the reference [${want}]`);
    const unexpected = m.errors.filter((err) => !(err instanceof WalkawayError));
    if (unexpected.length > 0 || m.errors.length > 0) return fail(`${m.name} errors: ${m.errors.map((x) => x.message).join('; ')}`);
  }
  return { seed, ok: true, operations: net.log.length, messages: expected.size, readings };
}
