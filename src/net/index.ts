/**
 * net: topics over a gossip overlay. Each topic is one overlay of HyParView
 * membership (Leitão et al., DSN 2007) and PlumTree broadcast (Leitão et
 * al., SRDS 2007), written as sans-IO state machines so that the same code
 * runs in the simulator (`sim/`) and over real connections.
 */
export * from './membership/index.ts';
export * from './broadcast/index.ts';
export * from './overlay/index.ts';
