/**
 * `manifest.toml`, read defensively: only the top-level keys the spec names
 * (`name`, `source_code_url`) as single-line strings; tables, arrays, other
 * keys and lines that do not parse are skipped, never an error (Delta Chat
 * also falls back to the file name when the manifest is unreadable).
 */

export interface Manifest {
  name?: string;
  sourceCodeUrl?: string;
}

const MAX_MANIFEST_BYTES = 64 * 1024;
const MAX_NAME = 128;
const MAX_URL = 2048;

export function parseManifest(bytes: Uint8Array): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) return {};
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return {};
  }
  const out: Manifest = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) break; // keys after a table header belong to that table
    const match = /^([A-Za-z0-9_-]+|"[^"]*")\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const key = match[1].replace(/^"|"$/g, '');
    const value = tomlString(match[2]);
    if (value === undefined) continue;
    if (key === 'name') {
      const name = value
        .replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '')
        .trim()
        .slice(0, MAX_NAME);
      if (name) out.name = name;
    } else if (key === 'source_code_url' && value.length <= MAX_URL && /^https?:\/\/[^\s]+$/i.test(value)) {
      out.sourceCodeUrl = value;
    }
  }
  return out;
}

/** A TOML basic ("...") or literal ('...') single-line string, with an optional trailing comment. */
function tomlString(rest: string): string | undefined {
  const literal = /^'([^'\n]*)'\s*(#.*)?$/.exec(rest);
  if (literal) return literal[1];
  const basic = /^"((?:[^"\\\n]|\\.)*)"\s*(#.*)?$/.exec(rest);
  if (!basic) return undefined;
  let failed = false;
  const value = basic[1].replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_m, esc: string) => {
    const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
    if (esc in simple) return simple[esc];
    if (esc[0] === 'u' || esc[0] === 'U') {
      const code = parseInt(esc.slice(1), 16);
      if (code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)) return String.fromCodePoint(code);
    }
    failed = true;
    return '';
  });
  return failed ? undefined : value;
}
