/**
 * What a node stream needs to encrypt one topic with a topic key: the
 * decryption slot and the sealing of published bodies
 * (`node.stream(topic, { encryption: topicKeyEncryption(...) })`). The node
 * layer sits below this one, so the node takes both as plain functions.
 */
import { topicId } from '../core/index.ts';
import type { ReportSink } from '../processors/index.ts';
import { DecryptProcessor, type DecryptStats } from './decrypt-processor.ts';
import { systemRandom, type RandomSource } from './random.ts';
import { TopicKey } from './topic-key.ts';

export interface TopicKeyEncryptionOptions {
  /** The topic's name or id (the same value given to `stream`; a ticket's topic id). */
  topic: string | Uint8Array;
  /** The pre-shared 32-byte key. */
  key: Uint8Array;
  /** The node's public key: the author every body sealed here is bound to. */
  author: Uint8Array;
  random?: RandomSource;
  now?: () => number;
  onReport?: ReportSink;
}

export interface TopicEncryption {
  decrypt: DecryptProcessor;
  seal(body: Uint8Array): Uint8Array;
  stats(): DecryptStats;
}

export function topicKeyEncryption(options: TopicKeyEncryptionOptions): TopicEncryption {
  const key = TopicKey.fromBytes(options.key, topicId(options.topic));
  const random = options.random ?? systemRandom;
  const decrypt = new DecryptProcessor({ mode: { type: 'topic-key', key }, now: options.now ?? Date.now, onReport: options.onReport });
  return { decrypt, seal: (body) => key.seal(body, options.author, random), stats: () => decrypt.stats() };
}
