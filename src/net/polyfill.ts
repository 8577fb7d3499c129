/**
 * What libp2p 3 needs on Node 20, loaded before it (imported first by
 * every module that imports libp2p): `Promise.withResolvers` (Node 22). The
 * global `WebSocket` of the WebSockets transport's dialer is set where that
 * transport is loaded, on first use (websocket-global.ts).
 */

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

export {};
