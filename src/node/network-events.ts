/**
 * What the network and the inbound path tell a node, turned into topic
 * state and the node's events: overlay neighbours and deliveries, sync
 * progress and ends, stored operations, forks. Wiring only: every decision
 * was made by a machine (inbound, overlay, sync session) before it got here.
 */
import type { EventEmitter } from 'node:events';
import { logIdOf, toHex, type WalkawayError } from '../core/index.ts';
import type { SyncService } from '../net/sync/sync-service.ts';
import type { Store } from '../store/index.ts';
import { verifyEphemeral } from './ephemeral.ts';
import type { SyncEvent, SyncStats } from '../sync/index.ts';
import type { InboundHooks, InboundStoreDriver } from './inbound/store-driver.ts';
import type { ForkReport } from './inbound/types.ts';
import type { ForkEvent } from './node-types.ts';
import type { TopicState } from './topic-state.ts';

export interface NodeWiring {
  topics: Map<string, TopicState>;
  store: Store;
  inbound: InboundStoreDriver;
  sync: SyncService;
  /** The node's clock (its runtime's), for when peers were seen to hold what. */
  now(): number;
  emit(event: string, payload: unknown): void;
  log(message: string): void;
}

export type OverlayEvent = { type: string; peer?: string; payload?: Uint8Array; from?: string; reason?: string };

/** Where the inbound path hands what it decided: the topic's chain, heights, forks, sync requests. */
export function inboundHooks(w: NodeWiring): InboundHooks {
  const state = (topic: Uint8Array) => w.topics.get(toHex(topic));
  return {
    onStored: (topic, op, via) => (via === 'sync' ? state(topic)?.storedBySync(op) : state(topic)?.stored(op)),
    onBatchEnd: (topic) => state(topic)?.flushSynced(),
    onEphemeral: (topic, message, bytes) => state(topic)?.deliverEphemeral(message, bytes),
    onHolds: (topic, peer, heights) => state(topic)?.noteHeights(peer, heights, w.now()),
    onFork: (fork) => onFork(w, fork),
    onRequestSync: (peer, topic) => state(topic) && w.sync.sync(peer, topic),
    log: w.log,
  };
}

/** Forks reach the app after the inbound machine's turn, never inside it. */
function onFork(w: NodeWiring, fork: ForkReport): void {
  const event: ForkEvent = {
    topic: toHex(fork.topic),
    author: fork.author.toHex(),
    logId: toHex(fork.logId),
    seqNum: fork.seqNum,
    headers: fork.headers,
    via: fork.via,
  };
  w.log(`topic ${event.topic.slice(0, 8)}: author ${event.author.slice(0, 8)} forked its log at seqNum ${fork.seqNum} (learnt by ${fork.via})`);
  queueMicrotask(() => w.emit('fork', event));
}

export function onOverlayEvent(w: NodeWiring, topic: Uint8Array, event: OverlayEvent): void {
  const state = w.topics.get(toHex(topic));
  if (!state) return;
  const peer = event.peer!;
  switch (event.type) {
    case 'neighbor-up':
      state.neighbors.add(peer);
      w.inbound.feed({ type: 'neighbor-up', topic, peer });
      w.log(`topic ${state.hex.slice(0, 8)}: neighbour ${peer.slice(0, 8)} up (${state.neighbors.size} active)`);
      w.emit('neighbor:up', { topic: state.hex, peer });
      if (w.sync.dialsFor(peer)) w.sync.sync(peer, topic);
      return;
    case 'neighbor-down':
      state.neighbors.delete(peer);
      w.inbound.feed({ type: 'neighbor-down', topic, peer });
      w.log(`topic ${state.hex.slice(0, 8)}: neighbour ${peer.slice(0, 8)} down (${state.neighbors.size} active)`);
      w.sync.forget(peer, topic);
      w.emit('neighbor:down', { topic: state.hex, peer });
      if (state.neighbors.size === 0) w.emit('topic:alone', { topic: state.hex });
      return;
    case 'deliver':
      return w.inbound.feed({ type: 'gossip', topic, from: event.from!, payload: event.payload! });
    case 'dropped':
      return w.log(`overlay dropped a message from ${event.from?.slice(0, 8)}: ${event.reason}`);
  }
}

export function onSyncEvent(w: NodeWiring, peer: string, topic: Uint8Array, event: SyncEvent): void {
  const state = w.topics.get(toHex(topic));
  if (!state) return;
  if (event.type === 'operation') {
    // Stored and handed to the chain by the inbound path already; the peer holds it.
    const { header } = event.operation;
    state.noteHeights(peer, [{ author: header.publicKey, logId: logIdOf(header), seqNum: header.seqNum }], w.now());
  } else if (event.type === 'progress') {
    w.emit('sync:progress', { topic: state.hex, peer, ...event.progress });
  } else if (event.type === 'presync') {
    w.emit('sync:progress', { topic: state.hex, peer, direction: event.direction, operations: event.operations, bytes: event.bytes });
  } else if (event.type === 'synced') {
    // Both directions are done: the peer holds at least what we held.
    state.noteHeights(peer, w.store.heights(topic), w.now());
  }
}

export function onSyncEnd(w: NodeWiring, peer: string, topic: Uint8Array, stats: SyncStats | undefined, error?: Error): void {
  w.topics.get(toHex(topic))?.flushSynced();
  // Early arrivals whose gap the sync filled follow now.
  w.inbound.feed({ type: 'sync-ended', topic });
  w.emit('sync:end', {
    topic: toHex(topic),
    peer,
    received: stats?.received?.operations ?? 0,
    stored: stats?.stored ?? 0,
    sent: stats?.sent?.operations ?? 0,
    error: error ? { code: (error as WalkawayError).code ?? 'UNKNOWN', message: error.message } : undefined,
  });
}

/** `stream.onFork`: the node's `fork` events of one topic; returns the unsubscribe. */
export function forksOfTopic(node: EventEmitter, topicHex: string, listener: (fork: ForkEvent) => void): () => void {
  const forThisTopic = (fork: ForkEvent) => fork.topic === topicHex && listener(fork);
  node.on('fork', forThisTopic);
  return () => void node.off('fork', forThisTopic);
}

/** An ephemeral message multicast carried (opened, not yet verified). */
export function onMulticastEphemeral(w: NodeWiring, topic: Uint8Array, bytes: Uint8Array): void {
  try {
    w.topics.get(toHex(topic))?.deliverEphemeral(verifyEphemeral(bytes), bytes);
  } catch (err) {
    w.log(`bad ephemeral message: ${(err as Error).message}`);
  }
}
