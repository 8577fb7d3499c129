/**
 * processors: everything above delivery is event processing. Small processors
 * (`process(input)` returns what the input releases) compose with
 * `pipeline(...)`; `ProcessorStream` turns a pipeline into an `AsyncIterable`.
 *
 * A topic's chain (`ProcessorChain`): prune > causal order > access slot >
 * decryption slot > the app's processors (chain.ts).
 *
 * Built in (ingest is the node's inbound path, src/node/inbound): prune, causal ordering across
 * authors (an operation comes out only after its backlink and its `previous`
 * hashes; pending operations are bounded and rebuilt from the store after a
 * restart; only the released set is persisted, in batches), Lamport
 * timestamps and hash-based vector clocks (frontiers), and the base
 * convergent types: grow-only set, last-write-wins map, operation DAG,
 * per-author log view. Each type applies idempotently and commutes, so
 * at-least-once delivery in any causal order converges. The design follows
 * p2panda-stream (DESIGN.md, processors) and Lamport, "Time, Clocks, and the
 * Ordering of Events in a Distributed System" (CACM 1978).
 */
export type {
  Processor,
  Outputs,
  OrderedOperation,
  ProcessorReport,
  ReportSink,
  Stamp,
} from './types.ts';
export { pipeline, fanout, ProcessorStream } from './pipeline.ts';
export { PruneProcessor, type PruneConfig } from './prune.ts';
export {
  ProcessorChain,
  CHAIN_SLOTS,
  type ChainSlot,
  type SlotProcessor,
  type AppProcessor,
  type ProcessorChainConfig,
} from './chain.ts';
export {
  CausalOrderer,
  DEFAULT_CAUSAL_ORDERER_CONFIG,
  type CausalOrdererConfig,
  type CausalOrdererStats,
  type PendingOperation,
} from './causal-orderer.ts';
export {
  advanceFrontier,
  compareFrontiers,
  frontierOf,
  happenedBefore,
  lamportFrom,
  type CausalGraph,
  type ClockOrder,
} from './clocks.ts';
export { GrowOnlySet, type GrowOnlySetConfig, type GrowOnlySetChange } from './crdt/grow-only-set.ts';
export {
  LwwMap,
  encodeLwwWrite,
  decodeLwwWrite,
  type LwwMapConfig,
  type LwwWrite,
  type LwwEntry,
  type LwwChange,
} from './crdt/lww-map.ts';
export { OperationDag, type DagNode, type DagChange } from './crdt/dag.ts';
export { LogView, type LogViewEntry, type LogViewChange } from './crdt/log-view.ts';
