/**
 * Walkaway: an infrastructure-independent peer-to-peer stack in the design
 * of p2panda. The package root is what an application needs: the `Node`
 * facade with its options, streams, events, live views and tickets, and the
 * keys, hashes and errors an app handles. Each layer is its own subpath
 * (`walkaway/core`, `/store`, `/sync`, `/processors`, `/net`, `/node`) for
 * alternative drivers and tools. docs/interfaces.md lists the public surface;
 * test/package checks it.
 */
// The facade: Node, NodeOptions, PublishOptions, StreamOptions, TopicStream,
// EphemeralStream, TopicEvent, EphemeralEvent, the live views, tickets.
export * from './node/index.ts';
// Keys, hashes and errors an app handles.
export { PrivateKey, PublicKey, Hash, WalkawayError, isWalkawayError, type ErrorCode, type Operation } from './core/index.ts';
export type { StoredOperation } from './store/index.ts';
// What an app's own processors and the live views' change events are made of.
export type {
  AppProcessor,
  Processor,
  Outputs,
  OrderedOperation,
  LwwChange,
  LwwEntry,
  GrowOnlySetChange,
  DagChange,
  DagNode,
  LogViewChange,
  LogViewEntry,
} from './processors/index.ts';
