/**
 * An in-memory network for message-scheme tests: one global log of
 * operations, each naming the operations its author had read when it wrote
 * it (its causal dependencies). A member reads an operation only after all
 * of its dependencies, at the pace (and from the authors) the test chooses,
 * so partitions and concurrency are the test's to arrange. Control messages
 * a member makes while reading are appended at once, as the node does.
 * Real components throughout: MessageGroup, two-party channels, HKDF,
 * ChaCha20-Poly1305, seeded randomness.
 */
import { PrivateKey, utf8, WalkawayError } from '../../../src/core/index.ts';
import { MessageGroup, type MessageOutput } from '../../../src/encryption/message-scheme/index.ts';
import { MESSAGE_CONTROL_KIND } from '../../../src/encryption/message-scheme/sealed.ts';
import { seededRandom } from '../../../src/encryption/random.ts';

export const T0 = 1_800_000_000_000;

export interface Entry {
  id: number;
  author: string;
  body: Uint8Array;
  deps: Set<number>;
  kind: 'control' | 'message';
  /** For messages: the text sealed. */
  text?: string;
}

export interface Member {
  name: string;
  identity: PrivateKey;
  key: Uint8Array;
  group: MessageGroup;
  read: Set<number>;
  /** What each message read gave: its text, or the error code. */
  opened: Map<number, string>;
  errors: WalkawayError[];
  /** A thief: reads, never publishes. */
  passive?: boolean;
}

export class Net {
  readonly log: Entry[] = [];
  readonly members = new Map<string, Member>();
  private readonly names = new Map<string, string>();

  /** Called for every entry appended (by its author) and every entry delivered (before the member reads it). */
  onAppend?: (author: Member, entry: Entry) => void;
  onDeliver?: (reader: Member, entry: Entry) => void;

  constructor(private readonly seed: string) {}

  join(name: string): Member {
    const random = seededRandom(`${this.seed}/${name}`);
    const identity = PrivateKey.fromBytes(random(32));
    const group = MessageGroup.create({ identity, topic: utf8('walkaway/test/message-scheme'), random }, T0);
    const m: Member = { name, identity, key: identity.publicKey.toBytes(), group, read: new Set(), opened: new Map(), errors: [] };
    this.members.set(name, m);
    this.names.set(group.memberId, name);
    // Bundles travel out of band here (tickets); the scheme's own bundle messages are tested apart.
    for (const other of this.members.values()) {
      other.group.learnBundle(group.bundle());
      group.learnBundle(other.group.bundle());
    }
    return m;
  }

  /**
   * A thief with a copy of `victim`'s whole state (and its identity key) as
   * of now, who reads everything on the network from here on but publishes
   * nothing: a passive attacker after a compromise.
   */
  steal(victim: string, name = `thief of ${victim}`): Member {
    const v = this.get(victim);
    const group = new MessageGroup(
      { identity: v.identity, topic: utf8('walkaway/test/message-scheme'), random: seededRandom(`${this.seed}/${name}`) },
      v.group.exportState(),
    );
    const thief: Member = { name, identity: v.identity, key: v.key, group, read: new Set(v.read), opened: new Map(), errors: [], passive: true };
    this.members.set(name, thief);
    return thief;
  }

  get(name: string): Member {
    const m = this.members.get(name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  nameOf(memberId: string): string {
    return this.names.get(memberId) ?? memberId;
  }

  private append(author: Member, body: Uint8Array, kind: Entry['kind'], text?: string): Entry {
    const entry: Entry = { id: this.log.length, author: author.name, body, deps: new Set(author.read), kind, text };
    this.log.push(entry);
    author.read.add(entry.id);
    this.onAppend?.(author, entry);
    return entry;
  }

  private publish(author: Member, out: MessageOutput): void {
    if (author.passive) return;
    for (const body of out.publish) this.append(author, body, 'control');
  }

  async create(name: string, members: string[]): Promise<void> {
    const m = this.get(name);
    this.publish(
      m,
      await m.group.create(
        members.map((n) => this.get(n).key),
        T0,
      ),
    );
  }

  async update(name: string): Promise<void> {
    const m = this.get(name);
    this.publish(m, await m.group.update(T0));
  }

  async add(name: string, added: string): Promise<void> {
    const m = this.get(name);
    this.publish(m, await m.group.add(this.get(added).key, T0));
  }

  async remove(name: string, removed: string): Promise<void> {
    const m = this.get(name);
    this.publish(m, await m.group.remove(this.get(removed).key, T0));
  }

  /** Seals a message; undefined when the member cannot seal (not in the group). */
  say(name: string, text: string): Entry | undefined {
    const m = this.get(name);
    let body: Uint8Array;
    try {
      body = m.group.seal(utf8(text));
    } catch (err) {
      if (err instanceof WalkawayError && err.code === 'MISSING_KEY') return undefined;
      throw err;
    }
    return this.append(m, body, 'message', text);
  }

  /**
   * Lets `name` read everything it can (dependencies first, log order),
   * from the authors in `from` only when given (a partition).
   */
  async sync(name: string, from?: readonly string[]): Promise<number> {
    const m = this.get(name);
    let count = 0;
    for (let progress = true; progress; ) {
      progress = false;
      for (const e of this.log) {
        if (m.read.has(e.id) || (from && !from.includes(e.author))) continue;
        if (![...e.deps].every((d) => m.read.has(d))) continue;
        await this.deliver(m, e);
        count++;
        progress = true;
      }
    }
    return count;
  }

  async syncAll(names = [...this.members.keys()]): Promise<void> {
    for (let again = true; again; ) {
      again = false;
      for (const n of names) if ((await this.sync(n)) > 0) again = true;
    }
  }

  private async deliver(m: Member, e: Entry): Promise<void> {
    m.read.add(e.id);
    this.onDeliver?.(m, e);
    const author = this.get(e.author).key;
    if (e.kind === 'control') {
      if (e.author === m.name || m.key === author) return;
      try {
        this.publish(m, await m.group.receive({ author, message: e.body.subarray(2) }, T0));
      } catch (err) {
        if (!(err instanceof WalkawayError)) throw err;
        m.errors.push(err);
      }
      return;
    }
    if (e.author === m.name || m.key === author) return;
    m.opened.set(e.id, openText(m.group, author, e.body));
  }

  /** Names of the members that opened message `entry` (its author excluded). */
  readers(entry: Entry | undefined): string[] {
    if (!entry) return [];
    return [...this.members.values()]
      .filter((m) => m.opened.get(entry.id) === entry.text)
      .map((m) => m.name)
      .sort();
  }
}

/** The text of a body, or the error code it gave. */
export function openText(group: MessageGroup, author: Uint8Array, body: Uint8Array): string {
  try {
    return new TextDecoder().decode(group.open(author, body));
  } catch (err) {
    if (!(err instanceof WalkawayError)) throw err;
    return `error:${err.code}`;
  }
}

export function isControl(body: Uint8Array): boolean {
  return body[1] === MESSAGE_CONTROL_KIND;
}
