/**
 * What libp2p 3 needs on Node 20, loaded before it (imported first by
 * every module that imports libp2p): `Promise.withResolvers` (Node 22) and a
 * global `WebSocket` for the WebSockets transport's dialer (Node 22).
 */
import WebSocketImpl from 'ws';

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>(): Resolvers<T> {
    let resolve!: Resolvers<T>['resolve'];
    let reject!: Resolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

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
