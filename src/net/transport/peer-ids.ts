/** Between libp2p peer ids and our hex Ed25519 public keys (the same key). */
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { PeerId } from '@libp2p/interface';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { fromHex, toHex } from '../../core/index.ts';

/** The hex Ed25519 public key of a peer id, or undefined for other key types. */
export function publicKeyOfPeer(peer: PeerId): string | undefined {
  if (peer.type !== 'Ed25519' || !peer.publicKey) return undefined;
  return toHex(peer.publicKey.raw);
}

export function peerIdOfPublicKey(hex: string): PeerId {
  return peerIdFromPublicKey(publicKeyFromRaw(fromHex(hex)));
}
