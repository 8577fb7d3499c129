import { toHex } from '../../core/index.ts';

/** Protocol ids carry the network id, so networks never mix on one host. */
export function protocolId(networkId: Uint8Array, name: string): string {
  return `/walkaway/${toHex(networkId).slice(0, 16)}/${name}/1`;
}
