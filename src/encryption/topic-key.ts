/**
 * A topic key: 32 bytes agreed out of band (in a ticket, or `--key`) that
 * encrypt every body of one topic. Whoever holds the key reads and writes;
 * there is no removal short of moving to a new key (use the group scheme for
 * that). Bodies are sealed under a key derived per topic and per purpose.
 */
import { bytesEqual, fromHex, WalkawayError } from '../core/index.ts';
import { BodyKey, SECRET_LENGTH } from './body-key.ts';
import { BODY_KIND, decodeEnvelope, type Envelope } from './envelope.ts';
import type { RandomSource } from './random.ts';

export class TopicKey {
  private readonly body: BodyKey;

  private constructor(key: Uint8Array, topic: Uint8Array) {
    this.body = new BodyKey(BODY_KIND.topicKey, key, topic);
  }

  /** `key` is the 32-byte pre-shared key; `topic` the topic id it is for. */
  static fromBytes(key: Uint8Array, topic: Uint8Array): TopicKey {
    if (key.length !== SECRET_LENGTH) {
      throw new WalkawayError('INVALID_ARGUMENT', `a topic key is ${SECRET_LENGTH} bytes, got ${key.length}`);
    }
    return new TopicKey(key, topic);
  }

  static fromHex(hex: string, topic: Uint8Array): TopicKey {
    return TopicKey.fromBytes(fromHex(hex), topic);
  }

  /** A fresh random key, for `walkaway chat --private` style invitations. */
  static generateBytes(random: RandomSource): Uint8Array {
    return random(SECRET_LENGTH);
  }

  get keyId(): Uint8Array {
    return this.body.keyId;
  }

  seal(plaintext: Uint8Array, author: Uint8Array, random: RandomSource): Uint8Array {
    return this.body.seal(plaintext, author, random);
  }

  /**
   * The plaintext of a body of this topic by `author`. MALFORMED or
   * UNSUPPORTED_VERSION for a body that is not a sealed body, MISSING_KEY for
   * one sealed under another key, DECRYPTION_FAILED for one that was changed.
   */
  open(body: Uint8Array, author: Uint8Array): Uint8Array {
    return this.openEnvelope(decodeEnvelope(body), author);
  }

  /** As `open`, for a body whose envelope the caller has already split. */
  openEnvelope(envelope: Envelope, author: Uint8Array): Uint8Array {
    if (envelope.kind !== BODY_KIND.topicKey) {
      throw new WalkawayError('MALFORMED', `a topic-key topic holds only topic-key bodies, got kind ${envelope.kind}`);
    }
    if (!bytesEqual(envelope.keyId, this.body.keyId)) {
      throw new WalkawayError('MISSING_KEY', 'body is sealed under another topic key', { keyId: this.body.keyIdHex });
    }
    return this.body.open(envelope, author);
  }
}
