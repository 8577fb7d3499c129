/** Small waits the in-process tests share. Every wait is bounded and says what it waited for. */

/** Polls `ok()` every 50 ms until it holds; throws after `timeoutMs`, naming `what`. */
export async function until(ok: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether `needle` occurs in `haystack` (plaintext in a stored body, say). */
export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(Buffer.from(needle)) >= 0;
}
