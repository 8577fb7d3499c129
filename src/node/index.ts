/**
 * node: the facade applications use. `Node.create()` joins the network;
 * `stream(topic)` gives `{ tx, rx }` for the persisted, eventually consistent
 * stream of a topic, `ephemeralStream(topic)` for live-only messages.
 */
export { Node } from './node.ts';
export type { ForkEvent, NodeOptions, PublishOptions, StreamOptions, TopicStream, EphemeralStream } from './node-types.ts';
export type { TopicEvent, EphemeralEvent } from './topic-state.ts';
export type { Receiver } from './receiver.ts';
export type { NodeStats } from './node-stats.ts';
export { LiveMap, LiveSet, LiveDag, LiveLog } from './views.ts';
export { encodeTicket, decodeTicket, isTicket, type Ticket } from './ticket.ts';
