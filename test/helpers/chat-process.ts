/**
 * Runs `walkaway chat --json` as a real child process on 127.0.0.1 and reads
 * its JSON lines. Every wait is bounded; a failed wait says what was seen.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = new URL('../../bin/walkaway.js', import.meta.url).pathname;

export type Line = Record<string, any> & { type: string };

export class ChatProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Line[] = [];
  readonly stderr: string[] = [];
  #waiters = new Set<() => void>();
  ready!: Line;

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.child = child;
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const part of parts) {
        try {
          this.lines.push(JSON.parse(part));
        } catch {
          this.lines.push({ type: 'unparsed', text: part });
        }
      }
      for (const wake of this.#waiters) wake();
    });
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    child.on('exit', () => {
      for (const wake of this.#waiters) wake();
    });
  }

  static async start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChatProcess> {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new ChatProcess(child);
    await p.#whenReady();
    return p;
  }

  /** Waits for `ready` (a loaded machine starts processes slowly); a process that never gets there is killed, not left behind. */
  async #whenReady(): Promise<void> {
    try {
      this.ready = await this.waitFor((l) => l.type === 'ready', 90_000, 'ready');
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  /** Starts a TypeScript script of the tests (`node --import tsx SCRIPT ...args`) that prints JSON lines, a `ready` first. */
  static async script(path: string, args: string[]): Promise<ChatProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new ChatProcess(child);
    await p.#whenReady();
    return p;
  }

  /** Starts `walkaway chat <topic> --json` with a data dir, no mDNS, and port 0 unless `extra` names `--listen`. */
  static chat(topic: string, dataDir: string, extra: string[] = []): Promise<ChatProcess> {
    const port = extra.includes('--listen') ? [] : ['--port', '0'];
    return ChatProcess.start(['chat', topic, '--json', '--no-mdns', ...port, '--data', dataDir, ...extra]);
  }

  get address(): string {
    const addrs = this.ready.addresses as string[];
    return addrs.find((a) => a.includes('127.0.0.1')) ?? addrs[0];
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  messages(): Line[] {
    return this.lines.filter((l) => l.type === 'message');
  }

  texts(): string[] {
    return this.messages().map((m) => m.text as string);
  }

  /** Resolves with the first line (already seen or coming) that matches. */
  waitFor(match: (line: Line) => boolean, timeoutMs = 20_000, what = 'a line'): Promise<Line> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(match);
        if (found) {
          done();
          resolve(found);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done();
          reject(new Error(`process exited while waiting for ${what}; stderr: ${this.stderr.join('').slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`timed out waiting for ${what}; last lines: ${JSON.stringify(this.lines.slice(-8)).slice(0, 3000)}; stderr: ${this.stderr.join('').slice(-1500)}`),
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

  /** Waits until every text in `texts` arrived as a message. */
  async waitForTexts(texts: string[], timeoutMs = 30_000): Promise<void> {
    await this.waitFor(() => texts.every((t) => this.texts().includes(t)), timeoutMs, `messages ${JSON.stringify(texts)}`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}

export function tempDirs(n: number): { dirs: string[]; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'walkaway-e2e-'));
  const dirs = Array.from({ length: n }, (_, i) => join(root, `node${i}`));
  return { dirs, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
