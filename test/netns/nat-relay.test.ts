/**
 * The suite's slice of the namespace tests (the rest: `npm run test:netns`):
 * two nodes behind two NATs punch a hole (one trial, a second if the first
 * failed); then A and a node without a dial port talk through a relay, and
 * the relay carrying them is killed mid-conversation (nat-scenario.ts).
 * Skipped, with the reason, where namespaces cannot be made (not root, not
 * Linux, no nftables).
 */
import { test } from 'node:test';
import { natScenario } from './nat-scenario.ts';
import { netnsUnavailable } from './netns.ts';

const unavailable = netnsUnavailable();

test(
  'behind two NATs: a hole punch upgrades a relayed connection; through a relay, the relay killed mid-conversation',
  { skip: unavailable && `skipped: ${unavailable}` },
  (t) => natScenario(t, { attempts: 2, untilUpgraded: true }),
);
