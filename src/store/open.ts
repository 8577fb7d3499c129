import { MemoryStore } from './memory.ts';
import { SqliteStore, type Durability } from './sqlite.ts';
import type { Store } from './types.ts';

export interface StoreOptions {
  storage: 'memory' | 'sqlite';
  /** SQLite file path (required for 'sqlite'). */
  path?: string;
  /** SQLite only: 'full' (default, survives a power cut) or 'normal' (faster). */
  durability?: Durability;
}

export function openStore(options: StoreOptions): Store {
  if (options.storage === 'memory') return MemoryStore.create();
  return SqliteStore.open(options.path ?? ':memory:', { durability: options.durability });
}
