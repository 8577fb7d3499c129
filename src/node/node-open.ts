/**
 * What `Node.create` opens before the node wires anything: the data
 * directory's lock, the identity, the store, the address book and the
 * transport (libp2p unless one is given), whose gater shares the penalties
 * of gossip. A failure releases what was opened.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { networkId as toNetworkId, PrivateKey, realRuntime, WalkawayError, type Runtime } from '../core/index.ts';
import { createLog } from '../core/log.ts';
import { AddressBook } from '../net/address-book.ts';
import { Penalties } from '../net/gossip/penalties.ts';
import { Libp2pTransport } from '../net/transport/libp2p-transport.ts';
import type { Transport } from '../net/transport/transport.ts';
import type { Connections } from '../net/connections.ts';
import { Redialer } from '../net/transport/redialer.ts';
import { RelayKeeper } from '../net/transport/relay-keeper.ts';
import { MemoryStore, SqliteStore, type Store } from '../store/index.ts';
import { loadIdentity, lockDataDir, type DataDirLock } from './data-dir.ts';
import type { NodeOptions } from './node-types.ts';

export interface NodeParts {
  privateKey: PrivateKey;
  networkId: Uint8Array;
  store: Store;
  transport: Transport;
  runtime: Runtime;
  book: AddressBook;
  /** Shared by the gossip service (which bans) and the transport's gater (which keeps banned peers out). */
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
    if (options.transport && options.transport.self !== privateKey.publicKey.toHex()) {
      throw new WalkawayError('INVALID_ARGUMENT', "the transport's self is not this node's public key");
    }
    const dbPath = options.dataDir ? join(options.dataDir, 'store.db') : ':memory:';
    store = storage === 'sqlite' ? SqliteStore.open(dbPath, { durability: options.durability }) : MemoryStore.create();
    const networkId = toNetworkId(options.networkId);
    const book = new AddressBook(options.dataDir ? join(options.dataDir, 'addresses.json') : undefined);
    const runtime = options.runtime ?? realRuntime();
    const { listen = ['/ip4/0.0.0.0/tcp/0'], mdns = false, relay: relayServer, allow, deny, dialPort } = options;
    const transport =
      options.transport ??
      (await Libp2pTransport.create({ privateKey, networkId, listen, mdns, relayServer, allow, deny, dialPort }, runtime, createLog('walkaway:connections')));
    const penalties = new Penalties();
    transport.setRefusal((peer) => penalties.isBanned(peer, runtime.now()));
    return { privateKey, networkId, store, transport, runtime, book, penalties, lock };
  } catch (err) {
    store?.close();
    lock?.release();
    throw err;
  }
}

/** Relay failover and redialling: libp2p's concern (docs/network-breaks.md); nothing over another transport. */
export function libp2pKeepers(transport: Transport, relays: string[] | undefined, connections: Connections): { relayKeeper?: RelayKeeper; redialer?: Redialer } {
  if (!(transport instanceof Libp2pTransport)) return {};
  transport.setSweepNote(() => connections.describe());
  const host = transport.host;
  return { relayKeeper: new RelayKeeper({ host, relays, log: createLog('walkaway:relays') }), redialer: new Redialer({ host, log: createLog('walkaway:redial') }) };
}
