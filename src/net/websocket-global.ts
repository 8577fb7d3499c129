/**
 * A global `WebSocket` for the WebSockets transport's dialer on Node 20
 * (Node 22 has one), loaded with that transport (transport/lazy-websockets.ts):
 * `ws` with `http`, `https` and `tls` cost about 10 MB that a node on plain
 * TCP never uses.
 */
import WebSocketImpl from 'ws';

/** At most this much arrives before the dialer listens (a peer's first handshake message fits many times). */
const EARLY_MAX_MESSAGES = 16;
const EARLY_MAX_BYTES = 64 * 1024;

/**
 * `ws` sockets are EventEmitters: an 'error' nobody listens to throws. The
 * libp2p dialer listens only while it waits for 'open'; a dial it gave up on
 * (timeout, abort) can still fail later (e.g. a late HTTP 404 from a peer's
 * bogus address), which ended the process. Every socket gets a listener that
 * swallows errors; the dialer's own listener still sees them.
 *
 * The dialer also adds its 'message' listener only after 'open', a few
 * microtasks late, while `ws` hands over a message that came in the same
 * read as the upgrade response at once: it was lost. With the private
 * network (both sides send their nonce first) every dial between two
 * Walkaway hosts over /ws hung until its timeout. Such early messages are
 * kept (bounded) and handed to the first 'message' listener.
 */
class QuietWebSocket extends WebSocketImpl {
  #early: { data: unknown; isBinary: boolean }[] | undefined = [];
  #earlyBytes = 0;
  readonly #keepEarly = (data: unknown, isBinary: boolean) => {
    this.#early?.push({ data, isBinary });
    // An ArrayBuffer or Buffer (byteLength), or with binaryType 'fragments' an array of Buffers.
    this.#earlyBytes += Array.isArray(data) ? data.reduce((n: number, b: Buffer) => n + b.byteLength, 0) : ((data as { byteLength?: number }).byteLength ?? 0);
    if ((this.#early?.length ?? 0) > EARLY_MAX_MESSAGES || this.#earlyBytes > EARLY_MAX_BYTES) this.terminate();
  };

  constructor(...args: ConstructorParameters<typeof WebSocketImpl>) {
    super(...args);
    this.on('error', () => {});
    this.on('message', this.#keepEarly);
  }

  override addEventListener(...args: Parameters<WebSocketImpl['addEventListener']>): void {
    super.addEventListener(...args);
    const early = this.#early;
    if (args[0] !== 'message' || !early) return;
    this.#early = undefined;
    this.off('message', this.#keepEarly);
    for (const { data, isBinary } of early) this.emit('message', data, isBinary);
  }
}

const G = globalThis as unknown as { WebSocket?: unknown };
if (typeof G.WebSocket === 'undefined') G.WebSocket = QuietWebSocket;
