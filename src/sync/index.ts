/**
 * sync: two peers that meet reconcile every log of a topic, both directions
 * at once, over any reliable byte stream; peers on links where nobody can
 * answer converge through broadcast-only sync.
 *
 * Guarantees: every received operation is decoded strictly and handed to
 * the injected `SyncIngest` (the node's inbound path checks its signature
 * and ingests it through the store's rules before it is stored); a
 * session ends with a typed `WalkawayError` (after at most the stall bound)
 * on any bad input and keeps every valid operation received before it;
 * memory stays bounded (logs are paged from the store, writes wait for the
 * stream to drain, reads pause while verification is behind); a session cut
 * short resumes from what was stored. Protocol after p2panda-sync's
 * log-height sync (DESIGN.md, sync); the machines are sans-IO (STYLE.md).
 */
export { SyncSession, type SyncSessionOptions } from './session.ts';
export { syncOverStream, SyncHandle, type SyncOptions } from './driver.ts';
export { SYNC_PROTOCOL_VERSION, type SyncMessage, type HaveEntry } from './messages.ts';
// Length-prefixed framing: what any driver that carries frames over a byte stream needs (net's drivers use it).
export { encodeFrames, FrameDecoder } from './frames.ts';
export {
  BroadcastSync,
  DEFAULT_BROADCAST_CONFIG,
  type BroadcastConfig,
  type BroadcastInput,
  type BroadcastOutput,
  type BroadcastEvent,
  type BroadcastStats,
} from './broadcast-sync.ts';
export {
  DEFAULT_SYNC_CONFIG,
  type SyncConfig,
  type SyncInput,
  type SyncOutput,
  type SyncEvent,
  type SyncStats,
  type SyncProgress,
  type SyncRole,
  type VerifyMode,
  type LogWant,
  type IngestRequest,
  type IngestResult,
  type IngestKind,
  type SyncIngest,
  type SyncIngestSession,
} from './types.ts';
