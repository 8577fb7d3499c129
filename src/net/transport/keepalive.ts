/**
 * How a node notices a peer that went silent (crashed machine, cut cable:
 * no TCP reset). One definition for the libp2p host (host.ts) and the
 * simulator (sim/network.ts), so the simulated detection is the node's.
 *
 * The liveness service (liveness.ts, in place of libp2p's connection
 * monitor) pings every connection every `pingIntervalMs` and aborts the
 * connection when a ping is not answered within its adaptive timeout (1.2
 * times the recent round trip, at least `pingTimeoutMs`) and nothing else
 * arrived on it meanwhile. The abort is `peer:disconnect`, which the gossip service
 * feeds its overlays as `peer-down`. A dial to a silent address fails after
 * the connection manager's per-address dial timeout.
 */

/** libp2p timeouts for slow peers (handshakes, negotiation, dials). */
export const SLOW_PEER_MS = 30_000;

export const KEEPALIVE = Object.freeze({
  /** Connection-monitor ping period (libp2p's default). */
  pingIntervalMs: 10_000,
  /** Least time a ping may take before the connection is aborted (libp2p's adaptive-timeout floor). */
  pingTimeoutMs: 5_000,
  /** A dial to an address that never answers gives up after this long (`addressDialTimeout`). */
  dialTimeoutMs: SLOW_PEER_MS / 2,
});
