/**
 * net: topics over a gossip overlay. Each topic is one overlay of HyParView
 * membership (Leitão et al., DSN 2007) and PlumTree broadcast (Leitão et
 * al., SRDS 2007), written as sans-IO state machines so that the same code
 * runs in the simulator (`sim/`) and over real connections.
 */
export * from './membership/index.ts';
export * from './plumtree/index.ts';
export * from './overlay/index.ts';
export type { Transport, TransportEvents, HandleOptions } from './transport/transport.ts';
export { Libp2pTransport } from './transport/libp2p-transport.ts';
export { MemoryNetwork, DEFAULT_MEMORY_NETWORK, type MemoryNetworkConfig, type TrafficCounters } from './transport/memory-network.ts';
export { MemoryTransport } from './transport/memory-transport.ts';
