/**
 * Every namespace test with the full counts (`npm run test:netns`): the NAT
 * scenario with NETNS_ATTEMPTS hole-punch trials (default 10) and 2 behind a
 * symmetric NAT, then the
 * partition and discovery test (partition.netns.ts). Figures print as test
 * diagnostics; docs/network-breaks.md records them.
 */
import { test } from 'node:test';
import { natScenario } from './nat-scenario.ts';
import { netnsUnavailable } from './netns.ts';
import './partition.netns.ts';

const unavailable = netnsUnavailable();
const attempts = Number(process.env.NETNS_ATTEMPTS ?? 10);

test(
  `behind two NATs: through a relay, DCUtR tried ${attempts} times (and 2 behind a symmetric NAT), the relay killed mid-conversation`,
  { skip: unavailable && `skipped: ${unavailable}` },
  (t) => natScenario(t, { attempts, symmetricAttempts: 2 }),
);
