/**
 * What `Node.create` opens before the node wires anything: the data
 * directory's lock, the identity, the store, the address book and the
 * libp2p host (with the penalties its connection gater shares with gossip).
 * A failure releases what was opened.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Libp2p } from 'libp2p';
import { networkId as toNetworkId, PrivateKey, WalkawayError } from '../core/index.ts';
import { loadIdentity, lockDataDir, type DataDirLock } from './data-dir.ts';
import { AddressBook } from '../net/address-book.ts';
import { Penalties } from '../net/gossip/penalties.ts';
import { createHost } from '../net/transport/host.ts';
import { MemoryStore, SqliteStore, type Store } from '../store/index.ts';
import type { NodeOptions } from './node-types.ts';

export interface NodeParts {
  privateKey: PrivateKey;
  networkId: Uint8Array;
  store: Store;
  host: Libp2p;
  book: AddressBook;
  /** Shared by the gossip service (which bans) and the host's connection gater (which keeps banned peers out). */
  penalties: Penalties;
  lock: DataDirLock | undefined;
}

export async function openNodeParts(options: NodeOptions): Promise<NodeParts> {
  const storage = options.storage ?? (options.dataDir ? 'sqlite' : 'memory');
  if (storage !== 'memory' && storage !== 'sqlite') throw new WalkawayError('INVALID_ARGUMENT', `storage must be 'memory' or 'sqlite'`);
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  // One node per data directory (process-wide and across processes): released by close().
  const lock = options.dataDir ? lockDataDir(options.dataDir) : undefined;
  let store: Store | undefined;
  try {
    const privateKey = options.privateKey ?? (options.dataDir ? loadIdentity(options.dataDir) : PrivateKey.generate());
    const dbPath = options.dataDir ? join(options.dataDir, 'store.db') : ':memory:';
    store = storage === 'sqlite' ? SqliteStore.open(dbPath, { durability: options.durability }) : MemoryStore.create();
    const networkId = toNetworkId(options.networkId);
    const book = new AddressBook(options.dataDir ? join(options.dataDir, 'addresses.json') : undefined);
    const penalties = new Penalties();
    const host = await createHost({
      privateKey,
      networkId,
      listen: options.listen ?? ['/ip4/0.0.0.0/tcp/0'],
      mdns: options.mdns ?? false,
      relayServer: options.relay,
      allow: options.allow,
      deny: options.deny,
      isBanned: (peer) => penalties.isBanned(peer, performance.now()),
    });
    return { privateKey, networkId, store, host, book, penalties, lock };
  } catch (err) {
    store?.close();
    lock?.release();
    throw err;
  }
}
