#!/usr/bin/env node
// The `walkaway` command. An installed package runs the compiled CLI
// (dist/cli/main.js, plain JavaScript). A clone of the repository, which has
// src/, runs the compiled CLI only while it is newer than every source file
// (`npm run build` stamps it; `npm test` builds first, and each process then
// starts in half the time); otherwise it runs the TypeScript sources through
// tsx (a devDependency), so that `npm start` never sees a stale build.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const source = new URL('src/cli/main.ts', root);
const stamp = new URL('dist/.built', root);

/** The newest modification time of a file below `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const useSources = existsSync(source) && !(existsSync(stamp) && statSync(stamp).mtimeMs >= newest(new URL('src', root).pathname));
let main;
if (useSources) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
await main(process.argv.slice(2));
