/**
 * A global `WebSocket` for the WebSockets transport's dialer on Node 20
 * (Node 22 has one), loaded with that transport (transport/lazy-websockets.ts):
 * `ws` with `http`, `https` and `tls` cost about 10 MB that a node on plain
 * TCP never uses.
 */
import WebSocketImpl from 'ws';

/**
 * `ws` sockets are EventEmitters: an 'error' nobody listens to throws. The
 * libp2p dialer listens only while it waits for 'open'; a dial it gave up on
 * (timeout, abort) can still fail later (e.g. a late HTTP 404 from a peer's
 * bogus address), which ended the process. Every socket gets a listener that
 * swallows errors; the dialer's own listener still sees them.
 */
class QuietWebSocket extends WebSocketImpl {
  constructor(...args: ConstructorParameters<typeof WebSocketImpl>) {
    super(...args);
    this.on('error', () => {});
  }
}

const G = globalThis as unknown as { WebSocket?: unknown };
if (typeof G.WebSocket === 'undefined') G.WebSocket = QuietWebSocket;
