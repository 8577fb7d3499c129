/**
 * encryption: bodies that only members can read, while headers stay in clear
 * so that sync, gossip and relays keep working for peers without keys.
 *
 * Two modes. A topic key: 32 bytes agreed out of band encrypt every body of
 * a topic (XChaCha20-Poly1305 under HKDF-derived keys, per topic and per
 * purpose). The group data scheme of p2panda-encryption (after Weidner et
 * al., "Key Agreement for Decentralized Secure Group Messaging with Strong
 * Security Guarantees", CCS 2021): two-party channels (X3DH over signed
 * pre-key bundles, then HPKE, RFC 9180), a fresh group secret on create,
 * update and remove, welcomes that carry the history a newcomer may read,
 * post-compromise security after a removal or an update, and an explicit
 * rule for the concurrent-removal hazard (docs/encryption.md).
 *
 * Guarantees: a body that was changed, moved to another author or topic, or
 * sealed under another key never opens (typed errors); primitives come only
 * from @noble/* and @hpke/*; all randomness is an injected `RandomSource`.
 * `DecryptProcessor` is the decryption slot of a topic's processor chain.
 *
 * A third mode, the message scheme (message-scheme/): DCGKA proper, with
 * forward secrecy and post-compromise security, one key per message.
 */
export { type RandomSource, systemRandom, seededRandom } from './random.ts';
export { deriveKey, type KeyPurpose } from './kdf.ts';
export { BODY_KIND, ENVELOPE_VERSION, KEY_ID_LENGTH, NONCE_LENGTH, decodeEnvelope, type Envelope } from './envelope.ts';
export { BodyKey, SECRET_LENGTH, keyIdOf } from './body-key.ts';
export { TopicKey } from './topic-key.ts';
export {
  DEFAULT_PREKEY_LIFETIME_MS,
  bundleOf,
  checkLifetime,
  decodeBundle,
  encodeBundle,
  generateMemberKeys,
  rotatePreKey,
  type MemberKeys,
  type PreKeyBundle,
} from './prekeys.ts';
export { newTwoPartyState, receiveTwoParty, sendTwoParty, type TwoPartyState } from './two-party.ts';
export { decodeControlMessage, encodeControlMessage, type ControlMessage, type SecretReason } from './control.ts';
export { GroupEncryption, type GroupEncryptionConfig, type GroupEncryptionState } from './data-scheme.ts';
export { DecryptProcessor, DEFAULT_DECRYPT_CONFIG, type DecryptConfig, type DecryptMode, type DecryptStats } from './decrypt-processor.ts';
export type { ControlInput, GroupMembership, GroupOutput, HistoryPolicy, MembershipChange } from './types.ts';
export {
  groupTopicEncryption,
  messageTopicEncryption,
  topicKeyEncryption,
  type GroupTopicEncryption,
  type GroupTopicOptions,
  type MessageTopicEncryption,
  type MessageTopicOptions,
  type TopicEncryption,
  type TopicKeyEncryptionOptions,
} from './encrypted-topic.ts';
export { AuthMembership, readerChanges } from './auth-membership.ts';
export { decodeGroupState, encodeGroupState, groupStateFile, openGroupState, saveGroupState, MAX_GROUP_STATE_BYTES, type PersistedGroup } from './group-state-file.ts';
export {
  MAX_EPOCHS_PER_SENDER,
  MAX_MEMBERS,
  MAX_OUT_OF_ORDER,
  MAX_SKIP,
  MessageGroup,
  messageStateFile,
  openMessageState,
  type MessageGroupConfig,
  type MessageGroupState,
  type MessageOutput,
  type PersistedMessageGroup,
} from './message-scheme/index.ts';
