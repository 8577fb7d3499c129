/**
 * The chat's relay flags: `--use-relay ADDR` must name the relay's peer id,
 * and serving as a relay is on by default where peers can reach this machine
 * from anywhere (an interface with a public address).
 */
import { networkInterfaces } from 'node:os';
import { isPrivate } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { address, UsageError } from './args.ts';

export function relayAddress(value: string): string {
  address(value, '--use-relay', 'dial');
  if (value.includes('/p2p-circuit') || !/\/p2p\/[A-Za-z0-9]+$/.test(value)) {
    throw new UsageError(`--use-relay ${JSON.stringify(value.slice(0, 80))} must end in /p2p/<relay peer id>, e.g. /ip4/203.0.113.7/tcp/4078/p2p/12D3KooW...`);
  }
  return value;
}

/** Whether an interface of this machine has a public (libp2p's sense: not loopback, private, link-local or reserved) address. */
export function hasPublicAddress(interfaces = networkInterfaces()): boolean {
  return Object.values(interfaces)
    .flat()
    .some((i) => i !== undefined && !i.internal && !/^fe80:/i.test(i.address) && !isPrivate(multiaddr(`/${i.family === 'IPv4' ? 'ip4' : 'ip6'}/${i.address}/tcp/1`)));
}
