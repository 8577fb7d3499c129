/**
 * A small in-memory group for data-scheme tests: one global log in an order
 * that respects causality (an operation is appended after everything its
 * author had processed), each member reading it at its own pace, so a member
 * that publishes before reading another's operation is concurrent with it.
 * Auth operations (add, remove) travel in the same log and update a model of
 * the group CRDT per member: only managers change membership, and a removal
 * also undoes the adds its target made that the remover had not seen (the
 * strong-remove rule of p2panda-auth, reduced to what these tests need).
 * The membership model stands in for src/auth, which is written in parallel.
 */
import { GroupState, MANAGE, READ, type AuthOp } from '../../src/auth/index.ts';
import { PrivateKey, toHex } from '../../src/core/index.ts';
import { AuthMembership, readerChanges } from '../../src/encryption/auth-membership.ts';
import { GroupEncryption, type GroupEncryptionConfig } from '../../src/encryption/data-scheme.ts';
import { decodeEnvelope } from '../../src/encryption/envelope.ts';
import { seededRandom, type RandomSource } from '../../src/encryption/random.ts';
import type { GroupMembership, GroupOutput, HistoryPolicy } from '../../src/encryption/types.ts';

export const T0 = 1_800_000_000_000;

type Level = 'read' | 'manage';
type Entry =
  | { id: number; kind: 'body'; author: string; lamport: number; body: Uint8Array }
  | {
      id: number;
      kind: 'auth';
      author: string;
      lamport: number;
      op: 'add' | 'remove';
      member: string;
      level: Level;
      state: Uint8Array;
      seen: Set<number>;
      /** The same change as an operation of the real group CRDT (`membership: 'crdt'`). */
      authOp?: AuthOp;
    };

class ModelMembership implements GroupMembership {
  readonly levels = new Map<string, Level>();
  readonly managersByState = new Map<string, string[]>();
  readonly addedBy = new Map<string, { adder: string; id: number }>();
  constructor(private readonly keys: Map<string, Uint8Array>) {}
  readers(): Uint8Array[] {
    return [...this.levels.keys()].map((h) => this.keys.get(h)!);
  }
  managersAt(state: Uint8Array): Uint8Array[] | undefined {
    return this.managersByState.get(toHex(state))?.map((h) => this.keys.get(h)!);
  }
  managers(): string[] {
    return [...this.levels].filter(([, l]) => l === 'manage').map(([m]) => m);
  }
}

/** The real group CRDT (src/auth) behind the data scheme's interface; the group id is known once created. */
class CrdtMembership implements GroupMembership {
  readonly auth = new GroupState();
  group: string | undefined;
  constructor(private readonly clock: () => number) {}
  private view(): AuthMembership | undefined {
    return this.group ? new AuthMembership(this.auth, this.group, this.clock) : undefined;
  }
  readers(): Uint8Array[] {
    return this.view()?.readers() ?? [];
  }
  readerIds(): string[] {
    return this.view()?.readerIds() ?? [];
  }
  managersAt(state: Uint8Array): Uint8Array[] | undefined {
    return this.view()?.managersAt(state);
  }
}

export interface Member {
  name: string;
  key: Uint8Array;
  hex: string;
  enc: GroupEncryption;
  membership: ModelMembership;
  crdt: CrdtMembership;
  cursor: number;
  lamport: number;
  processed: Set<number>;
  /** Plaintexts this member opened, by entry id; failures by entry id with their error code. */
  opened: Map<number, string>;
  failed: Map<number, string>;
}

export class GroupHarness {
  readonly log: Entry[] = [];
  readonly members = new Map<string, Member>();
  private readonly keys = new Map<string, Uint8Array>();
  readonly random: RandomSource;
  now = T0;

  constructor(
    seed: string,
    private readonly topic: Uint8Array,
    private readonly history: HistoryPolicy = 'all',
    /** 'model': the small membership model above; 'crdt': the group CRDT of src/auth. */
    readonly driver: 'model' | 'crdt' = 'model',
  ) {
    this.random = seededRandom(seed);
  }

