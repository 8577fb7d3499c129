/**
 * Runs the real `walkaway` command (node bin/walkaway.js) as a child process
 * and checks how it fails. Cases run a few at a time: each is a whole process
 * start, and running them one by one was most of the CLI tests' time.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN } from './chat-process.ts';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `walkaway ...args` to its end (killed after `killAfterMs`, which a loaded machine needs generous). */
export function runCli(args: string[], killAfterMs = 180_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs every case, three at a time; each must exit with its code and say one stderr line matching `says`, no stack trace. */
export async function expectFailures(cases: Array<[string[], number, RegExp]>): Promise<void> {
  const queue = [...cases];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const [args, code, says] = c;
      const r = await runCli(args);
      const label = `walkaway ${args.join(' ')}`;
      assert.equal(r.status, code, `${label} exited ${r.status}: ${r.stderr}`);
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      assert.equal(lines.length, 1, `${label}: one stderr line, got ${JSON.stringify(r.stderr)}`);
      assert.match(lines[0], says, label);
      assert.ok(!r.stderr.includes('    at '), `${label}: no stack trace`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
}
