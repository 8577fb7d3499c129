/**
 * The message scheme: DCGKA group key agreement with forward secrecy and
 * post-compromise security (Weidner et al., CCS 2021), as
 * p2panda-encryption's message_scheme follows it. See dcgka.ts for the
 * protocol, ratchet.ts for the message ratchets and their bounds, group.ts
 * for sealing and opening, docs/encryption.md for the guarantees.
 */
export { Dcgka, MAX_MEMBER_SECRETS, type DcgkaState, type DcgkaStep, type EpochStart } from './dcgka.ts';
export { MAX_EPOCHS_PER_SENDER, MAX_OWN_PLAINTEXTS, MessageGroup, type MessageGroupConfig, type MessageGroupState, type MessageOutput } from './group.ts';
export { CONTROL_TYPES, decodeSchemeMessage, encodeSchemeMessage, MAX_MEMBERS, type ControlType, type SchemeMessage } from './messages.ts';
export { MAX_OUT_OF_ORDER, MAX_SKIP } from './ratchet.ts';
export { decodeSealedMessage, encodeMessageControl, MESSAGE_CONTROL_KIND, MESSAGE_KIND } from './sealed.ts';
export { decodeMessageState, encodeMessageState, messageStateFile, openMessageState, saveMessageState, type PersistedMessageGroup } from './state-file.ts';
