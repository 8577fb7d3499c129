/**
 * A webxdc app's files: an `.xdc` zip (or, for development, a folder of the
 * same files), read with bounds on every axis a hostile archive could use:
 * entry count, bytes per file and in all (declared sizes are checked before
 * anything is inflated, and inflation cannot outgrow them), names (no
 * traversal, no absolute paths, no control characters, no duplicates).
 * `index.html` at the root is required; `manifest.toml` is read defensively.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { WalkawayError } from '../core/index.ts';
import { parseManifest } from './manifest.ts';

export interface ArchiveLimits {
  /** Bytes of the .xdc file itself. */
  maxArchiveBytes: number;
  maxEntries: number;
  maxFileBytes: number;
  maxTotalBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxArchiveBytes: 32 * 1024 * 1024,
  maxEntries: 4096,
  maxFileBytes: 32 * 1024 * 1024,
  maxTotalBytes: 128 * 1024 * 1024,
};

const MAX_NAME = 512;

export interface WebxdcArchive {
  /** The app's name: manifest `name`, else the file name without `.xdc`. */
  name: string;
  /** manifest `source_code_url` when it is an http(s) URL. */
  sourceCodeUrl?: string;
  /** `icon.png` or `icon.jpg` when the root holds one. */
  icon?: string;
  /** Files by their path inside the app, e.g. `index.html`, `js/app.js`. */
  files: Map<string, Uint8Array>;
}

/** Reads an `.xdc` file's bytes. */
export function openXdc(bytes: Uint8Array, fileName: string, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): WebxdcArchive {
  if (bytes.length > limits.maxArchiveBytes) throw new WalkawayError('TOO_LARGE', `the app is ${bytes.length} bytes, more than ${limits.maxArchiveBytes}`);
  if (!hasEndRecord(bytes)) throw new WalkawayError('MALFORMED', `${describeName(fileName)} is not a zip file (no end of central directory)`);
  let entries = 0;
  let total = 0;
  let unzipped: Record<string, Uint8Array>;
  try {
    unzipped = unzipSync(bytes, {
      filter: (file) => {
        if (++entries > limits.maxEntries) throw new WalkawayError('TOO_LARGE', `the app has more than ${limits.maxEntries} entries`);
        if (file.name.endsWith('/')) return false; // a directory entry
        checkName(file.name);
        if (file.originalSize > limits.maxFileBytes)
          throw new WalkawayError('TOO_LARGE', `${describeName(file.name)} is ${file.originalSize} bytes, more than ${limits.maxFileBytes}`);
        total += file.originalSize;
        if (total > limits.maxTotalBytes) throw new WalkawayError('TOO_LARGE', `the app's files are more than ${limits.maxTotalBytes} bytes`);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof WalkawayError) throw err;
    throw new WalkawayError('MALFORMED', `${describeName(fileName)} is not a zip file (${String((err as Error).message).slice(0, 120)})`);
  }
  const files = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(unzipped)) {
    const key = name.normalize('NFC');
    if (files.has(key)) throw new WalkawayError('MALFORMED', `${describeName(name)} appears twice`);
    files.set(key, data);
  }
  return describe(files, fileName);
}

const END_RECORD = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const END_RECORD_BYTES = 22;
const MAX_ZIP_COMMENT = 0xffff;

/**
 * Whether a zip's end record can be where it must be (its last 22 + 65,535 bytes).
 * fflate looks for it byte by byte, 65,558 steps even for a 2-byte input
 * (4 ms each); the native search answers first.
 */
function hasEndRecord(bytes: Uint8Array): boolean {
  if (bytes.length < END_RECORD_BYTES) return false;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = view.lastIndexOf(END_RECORD, bytes.length - END_RECORD_BYTES);
  return at >= 0 && at >= bytes.length - END_RECORD_BYTES - MAX_ZIP_COMMENT;
}

/** Reads a folder laid out as an `.xdc` (a developer's working copy), with the same bounds. */
export function openXdcFolder(dir: string, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): WebxdcArchive {
  const files = new Map<string, Uint8Array>();
  let total = 0;
  const walk = (folder: string, depth: number): void => {
    if (depth > 16) throw new WalkawayError('TOO_LARGE', 'folders nest more than 16 deep');
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) walk(path, depth + 1);
      else if (entry.isFile()) {
        if (files.size >= limits.maxEntries) throw new WalkawayError('TOO_LARGE', `the app has more than ${limits.maxEntries} files`);
        const name = relative(dir, path).split(sep).join('/');
        checkName(name);
        const size = statSync(path).size;
        if (size > limits.maxFileBytes) throw new WalkawayError('TOO_LARGE', `${describeName(name)} is ${size} bytes, more than ${limits.maxFileBytes}`);
        total += size;
        if (total > limits.maxTotalBytes) throw new WalkawayError('TOO_LARGE', `the app's files are more than ${limits.maxTotalBytes} bytes`);
        files.set(name.normalize('NFC'), new Uint8Array(readFileSync(path)));
      }
    }
  };
  walk(dir, 0);
  return describe(files, basename(dir));
}

function describe(files: Map<string, Uint8Array>, fileName: string): WebxdcArchive {
  if (!files.has('index.html')) throw new WalkawayError('MALFORMED', 'the app has no index.html at its root');
  const manifest = files.has('manifest.toml') ? parseManifest(files.get('manifest.toml')!) : {};
  const fallback =
    basename(fileName)
      .replace(/\.xdc$/i, '')
      .slice(0, 128) || 'app';
  const icon = files.has('icon.png') ? 'icon.png' : files.has('icon.jpg') ? 'icon.jpg' : undefined;
  return { name: manifest.name ?? fallback, sourceCodeUrl: manifest.sourceCodeUrl, icon, files };
}

/**
 * A path inside the app: relative, `/`-separated, no `.` or `..` segment,
 * no empty segment, no backslash, drive letter, NUL or other control
 * character. Anything else is refused (the whole app, not just the entry).
 */
export function checkName(name: string): void {
  const bad = (why: string) => new WalkawayError('MALFORMED', `entry ${describeName(name)}: ${why}`);
  if (name.length === 0 || name.length > MAX_NAME) throw bad(`names are 1 to ${MAX_NAME} characters`);
  if (/[\u0000-\u001f\u007f\\]/.test(name)) throw bad('control characters and backslashes are not allowed');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw bad('absolute paths are not allowed');
  if (name.split('/').some((s) => s === '' || s === '.' || s === '..')) throw bad('empty, "." and ".." segments are not allowed');
}

function describeName(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}
