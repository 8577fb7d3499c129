/** The auth layer's operation body (src/auth/codec.ts). */
import { decodeAuthBody, encodeAuthBody, MAX_AUTH_DEPS, type AuthBody } from '../../src/auth/index.ts';
import { toHex } from '../../src/core/index.ts';
import type { Target } from '../target.ts';

export const authBody: Target = {
  name: 'auth-body',
  format: 'cbor',
  about: 'decodeAuthBody: a group action (create/add/remove/promote/demote) with its dependencies',
  seeds: (rng) => {
    const id = () => toHex(rng.bytes(32));
    const member = () => ({ kind: rng.oneIn(3) ? ('group' as const) : ('individual' as const), id: id() });
    const access = () => (rng.oneIn(2) ? { level: rng.below(4) } : { level: rng.below(4), expires: rng.u32() * 1000 });
    const deps = () => Array.from({ length: rng.below(MAX_AUTH_DEPS + 1) }, id);
    const bodies: AuthBody[] = [
      { deps: [], action: { type: 'create', members: Array.from({ length: 1 + rng.below(40) }, () => ({ member: member(), access: access() })) } },
      { deps: deps(), action: { type: 'add', group: id(), member: member(), access: access() } },
      { deps: deps(), action: { type: 'remove', group: id(), member: member() } },
      { deps: deps(), action: { type: 'promote', group: id(), member: member(), access: access() } },
      { deps: deps(), action: { type: 'demote', group: id(), member: member(), access: access() } },
    ];
    return bodies.map(encodeAuthBody);
  },
  run: (input) => decodeAuthBody(input),
};
