/**
 * The driver's policy on misbehaving peers, shared by the gossip service and
 * the simulator so both run the same rules: which overlay events are
 * offences, and whether a peer is admitted. On a ban the driver hangs up on
 * the peer and feeds every overlay `peer-down` for it (which takes it out of
 * every view); while the ban lasts it drops the peer's frames and joins,
 * refuses its streams and answers an overlay's `connect` to it with
 * `peer-down`. Sans-IO: time is passed in.
 */
import type { PeerId } from '../membership/types.ts';
import type { OverlayEvent } from '../overlay/overlay.ts';
import { Penalties, type Offence } from './penalties.ts';

/** The offence an overlay event proves against its sender, if any. */
export function offenceOf<P extends PeerId>(event: OverlayEvent<P>): { peer: P; offence: Offence } | null {
  // Honest peers validate before forwarding: an invalid payload is proof.
  if (event.type === 'invalid') return { peer: event.from, offence: 'invalid' };
  // A message of the wrong shape, or one the membership rules refused (over
  // budget, out of turn); a race costs an honest peer 10 points that decay.
  if (event.type === 'dropped') return { peer: event.from, offence: 'malformed' };
  return null;
}

export class PeerGuard<P extends PeerId = string> {
  constructor(
    readonly self: P,
    readonly penalties: Penalties<P> = new Penalties<P>(),
  ) {}

  /** False while `peer` is banned: drop its input, refuse its streams and dials to it. */
  admits(peer: P, now: number): boolean {
    return !this.penalties.isBanned(peer, now);
  }

  /** Adds an offence; true when it bans the peer now (the driver then hangs up and feeds `peer-down`). */
  offend(peer: P, offence: Offence, now: number): boolean {
    return peer !== this.self && this.penalties.penalise(peer, offence, now);
  }

  /** Scores the offence an overlay event proves; returns the peer it banned, if any. */
  review(event: OverlayEvent<P>, now: number): P | undefined {
    const found = offenceOf(event);
    return found && this.offend(found.peer, found.offence, now) ? found.peer : undefined;
  }
}
