/**
 * The shapes applications use with a node: its options, the options of a
 * publish and of a stream, the streams themselves, and the fork event.
 */
import type { Hash, PrivateKey, Runtime } from '../core/index.ts';
import type { Transport } from '../net/transport/transport.ts';
import type { AppProcessor, SlotProcessor } from '../processors/index.ts';
import type { Verifier } from './inbound/signatures.ts';
import type { Receiver } from './receiver.ts';
import type { EphemeralEvent, TopicEvent } from './topic-state.ts';

export interface NodeOptions {
  /** Identity (`identity.key`), store (`store.db`) and address book live here. */
  dataDir?: string;
  /** Default: 'sqlite' with a dataDir, else 'memory'. */
  storage?: 'memory' | 'sqlite';
  /** SQLite commits: 'full' (default) survive a power cut; 'normal' is faster (src/store/sqlite.ts). */ durability?: 'full' | 'normal';
  privateKey?: PrivateKey;
  /** A string (hashed with a domain prefix) or 32 bytes. Default "walkaway". */
  networkId?: string | Uint8Array;
  /** Multiaddrs to listen on. Default: TCP on all interfaces, a free port. */
  listen?: string[];
  bootstrap?: string[];
  mdns?: boolean;
  /** Serve as a circuit relay for this network. */
  relay?: boolean;
  /** Relays to use when this node is not reachable directly: multiaddrs ending in /p2p/<relay>. */
  relays?: string[];
  /**
   * TCP hole punching (DCUtR) across NATs that keep ports: every dial leaves
   * from this local port (0: a free one), so the NAT shows one outside
   * address (src/net/transport/hole-punch.ts). Off when absent.
   */
  dialPort?: number;
  allow?: string[];
  deny?: string[];
  /** Largest operation (header + body) sent by gossip; larger ones travel by sync only. */
  maxGossipBytes?: number;
  /**
   * Also carry broadcast-only sync and ephemeral messages over UDP multicast
   * on the LAN, for peers without a connection. Opt-in: topic ids travel in
   * clear there.
   */
  multicast?: boolean | { group?: string; port?: number; interface?: string; tickMs?: number };
  /**
   * The network under the node (default: a libp2p host built from `listen`,
   * `relay`, `mdns`, `allow`, `deny`). A `MemoryTransport` runs the node in
   * memory (tests, the simulator); its `self` must be this node's public key.
   */
  transport?: Transport;
  /** Clock, timers and randomness of every driver (default: the process's; the simulator's is virtual). */
  runtime?: Runtime;
  /** Signature checks of synced operations (default: a worker pool; the simulator checks inline). */
  verifier?: Verifier;
}

export interface PublishOptions {
  /** Set the prune flag: peers may delete this log's entries before it. */
  prune?: boolean;
  /** Another log of the topic than its own (a private topic's auth log, src/auth); never sealed by `encryption`. */
  log?: Uint8Array;
}

export interface StreamOptions {
  /** Replay every operation stored after this cursor (0: from the start) before live events. */
  from?: number;
  signal?: AbortSignal;
  /** App processors at the end of the topic's chain; each gets the topic's history first (processors/chain.ts). */
  processors?: AppProcessor[];
  /** Where the processors' outputs go. */
  onOutput?: (output: unknown, processor: string) => void;
  /**
   * Encrypted bodies (src/encryption builds this): `seal` runs on every body
   * published here before it is signed, `decrypt` takes the chain's
   * decryption slot. Give it with the topic's first stream.
   */
  encryption?: { decrypt: SlotProcessor; seal(body: Uint8Array): Uint8Array };
  /** Access control: takes the chain's access slot (src/auth's AccessControlProcessor). Give it with the topic's first stream. */
  access?: SlotProcessor;
  /** A private topic's policy: may its operations go to and come from this peer (sync and gossip)? Give it with the topic's first stream. */
  exchange?: (peer: string) => boolean;
}

export interface TopicStream {
  topic: Uint8Array;
  tx: { publish(body: Uint8Array, options?: PublishOptions): Promise<Hash> };
  rx: Receiver<TopicEvent>;
  /** Deletes an operation's body here; its header stays (the log stays whole, sync sends the header). */
  deleteBody(hash: Hash): boolean;
  /** Resolves once what is stored so far has passed the topic's processors. */
  settled(): Promise<void>;
  /** Calls `listener` on every fork of an author in this topic (see `ForkEvent`); returns the unsubscribe. */
  onFork(listener: (fork: ForkEvent) => void): () => void;
}

export interface EphemeralStream {
  topic: Uint8Array;
  tx: { publish(body: Uint8Array): Promise<void> };
  rx: Receiver<EphemeralEvent>;
}

/**
 * The `fork` event (on the node, and through `TopicStream.onFork` on the
 * topic's stream): an author signed two different operations at one seqNum
 * of a log. Fired once per fork point on every node that learns of it, by
 * gossip, sync or multicast; the store keeps both headers as evidence and
 * accepts nothing of that log from the fork point on.
 */
export interface ForkEvent {
  /** Hex topic id. */
  topic: string;
  /** Hex Ed25519 public key of the author who forked. */
  author: string;
  /** Hex log id. */
  logId: string;
  seqNum: number;
  /** The two lowest-hash headers at the fork point (signed header bytes). */
  headers: [Uint8Array, Uint8Array];
  /** What carried the operation that revealed the fork here. */
  via: 'gossip' | 'sync' | 'multicast' | 'local';
}
