import { MemoryStore } from '../../src/store/index.ts';
import { runStoreContract } from '../contract/store.ts';

runStoreContract('memory', () => ({ store: MemoryStore.create() }));
