/**
 * Walkaway: an infrastructure-independent peer-to-peer stack in the design
 * of p2panda. This entry re-exports every layer; see README.md and
 * docs/interfaces.md for what outside code may rely on.
 */
export * from './core/index.ts';
export * from './store/index.ts';
export * from './sync/index.ts';
export * from './processors/index.ts';
export * from './net/index.ts';
export { openDataDir, defaultDataDir, loadIdentity, lockDataDir, type DataDir, type DataDirLock } from './data-dir.ts';
export * from './node/index.ts';
export * from './auth/index.ts';
