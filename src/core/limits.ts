/** Default encoding limits (DESIGN.md appendix); every one is configurable. */
export interface Limits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxHeaderBytes: 8 * 1024,
  maxBodyBytes: 1024 * 1024,
};
