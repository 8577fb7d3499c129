/**
 * auth: who may do what in a group, as a CRDT over signed operations
 * (create, add, remove, promote, demote), sans-IO and pure. Access levels
 * pull < read < write < manage, each with an optional expiry; members are
 * individuals (public keys) or nested groups (a person's devices form one);
 * every action is checked against the group at its own causal
 * dependencies; strong removal ignores the concurrent actions of a removed
 * or demoted manager, transitively, and a mutual removal removes everyone
 * in the cycle. The result is the same for every causal delivery order.
 * The design follows p2panda-auth and the causal-length set of Yu and
 * Rostad, "A Low-Cost Set CRDT Based on Causal Lengths" (PaPoC 2020).
 * docs/auth.md has the rules and their reasons.
 */
export * from './types.ts';
export { GroupState } from './group-state.ts';
export {
  AUTH_BODY_VERSION,
  MAX_AUTH_DEPS,
  MAX_CREATE_GRANTS,
  encodeAuthBody,
  decodeAuthBody,
  authOpOf,
  type AuthBody,
} from './codec.ts';
export { AccessControlProcessor, authLogIdFor, type AccessControlConfig, type AccessEvent } from './access-processor.ts';
export { membershipView, readerChangeOf, type MembershipView } from './membership-view.ts';
export { individual, groupMember, createIdentity, addDevice, removeDevice, grantIdentity, devicesOf } from './identity.ts';
