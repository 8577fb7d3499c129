/**
 * A process in a namespace of a Lab that speaks JSON lines (net-child.ts, or
 * `walkaway chat --json`): collects its lines, bounded waits that say what
 * was seen when they fail.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './netns.ts';

export const CHILD = new URL('./net-child.ts', import.meta.url).pathname;
export const BIN = new URL('../../bin/walkaway.js', import.meta.url).pathname;

export type Line = Record<string, any> & { type: string };

export class LabNode {
  readonly lines: Line[] = [];
  readonly stderr: string[] = [];
  readonly #waiters = new Set<() => void>();
  ready!: Line;

  constructor(
    readonly name: string,
    readonly child: ChildProcessWithoutNullStreams,
  ) {
    let buffered = '';
    // NETNS_LOG_DIR=<dir>: every process's output also goes to <dir>/<name>.log, for debugging.
    const logDir = process.env.NETNS_LOG_DIR;
    const keep = (chunk: Buffer) => logDir && appendFileSync(join(logDir, `${name}.log`), chunk);
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk);
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const part of parts) {
        try {
          this.lines.push({ ...JSON.parse(part), seenAt: performance.now() });
        } catch {
          this.lines.push({ type: 'unparsed', text: part });
        }
      }
      for (const wake of this.#waiters) wake();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      keep(chunk);
      this.stderr.push(chunk.toString());
      if (this.stderr.length > 2000) this.stderr.splice(0, 1000);
      // Waits may watch the debug log too.
      for (const wake of this.#waiters) wake();
    });
    child.on('exit', () => {
      for (const wake of this.#waiters) wake();
    });
  }

  /** A net-child.ts node in `ns`. */
  static async child(lab: Lab, ns: string, name: string, options: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<LabNode> {
    const node = new LabNode(name, lab.spawn(ns, ['--import', 'tsx', CHILD, JSON.stringify(options)], env));
    node.ready = await node.waitFor((l) => l.type === 'ready', 180_000, 'ready');
    return node;
  }

  /** `walkaway <args> --json` in `ns`. */
  static async cli(lab: Lab, ns: string, name: string, args: string[]): Promise<LabNode> {
    const node = new LabNode(name, lab.spawn(ns, [BIN, ...args]));
    node.ready = await node.waitFor((l) => l.type === 'ready', 180_000, 'ready');
    return node;
  }

  get peerId(): string {
    return this.ready.peerId;
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  texts(): string[] {
    return this.lines.filter((l) => l.type === 'message').map((l) => l.text);
  }

  /** The latest addresses it announced (ready, then address updates). */
  addresses(): string[] {
    const last = this.lines.findLast((l) => l.type === 'addresses' || l.type === 'ready');
    return (last?.addresses as string[]) ?? [];
  }

  waitFor(match: (line: Line) => boolean, timeoutMs: number, what: string, from = 0): Promise<Line> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.slice(from).find(match);
        if (found) {
          done();
          resolve(found);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done();
          reject(new Error(`${this.name} exited while waiting for ${what}; stderr: ${this.stderr.join('').slice(-1500)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `${this.name}: timed out waiting for ${what}; last lines: ${JSON.stringify(this.lines.slice(-10)).slice(0, 3000)}; stderr: ${this.stderr.join('').slice(-1500)}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  waitForTexts(texts: string[], timeoutMs: number): Promise<Line> {
    return this.waitFor(() => texts.every((t) => this.texts().includes(t)), timeoutMs, `messages ${JSON.stringify(texts)}`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}
