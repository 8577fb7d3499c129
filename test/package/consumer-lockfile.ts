/**
 * A consumer project that depends on the packed tarball, with a lockfile
 * made from the repository's: the same versions of every runtime
 * dependency (devDependencies left out), so that `npm ci --offline` needs
 * nothing but what the repository's own `npm ci` put in the npm cache.
 */
interface LockEntry {
  version?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}
interface Lockfile {
  name: string;
  version: string;
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

export function consumerLockfile(repoLock: Lockfile, tarball: string, overrides: Record<string, string> = {}) {
  const self = repoLock.packages[''];
  const deps = { [repoLock.name]: tarball };
  const pkg = { name: 'walkaway-consumer', version: '1.0.0', private: true, type: 'module', dependencies: deps, overrides };
  const packages: Record<string, LockEntry> = { '': { name: pkg.name, version: pkg.version, dependencies: deps } };
  packages[`node_modules/${repoLock.name}`] = {
    version: repoLock.version,
    resolved: tarball,
    license: self.license,
    dependencies: self.dependencies,
    bin: self.bin,
    engines: self.engines,
  };
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (path !== '' && !entry.dev) packages[path] = entry;
  }
  return { pkg, lock: { name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages } };
}
