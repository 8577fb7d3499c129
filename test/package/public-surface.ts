/**
 * The package's public surface, as docs/interfaces.md lists it: the values
 * the root exports (exactly these; types are checked by the TypeScript
 * consumer in consumer.test.ts), values each subpath must export, and
 * internals no entry exports (tests import those from their files). A change
 * here is a change of the public API: update docs/interfaces.md with it.
 */
export const ROOT_VALUES = [
  'Hash',
  'LiveDag',
  'LiveLog',
  'LiveMap',
  'LiveSet',
  'Node',
  'PrivateKey',
  'PublicKey',
  'WalkawayError',
  'decodeTicket',
  'encodeTicket',
  'isTicket',
  'isWalkawayError',
];

export const SUBPATH_VALUES: Record<string, string[]> = {
  core: ['PrivateKey', 'PublicKey', 'Hash', 'createOperation', 'decodeOperation', 'validateBacklink', 'WalkawayError', 'topicId'],
  store: ['SqliteStore', 'MemoryStore', 'openStore'],
  sync: ['SyncSession', 'syncOverStream', 'BroadcastSync', 'FrameDecoder', 'encodeFrames'],
  processors: ['pipeline', 'ProcessorChain', 'CausalOrderer', 'PruneProcessor', 'LwwMap', 'GrowOnlySet', 'OperationDag', 'LogView'],
  net: ['HyParView', 'PlumTree', 'Overlay', 'TopicOverlays', 'createRandom', 'Libp2pTransport', 'MemoryNetwork', 'MemoryTransport'],
  node: ['Node', 'LiveMap', 'decodeTicket'],
  auth: ['GroupState', 'AccessControlProcessor', 'encodeAuthBody', 'decodeAuthBody', 'authLogIdFor', 'membershipView', 'createIdentity'],
};

export const INTERNALS: Record<string, string[]> = {
  core: ['scanCbor', 'STRICT_CBOR', 'DEFAULT_CBOR_LIMITS', 'HEADER_CBOR_LIMITS', 'sortPrevious', 'exactBytes', 'decodeHeaderFast'],
  store: ['SCHEMA_VERSION', 'ingestOperation', 'prepareStatements'],
  sync: ['IngestPipeline', 'sharedVerifyPool', 'verifyTips', 'encodeMessage', 'decodeMessage', 'maxMessageBytes', 'MAX_HAVE_ENTRIES', 'SYNC_CBOR_LIMITS', 'duplexPair'],
  processors: ['hashKey', 'compareStamps', 'stampOf', 'keyToHash', 'emptyReleasedSet'],
  net: ['SplitMix32', 'mixSeed', 'sample', 'takeRandom', 'GossipService', 'SyncService', 'AddressBook', 'FrameDecoder'],
  node: ['TopicState', 'GossipValidator', 'AheadBuffer'],
  auth: ['Ancestry', 'resolveStrongRemoval', 'removedBy', 'AUTH_BODY_LIMITS'],
};
