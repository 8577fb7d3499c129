/**
 * The overlay configuration the node runs (the simulator's byzantine
 * scenario uses it too, so its figures are for the node's settings).
 *
 * Over real connections every hop also verifies and stores, and a busy
 * machine adds tens to hundreds of milliseconds: with the simulator's 80 ms
 * a late eager copy looked missing, so nodes grafted, got duplicates and
 * pruned, and the tree never settled (measured by bench/net). Waiting longer
 * before a graft costs repair time only when a link really failed.
 */
export const REAL_NETWORK_OVERLAY = Object.freeze({ plumtree: Object.freeze({ graftTimeout1Ms: 400, graftTimeout2Ms: 400 }) });
