/**
 * The group secrets a member holds, and the rule for which one seals. Every
 * secret remembers who created it and whom it was sent to. A secret seals
 * only while its creator and every recipient can still read, and a
 * removal retires (for sealing, not for opening) every secret held when it
 * is processed, since the removed member may hold any of them (a welcome's
 * history carries them all). So nothing written after a removal is
 * processed uses a key the removed member has. Among the secrets that may seal, the latest is the one
 * with the highest Lamport time of the operation that distributed it, ties
 * broken by the higher id: the same choice on every member with the same view.
 */
import { BodyKey } from './body-key.ts';
import { BODY_KIND } from './envelope.ts';

export interface SecretEntry {
  secret: Uint8Array;
  lamport: number;
  /** Hex key of the member that drew the secret; undefined when learned from a welcome's history. */
  creator?: string;
  /** Hex keys of everyone it was sent to; undefined when unknown (history): such a secret never seals. */
  recipients?: string[];
  /** The auth state (hex) of the removal it was drawn for, if any. */
  afterRemoval?: string;
  sealable: boolean;
}

/** Plain data, so that a member's state can be cloned and persisted. */
export type SecretTable = Map<string, SecretEntry>;

/** Can everyone who holds `entry` still read, in the current membership? */
export function mayStillSeal(entry: SecretEntry, readers: ReadonlySet<string>, me: string): boolean {
  if (entry.creator === undefined || entry.recipients === undefined) return false;
  const holders = [entry.creator, ...entry.recipients];
  return holders.every((m) => m === me || readers.has(m));
}

/**
 * Retires every secret for sealing (they still open what they sealed),
 * except one drawn for the same removal that the removed member does not
 * hold: one auth operation that removes several readers reports each, and
 * the fresh secret drawn for the first already leaves them all out.
 */
export function retireAllSecrets(table: SecretTable, except?: { removal: string; member: string }): void {
  for (const entry of table.values()) {
    const keep =
      except !== undefined &&
      entry.afterRemoval === except.removal &&
      entry.creator !== except.member &&
      entry.recipients !== undefined &&
      !entry.recipients.includes(except.member);
    if (!keep) entry.sealable = false;
  }
}

export function latestSealable(table: SecretTable): [string, SecretEntry] | undefined {
  let best: [string, SecretEntry] | undefined;
  for (const [id, entry] of table) {
    if (!entry.sealable) continue;
    if (!best || entry.lamport > best[1].lamport || (entry.lamport === best[1].lamport && id > best[0])) best = [id, entry];
  }
  return best;
}

/** Keeps the table within `max` entries: the oldest (by Lamport time, then id) go first. */
export function boundSecrets(table: SecretTable, max: number): void {
  if (table.size <= max) return;
  const byAge = [...table].sort((a, b) => a[1].lamport - b[1].lamport || (a[0] < b[0] ? -1 : 1));
  for (const [id] of byAge.slice(0, table.size - max)) table.delete(id);
}

/** Derived body keys, per secret id: HKDF once per secret rather than once per body. Not part of the state. */
export class BodyKeyCache {
  private readonly keys = new Map<string, BodyKey>();
  constructor(private readonly topic: Uint8Array) {}

  of(id: string, secret: Uint8Array): BodyKey {
    let key = this.keys.get(id);
    if (!key) {
      key = new BodyKey(BODY_KIND.group, secret, this.topic);
      this.keys.set(id, key);
    }
    return key;
  }

  forget(id: string): void {
    this.keys.delete(id);
  }
}
