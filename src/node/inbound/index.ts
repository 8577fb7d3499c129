/**
 * The inbound path: one sans-IO machine (inbound.ts) every received or
 * published operation passes, its driver for synchronous stores
 * (store-driver.ts), the signature checks (signatures.ts) and the
 * early-arrival buffer (ahead-buffer.ts).
 */
export { Inbound } from './inbound.ts';
export { InboundStoreDriver, type InboundHooks, type StoreDriverOptions } from './store-driver.ts';
export { inlineVerifier, sharedVerifyPool, verifyBatch, verifyTips, type Verifier } from './signatures.ts';
export { AheadBuffer } from './ahead-buffer.ts';
export { DEFAULT_INBOUND_CONFIG, type ForkReport, type InboundConfig, type InboundInput, type InboundOutput, type InboundTimer, type Via } from './types.ts';

import type { Store } from '../../store/index.ts';
import { InboundStoreDriver } from './store-driver.ts';
import type { Verifier } from './signatures.ts';

/** The inbound path of a bare store (no topics joined): what a sync session outside a node stores through. */
export function storeIngest(store: Store, verifier?: Verifier | Promise<Verifier>): InboundStoreDriver {
  return new InboundStoreDriver({ store, verifier });
}
