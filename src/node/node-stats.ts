/**
 * `node.stats()`: counters for monitoring and benchmarks, and the sizes of
 * every structure the network fills (the `memory` section), so a benchmark
 * can check each cap without guessing from RSS.
 */
import type { GossipService } from '../net/gossip/gossip-service.ts';
import type { SyncService } from '../net/sync/sync-service.ts';
import type { Inbound } from './inbound/inbound.ts';
import type { TopicState } from './topic-state.ts';

export interface NodeStats {
  /** Gossip messages sent, by type. */
  sent: Record<string, number>;
  /** Broadcast counters per topic (delivered, duplicates, invalid, strangers, ...). */
  topics: Record<string, Record<string, number> | undefined>;
  syncSessions: number;
  memory: {
    gossip: ReturnType<GossipService['sizes']>;
    /** The broadcast tree's caches, per topic. */
    overlays: Record<string, ReturnType<GossipService['overlaySizes']>>;
    /** Per topic: heads, early arrivals, peer heights, ephemeral ids, undelivered events. */
    topics: Record<string, ReturnType<TopicState['sizes']> & ReturnType<Inbound['sizes']>>;
    sync: ReturnType<SyncService['sizes']>;
    gapSyncs: number;
  };
}

export function nodeStats(gossip: GossipService, topics: Iterable<TopicState>, sync: SyncService, inbound: Inbound): NodeStats {
  const stats: NodeStats = {
    sent: { ...gossip.sent },
    topics: {},
    syncSessions: sync.running(),
    memory: { gossip: gossip.sizes(), overlays: {}, topics: {}, sync: sync.sizes(), gapSyncs: inbound.gapSyncs },
  };
  for (const state of topics) {
    stats.topics[state.hex] = gossip.stats(state.topic);
    stats.memory.overlays[state.hex] = gossip.overlaySizes(state.topic);
    stats.memory.topics[state.hex] = { ...state.sizes(), ...inbound.sizes(state.topic) };
  }
  return stats;
}
