/**
 * Lines for stdout, gathered within one turn of the event loop and written
 * at once: a sync hands the chat hundreds of messages in one turn, and one
 * `console.log` each (a formatted, synchronous write to a pipe or terminal)
 * cost more than ordering them. Whatever is pending is written before the
 * process exits and before anything goes to stderr, so the order holds.
 */
export interface LineWriter {
  line(text: string): void;
  /** Writes what is pending now. */
  flush(): void;
}

export function lineWriter(stream: { write(text: string): unknown } = process.stdout): LineWriter {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    stream.write(text);
  };
  process.once('exit', flush);
  return {
    line(text) {
      if (pending.push(text) === 1) setImmediate(flush);
    },
    flush,
  };
}
