/**
 * Known peers and their addresses, kept in memory and (with a file) saved
 * in the data directory, so that a restarted node finds its peers again
 * without bootstrap. Written atomically (temp file + rename), bounded.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface AddressEntry {
  peer: string;
  addrs: string[];
  lastSeen: number;
}

const MAX_PEERS = 1000;
const MAX_ADDRS = 16;

export class AddressBook {
  readonly #file: string | undefined;
  #entries = new Map<string, AddressEntry>();
  #saveTimer: NodeJS.Timeout | undefined;

  constructor(file?: string) {
    this.#file = file;
    if (file) this.#load(file);
  }

  get(peer: string): string[] {
    return this.#entries.get(peer)?.addrs ?? [];
  }

  /** Peers most recently seen first. */
  peers(): AddressEntry[] {
    return [...this.#entries.values()].sort((a, b) => b.lastSeen - a.lastSeen);
  }

  add(peer: string, addrs: string[], now = Date.now()): void {
    if (!/^[0-9a-f]{64}$/.test(peer)) return;
    const old = this.#entries.get(peer);
    const merged = [...new Set([...addrs, ...(old?.addrs ?? [])])].slice(0, MAX_ADDRS);
    this.#entries.delete(peer);
    this.#entries.set(peer, { peer, addrs: merged, lastSeen: now });
    if (this.#entries.size > MAX_PEERS) {
      const oldest = this.peers().at(-1);
      if (oldest) this.#entries.delete(oldest.peer);
    }
    this.#scheduleSave();
  }

  /** Writes pending changes now. */
  flush(): void {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    if (!this.#file) return;
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, peers: this.peers() }, null, 1));
    renameSync(tmp, this.#file);
  }

  #scheduleSave(): void {
    if (!this.#file || this.#saveTimer) return;
    this.#saveTimer = setTimeout(() => this.flush(), 1000);
    this.#saveTimer.unref();
  }

  #load(file: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return; // missing or unreadable: start empty, it is only a cache of addresses
    }
    const peers = (parsed as { peers?: unknown })?.peers;
    if (!Array.isArray(peers)) return;
    for (const entry of peers.slice(0, MAX_PEERS).reverse()) {
      const e = entry as Partial<AddressEntry>;
      if (typeof e.peer !== 'string' || !Array.isArray(e.addrs)) continue;
      const addrs = e.addrs.filter((a): a is string => typeof a === 'string');
      if (/^[0-9a-f]{64}$/.test(e.peer)) this.#entries.set(e.peer, { peer: e.peer, addrs, lastSeen: Number(e.lastSeen) || 0 });
    }
  }
}
