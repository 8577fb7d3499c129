/**
 * Broadcast: PlumTree (Leitão, Pereira, Rodrigues, "Epidemic Broadcast
 * Trees", SRDS 2007, https://asc.di.fct.unl.pt/~jleitao/pdf/srds07-leitao.pdf)
 * over the membership's active view.
 *
 * Guarantees: every node connected to the origin through active links gets
 * each message once (duplicates are filtered by id for `idCacheMs`); a
 * missing message is grafted from any neighbour that announced it while it
 * is cached (`messageCacheMs`). Message ids are distinct per broadcast. A
 * publish over `maxMessageSize` throws `WalkawayError('TOO_LARGE')`.
 * Sans-IO: `handle(input, now)` returns outputs.
 */
export { PlumTree } from './plumtree.ts';
export { checkPlumTreeMessage, isPlumTreeMessage } from './validate.ts';
export {
  DEFAULT_PLUMTREE_CONFIG,
  GOSSIP_ENVELOPE_OVERHEAD,
  type PlumTreeConfig,
  type PlumTreeEvent,
  type PlumTreeInput,
  type PlumTreeMessage,
  type PlumTreeOutput,
  type PlumTreeStats,
  type PlumTreeTimer,
  type PayloadValidator,
} from './types.ts';
