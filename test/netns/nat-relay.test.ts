/**
 * The suite's slice of the namespace tests (the rest: `npm run test:netns`):
 * two nodes behind two NATs talk through a relay, one DCUtR attempt, and the
 * relay carrying them is killed mid-conversation (nat-scenario.ts).
 * Skipped, with the reason, where namespaces cannot be made (not root, not
 * Linux, no nftables).
 */
import { test } from 'node:test';
import { natScenario } from './nat-scenario.ts';
import { netnsUnavailable } from './netns.ts';

const unavailable = netnsUnavailable();

test('behind two NATs: through a relay, DCUtR tried once, the relay killed mid-conversation', { skip: unavailable && `skipped: ${unavailable}` }, (t) =>
  natScenario(t, 1),
);
