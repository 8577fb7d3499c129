/**
 * What the long-running commands (chat, relay) do with an error nothing
 * caught: an error that comes from the network (a socket, a libp2p stream or
 * connection, a peer's bad input) is logged as one line and the process keeps
 * running: no remote peer can end it. Any other error is a bug of ours: it is
 * printed as one line (with its stack only under DEBUG=walkaway:*) and the
 * process exits 1, since its state can no longer be trusted. At most 20 lines
 * a minute are printed.
 */
import { isWalkawayError } from '../core/index.ts';

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CLOSED',
  'ERR_HTTP_INVALID_STATUS_CODE',
  'WS_ERR_INVALID_CLOSE_CODE',
  'ABORT_ERR',
]);

/** Frames of the code that handles what comes from the network. */
const NETWORK_FRAMES =
  /node_modules\/(@libp2p|libp2p|@chainsafe|ws|it-[\w-]+|@multiformats|uint8arraylist|p-event|race-signal|abort-error|progress-events)\/|\/src\/(net|sync)\//;

export function isNetworkError(err: unknown): boolean {
  if (isWalkawayError(err)) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; name?: unknown; stack?: unknown; message?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  if (typeof e.message === 'string' && /^Unexpected server response/.test(e.message)) return true; // ws handshake
  return typeof e.stack === 'string' && NETWORK_FRAMES.test(e.stack);
}

const MAX_LINES_PER_MINUTE = 20;

/** Installs the policy; `report` prints one line (a JSON error event with --json, stderr otherwise). */
export function keepRunningOnNetworkErrors(report: (message: string) => void): void {
  let windowStart = 0;
  let lines = 0;
  let suppressed = 0;
  const handle = (err: unknown) => {
    if (!isNetworkError(err)) {
      const stack = process.env.DEBUG?.includes('walkaway') ? (err as Error)?.stack : undefined;
      console.error(`walkaway: internal error: ${stack ?? String(err).split('\n')[0]}`);
      process.exit(1);
    }
    const now = performance.now();
    if (now - windowStart > 60_000) {
      if (suppressed > 0) report(`${suppressed} more network error${suppressed === 1 ? ' was' : 's were'} not shown`);
      windowStart = now;
      lines = 0;
      suppressed = 0;
    }
    if (lines++ >= MAX_LINES_PER_MINUTE) return void suppressed++;
    const message = (err as Error)?.message ?? String(err);
    report(`network error (kept running): ${message.slice(0, 300)}`);
  };
  process.on('uncaughtException', handle);
  process.on('unhandledRejection', handle);
}
