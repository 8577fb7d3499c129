/**
 * Private topics' exchange policies (`StreamOptions.exchange`), by topic:
 * the sync and gossip services ask `may(topic, peer)` before sending a
 * topic's operations to a peer or taking them from it. A topic without a
 * policy is open to every peer that joined it. A private topic also stays
 * off multicast, which reaches anyone on the LAN (node.ts).
 */
import { toHex } from '../core/index.ts';

export class ExchangeGates {
  readonly #gates = new Map<string, (peer: string) => boolean>();

  set(topicHex: string, gate: (peer: string) => boolean): void {
    this.#gates.set(topicHex, gate);
  }

  delete(topicHex: string): void {
    this.#gates.delete(topicHex);
  }

  readonly may = (topic: Uint8Array, peer: string): boolean => this.#gates.get(toHex(topic))?.(peer) ?? true;
}
