#!/usr/bin/env node
// The `walkaway` command. An installed package runs the compiled CLI
// (dist/cli/main.js, plain JavaScript). A clone of the repository, which has
// src/, runs the TypeScript sources through tsx (a devDependency) so that
// `npm start` and the tests never see a stale build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
await main(process.argv.slice(2));
