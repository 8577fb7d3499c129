/**
 * What a sync benchmark child measures about itself, the same way for
 * Walkaway and Hypercore: peak RSS (the kernel's high-water mark), bytes on
 * the wire (every TCP socket the process opens or accepts, handshakes and
 * framing included) and bytes on disk.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

/** Peak resident set of this process (VmHWM), in bytes. */
export function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage.rss();
}

/**
 * Tracks every socket this process connects from now on (libp2p's TCP
 * transport and `net.connect` both go through `Socket.prototype.connect`);
 * the returned function sums what they read and wrote so far.
 */
export function countSocketBytes(): () => number {
  const sockets = new Set<net.Socket>();
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    sockets.add(this);
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
  return () => {
    let n = 0;
    for (const s of sockets) n += s.bytesRead + s.bytesWritten;
    return n;
  };
}

/** Bytes on disk under `path`: a directory (recursively), or a file with its SQLite -wal/-shm siblings. */
export function diskBytes(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (st.isDirectory()) return treeBytes(path);
  let n = st.blocks * 512;
  for (const suffix of ['-wal', '-shm', '-journal']) if (existsSync(path + suffix)) n += statSync(path + suffix).blocks * 512;
  return n;
}

function treeBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    const st = statSync(join(dir, f));
    n += st.isDirectory() ? treeBytes(join(dir, f)) : st.blocks * 512;
  }
  return n;
}
