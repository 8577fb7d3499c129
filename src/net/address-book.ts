/**
 * Known peers and their addresses. Two kinds, kept apart:
 *  - verified: what a peer we are connected to announced for itself
 *    (identify), filtered by src/net/transport/address-filter.ts. Only these
 *    are passed on to other peers and saved in the data directory (so that a
 *    restarted node finds its peers again without bootstrap).
 *  - learned: what a peer told us about a third peer (gossip address frames).
 *    Hearsay: filtered the same way against the announcer's connection, capped
 *    per announcer and overall (count and bytes), expired after a while, never
 *    passed on, never saved, and only dialled through the dial gate when the
 *    overlay wants that peer.
 * Written atomically (temp file + rename), bounded in count and bytes.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { acceptRemoteAddress, MAX_ADDRESS_CHARS, type Scope } from './transport/address-filter.ts';
import { peerIdOfPublicKey } from './transport/peer-ids.ts';

export interface AddressEntry {
  peer: string;
  addrs: string[];
  lastSeen: number;
}

export const ADDRESS_BOOK_LIMITS = {
  /** Verified peers kept (least recently seen dropped first), and addresses each. */
  maxPeers: 512,
  maxAddrs: 8,
  /** Verified peers not seen for this long are forgotten. */
  verifiedTtlMs: 30 * 24 * 3600_000,
  /** Learned addresses: overall, per announcing peer, per named peer; bytes overall. */
  maxLearned: 2048,
  maxLearnedPerAnnouncer: 128,
  maxLearnedPerPeer: 4,
  maxLearnedBytes: 256 * 1024,
  learnedTtlMs: 30 * 60_000,
  /** addresses.json is neither written nor read beyond this size. */
  maxFileBytes: 256 * 1024,
};

const L = ADDRESS_BOOK_LIMITS;
const PEER_KEY = /^[0-9a-f]{64}$/;

interface Learned {
  peer: string;
  addr: string;
  from: string;
  expires: number;
}

export class AddressBook {
  readonly #file: string | undefined;
  #entries = new Map<string, AddressEntry>();
  #saveTimer: NodeJS.Timeout | undefined;
  /** Learned addresses by `${peer} ${addr}`, oldest first; and indexes by peer and by announcer. */
  #learned = new Map<string, Learned>();
  #byPeer = new Map<string, Set<string>>();
  #byAnnouncer = new Map<string, Set<string>>();
  #learnedBytes = 0;
  #scopeOf: (peer: string) => Scope | undefined = () => undefined;
  #log: (message: string) => void = () => {};

  constructor(file?: string) {
    this.#file = file;
    if (file) this.#load(file);
  }

  /** How to tell the scope of our connection to a peer (undefined: not connected), and where to log. */
  configure(scopeOf: (peer: string) => Scope | undefined, log?: (message: string) => void): void {
    this.#scopeOf = scopeOf;
    if (log) this.#log = log;
  }

  /** Verified addresses of a peer (the only ones passed on to others). */
  get(peer: string): string[] {
    return this.#entries.get(peer)?.addrs ?? [];
  }