  join(name: string): Member {
    const identity = PrivateKey.fromBytes(this.random(32));
    const key = identity.publicKey.toBytes();
    const hex = toHex(key);
    this.keys.set(hex, key);
    const membership = new ModelMembership(this.keys);
    const crdt = new CrdtMembership(() => this.now * 1000);
    const config: GroupEncryptionConfig = {
      identity,
      topic: this.topic,
      membership: this.driver === 'crdt' ? crdt : membership,
      random: this.random,
      history: this.history,
    };
    const m: Member = {
      name,
      key,
      hex,
      enc: GroupEncryption.create(config, this.now),
      membership,
      crdt,
      cursor: 0,
      lamport: 0,
      processed: new Set(),
      opened: new Map(),
      failed: new Map(),
    };
    this.members.set(name, m);
    // Every member's bundle is known to all (a ticket, or published before the add).
    for (const other of this.members.values()) {
      other.enc.learnBundle(m.enc.bundle());
      m.enc.learnBundle(other.enc.bundle());
    }
    return m;
  }

  get(name: string): Member {
    return this.members.get(name)!;
  }

  /** `founder` creates the group with itself as manager: an auth op, then the first secret. */
  async create(founder: string): Promise<void> {
    const f = this.get(founder);
    await this.auth(founder, 'add', founder, 'manage');
    await this.apply(
      f,
      await f.enc.create(this.log[this.log.length - 1].kind === 'auth' ? (this.log.at(-1) as { state: Uint8Array }).state : new Uint8Array(32), this.now),
    );
  }

  /** Appends an auth op by `author` and processes it there at once. */
  async auth(author: string, op: 'add' | 'remove', member: string, level: Level = 'read'): Promise<number> {
    const a = this.get(author);
    const entry: Entry = {
      id: this.log.length,
      kind: 'auth',
      author: a.hex,
      lamport: ++a.lamport,
      op,
      member: this.get(member).hex,
      level,
      state: this.random(32),
      seen: new Set(a.processed),
    };
    if (this.driver === 'crdt') entry.authOp = this.authOpOf(a, entry);
    this.log.push(entry);
    await this.catchUp(a);
    return entry.id;
  }

  /** The auth operation of the group CRDT for a change, with the heads its author has seen as dependencies. */
  private authOpOf(a: Member, e: Extract<Entry, { kind: 'auth' }>): AuthOp {
    const id = toHex(e.state);
    const base = { id, author: a.hex, deps: a.crdt.auth.heads(), timestamp: this.now * 1000 };
    const group = a.crdt.group;
    const member = { kind: 'individual' as const, id: e.member };
    if (!group) return { ...base, action: { type: 'create', members: [{ member, access: { level: MANAGE } }] } };
    if (e.op === 'remove') return { ...base, action: { type: 'remove', group, member } };
    const access = { level: e.level === 'manage' ? MANAGE : READ };
    const known = a.crdt.readerIds().includes(e.member);
    return { ...base, action: known ? { type: 'promote', group, member, access } : { type: 'add', group, member, access } };
  }

  async publish(author: Member, body: Uint8Array): Promise<number> {
    const entry: Entry = { id: this.log.length, kind: 'body', author: author.hex, lamport: ++author.lamport, body };
    this.log.push(entry);
    await this.catchUp(author);
    return entry.id;
  }

  /** Seals `text` as `author` and publishes it; the entry id. */
  async say(author: string, text: string): Promise<number> {
    const a = this.get(author);
    return this.publish(a, a.enc.seal(new TextEncoder().encode(text)));
  }

  async update(name: string): Promise<void> {
    const m = this.get(name);
    await this.apply(m, await m.enc.update(new Uint8Array(32), this.now));
  }

