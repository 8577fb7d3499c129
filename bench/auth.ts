/**
 * Benchmark `auth`: the group-membership CRDT (src/auth) resolving 10,000
 * actions over about 1,000 members with 10% of them in concurrent conflicts,
 * and the cost of applying one more action on top.
 *
 *   npm run bench -- auth [--actions 10000] [--members 1000] [--conflicts 0.1] [--reps 5] [--extra 200]
 *
 * The workload is made once, seeded: 12 managers act on one group; 90% of
 * the actions extend every head (add, remove, promote, demote a member,
 * keeping about `--members` members); the rest come in concurrent pairs
 * made at the same heads, each pair a conflict: one manager removes a
 * member while another promotes or demotes it, or removes a manager while
 * that manager adds someone (strong removal then ignores the add), or two
 * managers remove each other (both leave). Removed managers are replaced.
 *
 * Figures:
 * - `resolve`: a fresh state takes all actions as one batch (admission of
 *   each at its dependencies, then one resolution): wall and CPU ms, median
 *   and spread over `--reps`; the heap the resolved state retains (after a
 *   gc) and the process's peak RSS.
 * - `rebuild`: one more concurrent action on the resolved state (it
 *   re-resolves the whole graph).
 * - `applyOne`: one more action that extends every head, `--extra` times:
 *   median and 90th percentile µs.
 * Goals (issue 17): resolve under 500 ms, applyOne under 1 ms.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { GroupState, MANAGE, PULL, WRITE, type AuthOp, type GroupAction, type Member } from '../src/auth/index.ts';
import { Hash, utf8 } from '../src/core/index.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const hex = (label: string) => Hash.digest(utf8(label)).toHex();
const person = (i: number): Member => ({ kind: 'individual', id: hex(`member/${i}`) });

/** A seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Workload {
  ops: AuthOp[];
  group: string;
  state: GroupState;
  conflicts: number;
}

export function makeWorkload(actions: number, members: number, conflictShare: number): Workload {
  const rand = prng(17);
  const below = (n: number) => Math.floor(rand() * n);
  const state = new GroupState();
  const ops: AuthOp[] = [];
  let n = 0;
  const op = (author: string, action: GroupAction, deps = state.heads()): AuthOp => ({ id: hex(`op/${n++}`), author, deps, timestamp: 1000 + n, action });
  const managers = Array.from({ length: 12 }, (_, i) => person(i));
  const initial = Array.from({ length: Math.min(members, 200) }, (_, i) => person(i));
  const create = op(managers[0].id, { type: 'create', members: initial.map((m, i) => ({ member: m, access: { level: i < managers.length ? MANAGE : WRITE } })) });
  state.apply(create);
  ops.push(create);
  const group = create.id;
  let nextPerson = initial.length;
  let conflicts = 0;
  const current = () => [...state.directMembers(group).entries()].map(([k, a]) => ({ member: { kind: 'individual' as const, id: k.slice(2) }, access: a }));
  const managersNow = () => current().filter((m) => m.access.level === MANAGE);
  const push = (o: AuthOp) => {
    const r = state.apply(o);
    if (r.type !== 'applied') throw new Error(`bench workload: ${r.type === 'rejected' ? r.error.message : r.type}`);
    ops.push(o);
  };
  while (ops.length < actions) {
    const now = current();
    const bosses = managersNow();
    if (bosses.length < 6) {
      const pick = now.find((m) => m.access.level < MANAGE)!;
      push(op(bosses[0].member.id, { type: 'promote', group, member: pick.member, access: { level: MANAGE } }));
      continue;
    }
    const author = bosses[below(bosses.length)].member.id;
    if (ops.length + 2 <= actions && rand() < conflictShare / 2) {
      conflicts += 2;
      const deps = state.heads();
      const other = bosses.filter((b) => b.member.id !== author)[below(bosses.length - 1)];
      const kind = below(3);
      const plain = now.filter((m) => m.access.level < MANAGE);
      const target = plain[below(plain.length)];
      let pair: [AuthOp, AuthOp];
      if (kind === 0) {
        const change: GroupAction =
          target.access.level > PULL
            ? { type: 'demote', group, member: target.member, access: { level: target.access.level - 1 } }
            : { type: 'promote', group, member: target.member, access: { level: target.access.level + 1 } };
        pair = [op(author, { type: 'remove', group, member: target.member }, deps), op(other.member.id, change, deps)];
      } else if (kind === 1) {
        pair = [
          op(author, { type: 'remove', group, member: other.member }, deps),
          op(other.member.id, { type: 'add', group, member: person(nextPerson++), access: { level: WRITE } }, deps),
        ];
      } else {
        pair = [
          op(author, { type: 'remove', group, member: other.member }, deps),
          op(other.member.id, { type: 'remove', group, member: { kind: 'individual', id: author } }, deps),
        ];
      }
      push(pair[0]);
      push(pair[1]);
      continue;
    }
    const plain = now.filter((m) => m.access.level < MANAGE);
    const choice = below(4);
    if (now.length < members && (choice === 0 || now.length < members * 0.95)) {
      push(op(author, { type: 'add', group, member: person(nextPerson++), access: { level: below(3) } }));
    } else if (choice <= 1) {
      push(op(author, { type: 'remove', group, member: plain[below(plain.length)].member }));
    } else {
      const t = plain[below(plain.length)];
      const action: GroupAction =
        t.access.level < WRITE
          ? { type: 'promote', group, member: t.member, access: { level: t.access.level + 1 } }
          : { type: 'demote', group, member: t.member, access: { level: t.access.level - 1 } };
      push(op(author, action));
    }
  }
  return { ops, group, state, conflicts };
}

function spread(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median: round(median), min: round(sorted[0]), max: round(sorted[sorted.length - 1]) };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]);
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const actions = flag(args, '--actions', 10_000);
  const members = flag(args, '--members', 1000);
  const conflictShare = flag(args, '--conflicts', 0.1);
  const reps = Math.max(3, flag(args, '--reps', 5));
  const extra = flag(args, '--extra', 200);
  const work = makeWorkload(actions, members, conflictShare);

  const wall: number[] = [];
  const cpu: number[] = [];
  let retainedMb = 0;
  let resolved: GroupState | undefined;
  for (let rep = 0; rep < reps; rep++) {
    resolved = undefined;
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const state = new GroupState();
    const { results } = state.applyAll(work.ops);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if (results.some((r) => r.type !== 'applied')) throw new Error('bench: an action was refused');
    gc();
    retainedMb = Math.max(retainedMb, (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20);
    resolved = state;
  }
  const state = resolved!;
  const memberCount = state.directMembers(work.group).size;

  // One more concurrent action: depends on the create only, so it re-resolves everything.
  const rebuild: number[] = [];
  for (let i = 0; i < 3; i++) {
    // The creator manages the group at the create: admitted, and concurrent with nearly everything.
    const o: AuthOp = {
      id: hex(`rebuild/${i}`),
      author: work.ops[0].author,
      deps: [work.ops[0].id],
      timestamp: 999_999,
      action: { type: 'add', group: work.group, member: person(900_000 + i), access: { level: PULL } },
    };
    const t0 = performance.now();
    const r = state.apply(o);
    rebuild.push(performance.now() - t0);
    if (r.type !== 'applied' || !r.rebuilt) throw new Error('bench: the concurrent action did not re-resolve');
  }

  // One more action extending every head: the common case.
  const one: number[] = [];
  const bosses = [...state.directMembers(work.group).entries()].filter(([, a]) => a.level === MANAGE).map(([k]) => k.slice(2));
  for (let i = 0; i < extra; i++) {
    const o: AuthOp = {
      id: hex(`extra/${i}`),
      author: bosses[i % bosses.length],
      deps: state.heads(),
      timestamp: 2_000_000 + i,
      action: { type: 'add', group: work.group, member: person(800_000 + i), access: { level: PULL } },
    };
    const t0 = performance.now();
    const r = state.apply(o);
    one.push((performance.now() - t0) * 1000);
    if (r.type !== 'applied' || r.rebuilt) throw new Error('bench: the extra action did not take the fast path');
  }

  return {
    workload: { actions: work.ops.length, concurrentActions: work.conflicts, membersAtEnd: memberCount, ignoredByStrongRemoval: state.ignored().size, reps },
    resolve: {
      wallMs: spread(wall),
      cpuMs: spread(cpu),
      retainedHeapMb: round(retainedMb),
      peakRssMb: round(process.resourceUsage().maxRSS / 1024),
      goalMs: 500,
    },
    rebuildMs: spread(rebuild),
    applyOne: { medianUs: percentile(one, 0.5), p90Us: percentile(one, 0.9), runs: extra, goalUs: 1000 },
  };
}
