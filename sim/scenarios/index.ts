import type { ScenarioOptions, ScenarioResult } from './common.ts';
import { runByzantine } from './byzantine.ts';
import { runChurn } from './churn.ts';
import { runFailure } from './failure.ts';
import { runPartition } from './partition.ts';
import { runStable } from './stable.ts';

export type { ScenarioOptions, ScenarioResult } from './common.ts';
export { runByzantine, runChurn, runFailure, runPartition, runStable };

export const SCENARIOS: Record<string, (opts: ScenarioOptions) => ScenarioResult> = {
  stable: runStable,
  failure: runFailure,
  churn: runChurn,
  partition: runPartition,
  byzantine: runByzantine,
};
