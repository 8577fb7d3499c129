/** Peak resident set size of this process, sampled (helper of bench/sync.ts). */
export class RssSampler {
  #peak = process.memoryUsage.rss();
  #timer: NodeJS.Timeout;

  constructor(intervalMs = 100) {
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.#peak) this.#peak = rss;
  }

  /** Stops sampling and returns the peak in bytes. */
  stop(): number {
    this.sample();
    clearInterval(this.#timer);
    return this.#peak;
  }
}
