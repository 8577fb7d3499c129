import { MemoryStore } from './memory.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';

export interface StoreOptions {
  storage: 'memory' | 'sqlite';
  /** SQLite file path (required for 'sqlite'). */
  path?: string;
}

export function openStore(options: StoreOptions): Store {
  if (options.storage === 'memory') return MemoryStore.create();
  return SqliteStore.open(options.path ?? ':memory:');
}
