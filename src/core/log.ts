/**
 * Debug logging: `DEBUG=walkaway:*` (or a comma-separated list such as
 * `walkaway:sync,walkaway:gossip`) prints what each layer does to stderr;
 * nothing is printed otherwise.
 */
export type Log = (message: string) => void;

function enabled(name: string): boolean {
  const spec = typeof process !== 'undefined' ? (process.env.DEBUG ?? '') : '';
  return spec.split(',').some((pattern) => {
    const p = pattern.trim();
    if (!p) return false;
    if (p === '*' || p === name) return true;
    return p.endsWith('*') && name.startsWith(p.slice(0, -1));
  });
}

export function createLog(name: string): Log {
  if (!enabled(name)) return () => {};
  return (message) => process.stderr.write(`${new Date().toISOString()} ${name} ${message}\n`);
}