  /** Lets `name` read the log up to entry `until` (exclusive; all by default). */
  async catchUp(m: Member, until = this.log.length): Promise<void> {
    while (m.cursor < until) {
      const entry = this.log[m.cursor++];
      m.lamport = Math.max(m.lamport, entry.lamport);
      m.processed.add(entry.id);
      if (entry.kind === 'auth') await this.applyAuth(m, entry);
      else await this.applyBody(m, entry);
    }
  }

  async settle(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      const before = this.log.length;
      for (const m of this.members.values()) await this.catchUp(m);
      if (this.log.length === before && [...this.members.values()].every((m) => m.cursor === this.log.length)) return;
    }
  }

  private async apply(m: Member, out: GroupOutput): Promise<void> {
    for (const body of out.publish) await this.publish(m, body);
  }

  private async applyAuth(m: Member, e: Extract<Entry, { kind: 'auth' }>): Promise<void> {
    if (e.authOp) return this.applyAuthOp(m, e, e.authOp);
    const view = m.membership;
    const isFounding = view.levels.size === 0 && e.op === 'add' && e.author === e.member;
    if (!isFounding && view.levels.get(e.author) !== 'manage') return; // not a manager in this view: ignored
    view.managersByState.set(toHex(e.state), isFounding ? [e.author] : view.managers());
    const changes: { type: 'added' | 'removed'; member: string }[] = [];
    if (e.op === 'add') {
      view.levels.set(e.member, e.level);
      view.addedBy.set(e.member, { adder: e.author, id: e.id });
      changes.push({ type: 'added', member: e.member });
    } else {
      view.levels.delete(e.member);
      changes.push({ type: 'removed', member: e.member });
      // Strong remove: the removed member's adds the remover had not seen are undone too.
      for (const [added, { adder, id }] of view.addedBy) {
        if (adder === e.member && !e.seen.has(id) && view.levels.delete(added)) changes.push({ type: 'removed', member: added });
      }
    }
    if (isFounding) return;
    for (const c of changes) {
      await this.apply(m, await m.enc.changed({ type: c.type, state: e.state, by: this.keys.get(e.author)!, member: this.keys.get(c.member)! }, this.now));
    }
  }

  /** The real CRDT: apply, then tell the data scheme who started or stopped reading. */
  private async applyAuthOp(m: Member, e: Extract<Entry, { kind: 'auth' }>, op: AuthOp): Promise<void> {
    const view = m.crdt;
    if (op.action.type === 'create') view.group = op.id;
    const before = view.readerIds();
    const result = view.auth.apply(op);
    if (result.type !== 'applied' || op.action.type === 'create') return;
    for (const change of readerChanges(before, view.readerIds(), e.state, this.keys.get(e.author)!)) {
      await this.apply(m, await m.enc.changed(change, this.now));
    }
  }

  private async applyBody(m: Member, e: Extract<Entry, { kind: 'body' }>): Promise<void> {
    const envelope = decodeEnvelope(e.body);
    const author = this.keys.get(e.author)!;
    try {
      if (envelope.kind === 3) await this.apply(m, await m.enc.receive({ author, lamport: e.lamport, message: envelope.message }, this.now));
      else m.opened.set(e.id, new TextDecoder().decode(m.enc.open(author, envelope)));
    } catch (err) {
      m.failed.set(e.id, (err as { code?: string }).code ?? String(err));
    }
  }
}

/** What `name` gets from entry `id` now: its plaintext, or the error code. */
export function tryOpen(h: GroupHarness, name: string, id: number): string {
  const entry = h.log[id];
  if (entry.kind !== 'body') throw new Error(`entry ${id} is not a body`);
  const envelope = decodeEnvelope(entry.body);
  if (envelope.kind === 3) throw new Error(`entry ${id} is a control message`);
  try {
    return new TextDecoder().decode(h.get(name).enc.open(entry.author === undefined ? new Uint8Array() : hexKey(h, entry.author), envelope));
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

function hexKey(h: GroupHarness, hex: string): Uint8Array {
  for (const m of h.members.values()) if (m.hex === hex) return m.key;
  throw new Error(`unknown author ${hex}`);
}
