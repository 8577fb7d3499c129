/** A worker thread: fuzzes one target and posts its report. */
import { parentPort, workerData } from 'node:worker_threads';
import { fuzzTarget, type FuzzOptions } from './engine.ts';
import { targetByName } from './targets/index.ts';

const { name, options } = workerData as { name: string; options: FuzzOptions };
const target = await targetByName(name);
if (!target) throw new Error(`no fuzz target ${name}`);
const report = await fuzzTarget(target, options);
parentPort!.postMessage(report);