  /** Verified peers, most recently seen first. */
  peers(): AddressEntry[] {
    return [...this.#entries.values()].sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** Records the (already filtered) addresses a connected peer announced for itself. */
  add(peer: string, addrs: string[], now = Date.now()): void {
    if (!PEER_KEY.test(peer)) return;
    const fresh = addrs.filter((a) => typeof a === 'string' && a.length <= MAX_ADDRESS_CHARS);
    const old = this.#entries.get(peer);
    const merged = [...new Set([...fresh, ...(old?.addrs ?? [])])].slice(0, L.maxAddrs);
    this.#entries.delete(peer);
    this.#entries.set(peer, { peer, addrs: merged, lastSeen: now });
    // The map is in order of last update: the first entry is the oldest.
    while (this.#entries.size > L.maxPeers) this.#entries.delete(this.#entries.keys().next().value!);
    this.#scheduleSave();
  }

  /**
   * Takes the addresses `from` (a connected peer) names for other peers in a
   * gossip address frame. Returns how many were kept and how many dropped.
   */
  learn(from: string, peers: [string, string[]][], now = Date.now()): { kept: number; dropped: number } {
    const scope = this.#scopeOf(from);
    let kept = 0;
    let dropped = 0;
    this.#expire(now);
    for (const [peer, addrs] of peers) {
      const peerId = PEER_KEY.test(peer) && peer !== from && scope ? libp2pId(peer) : undefined;
      for (const addr of addrs.slice(0, L.maxLearnedPerPeer * 2)) {
        const accepted = peerId ? acceptRemoteAddress(addr, peerId, scope!) : undefined;
        if (!accepted || this.#entries.get(peer)?.addrs.includes(accepted)) {
          dropped += accepted ? 0 : 1;
          continue;
        }
        this.#putLearned({ peer, addr: accepted, from, expires: now + L.learnedTtlMs });
        kept++;
      }
    }
    const { learned, learnedBytes } = this.stats();
    this.#log(`learned from ${from.slice(0, 8)}: kept ${kept}, dropped ${dropped} (learned ${learned}, ${learnedBytes} bytes)`);
    return { kept, dropped };
  }

  /** Every address worth a dial of `peer`: verified first, then unexpired learned ones. */
  dialable(peer: string, now = Date.now()): string[] {
    this.#expire(now);
    const learned = [...(this.#byPeer.get(peer) ?? [])].reverse().map((k) => this.#learned.get(k)!.addr);
    return [...new Set([...this.get(peer), ...learned])];
  }

  /** Sizes, for logs and tests. */
  stats(): { verified: number; learned: number; learnedBytes: number; announcers: number } {
    return { verified: this.#entries.size, learned: this.#learned.size, learnedBytes: this.#learnedBytes, announcers: this.#byAnnouncer.size };
  }

  /** Writes pending changes now. */
  flush(): void {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    if (!this.#file) return;
    const tmp = `${this.#file}.tmp`;
    let peers = this.peers();
    let text = JSON.stringify({ version: 1, peers }, null, 1);
    while (Buffer.byteLength(text) > L.maxFileBytes && peers.length > 0) {
      peers = peers.slice(0, Math.floor(peers.length * 0.9));
      text = JSON.stringify({ version: 1, peers }, null, 1);
    }
    writeFileSync(tmp, text);
    renameSync(tmp, this.#file);
  }

  #putLearned(entry: Learned): void {
    const key = `${entry.peer} ${entry.addr}`;
    this.#dropLearned(key);
    this.#learned.set(key, entry);
    this.#learnedBytes += key.length;
    indexAdd(this.#byPeer, entry.peer, key);
    indexAdd(this.#byAnnouncer, entry.from, key);
    // Each Set is in insertion order: its first key is its oldest.
    const ofPeer = this.#byPeer.get(entry.peer)!;
    while (ofPeer.size > L.maxLearnedPerPeer) this.#dropLearned(ofPeer.values().next().value!);
    const ofAnnouncer = this.#byAnnouncer.get(entry.from)!;
    while (ofAnnouncer.size > L.maxLearnedPerAnnouncer) this.#dropLearned(ofAnnouncer.values().next().value!);
    while (this.#learned.size > L.maxLearned || this.#learnedBytes > L.maxLearnedBytes) {
      this.#dropLearned(this.#learned.keys().next().value!);
    }
  }

  #dropLearned(key: string): void {
    const entry = this.#learned.get(key);
    if (!entry) return;
    this.#learned.delete(key);
    this.#learnedBytes -= key.length;
    indexDelete(this.#byPeer, entry.peer, key);
    indexDelete(this.#byAnnouncer, entry.from, key);
  }

  /** Learned entries are refreshed by re-insertion, so expired ones are at the front. */
  #expire(now: number): void {
    for (const [key, entry] of this.#learned) {
      if (entry.expires > now) break;
      this.#dropLearned(key);
    }
  }

  #scheduleSave(): void {
    if (!this.#file || this.#saveTimer) return;
    this.#saveTimer = setTimeout(() => this.flush(), 1000);
    this.#saveTimer.unref();
  }

  #load(file: string): void {
    let parsed: unknown;
    try {
      if (statSync(file).size > L.maxFileBytes) return; // not ours, or tampered with: start empty
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return; // missing or unreadable: start empty, it is only a cache of addresses
    }
    const peers = (parsed as { peers?: unknown })?.peers;
    if (!Array.isArray(peers)) return;
    const oldest = Date.now() - L.verifiedTtlMs;
    for (const entry of peers.slice(0, L.maxPeers).reverse()) {
      const e = entry as Partial<AddressEntry>;
      if (typeof e.peer !== 'string' || !PEER_KEY.test(e.peer) || !Array.isArray(e.addrs)) continue;
      const lastSeen = Number(e.lastSeen) || 0;
      if (lastSeen < oldest) continue;
      const addrs = e.addrs.filter((a): a is string => typeof a === 'string' && a.length <= MAX_ADDRESS_CHARS).slice(0, L.maxAddrs);
      this.#entries.set(e.peer, { peer: e.peer, addrs, lastSeen });
    }
  }
}

function libp2pId(hex: string): string | undefined {
  try {
    return peerIdOfPublicKey(hex).toString();
  } catch {
    return undefined;
  }
}

function indexAdd(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

function indexDelete(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}
