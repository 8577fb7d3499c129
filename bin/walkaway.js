#!/usr/bin/env node
// The `walkaway` command: Node 20 cannot run TypeScript, so register tsx's
// loader first, then start the CLI (src/cli/main.ts).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv.slice(2));
