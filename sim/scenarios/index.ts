import type { ScenarioOptions, ScenarioResult } from './common.ts';
import { runByzantine } from './byzantine.ts';
import { runChurn } from './churn.ts';
import { runFailure } from './failure.ts';
import { runNodes } from './nodes.ts';
import { runPartition } from './partition.ts';
import { runStable } from './stable.ts';

export type { ScenarioOptions, ScenarioResult } from './common.ts';
export { runByzantine, runChurn, runFailure, runNodes, runPartition, runStable };

export const SCENARIOS: Record<string, (opts: ScenarioOptions) => ScenarioResult | Promise<ScenarioResult>> = {
  stable: runStable,
  failure: runFailure,
  churn: runChurn,
  partition: runPartition,
  byzantine: runByzantine,
  nodes: runNodes,
};
