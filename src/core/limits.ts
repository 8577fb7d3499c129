/** Default encoding limits (DESIGN.md appendix); every one is configurable. */
export interface Limits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxHeaderBytes: 8 * 1024,
  maxBodyBytes: 1024 * 1024,
};

/**
 * Most hashes in the `previous` of a causal header: a wire rule (receivers
 * refuse more with TOO_LARGE) and what `createOperation` accepts. The largest
 * header then is 1 + 1 + 34 (key) + 66 (signature) + 5 + 34 (payload) + 5 + 34
 * (seqNum, backlink) + 3 + 34 + 9 (extensions head, logId, timestamp) + 2 +
 * 32 * 34 (previous) = 1316 bytes, far below the 8 KiB receivers allow, so
 * no choice of heads can make a header that peers refuse. 32 concurrent
 * branches is more than a topic's writers produce between two operations;
 * a node with more heads names the newest 32 (the others stay reachable
 * through later operations), so a flood of throwaway seq-0 heads cannot
 * silence an author.
 */
export const MAX_PREVIOUS = 32;
