/**
 * Real networks for tests, made of Linux network namespaces on this machine:
 * namespaces as hosts and routers, veth pairs as cables, bridges as
 * switches, nftables for NAT. Every name carries this process's id, so a
 * crashed run's leftovers are recognised and removed by the next run, and
 * `cleanup()` runs on test end and on process exit whatever happened.
 * Nothing here reaches outside its own namespaces: none is linked to the
 * machine's own network.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

const PREFIX = 'wa';

function ip(args: string[], input?: string): string {
  return execFileSync('ip', args, { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 }).toString();
}

/** Why namespace tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespaces need root (ip netns add)';
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'nftables (the nft command) is not installed: apt-get install nftables';
  }
  const probe = `${PREFIX}${process.pid}probe`;
  try {
    ip(['netns', 'add', probe]);
    ip(['netns', 'exec', probe, 'nft', 'list', 'ruleset']);
  } catch (err) {
    return `namespaces not permitted here: ${String((err as Error).message)
      .split('\n')[0]
      .slice(0, 160)}`;
  } finally {
    try {
      ip(['netns', 'del', probe]);
    } catch {
      // never made
    }
  }
  return undefined;
}

/** Removes namespaces left by runs whose process is gone. */
function sweepStale(): void {
  let list = '';
  try {
    list = ip(['netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    const pid = Number(/^wa(\d+)-/.exec(name)?.[1]);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      try {
        ip(['netns', 'del', name]);
      } catch {
        // gone meanwhile
      }
    }
  }
}

export class Lab {
  readonly #names: string[] = [];
  readonly #children = new Set<ChildProcessWithoutNullStreams>();
  readonly #tag: string;
  #links = 0;
  #onExit = () => this.cleanup();

  constructor(tag: string) {
    sweepStale();
    this.#tag = `${PREFIX}${process.pid}-${tag}`;
    process.once('exit', this.#onExit);
  }

  /** A new namespace (a host or router) with loopback up; returns its full name. */
  host(name: string): string {
    const full = `${this.#tag}-${name}`;
    ip(['netns', 'add', full]);
    this.#names.push(full);
    this.exec(full, ['ip', 'link', 'set', 'lo', 'up']);
    return full;
  }

  exec(ns: string, command: string[], input?: string): string {
    return ip(['netns', 'exec', ns, ...command], input);
  }

  /** A cable: a veth pair between two namespaces, each end with an address (CIDR) or none. Returns the two interface names. */
  cable(a: string, aAddress: string | undefined, b: string, bAddress: string | undefined): [string, string] {
    const n = this.#links++;
    const [ia, ib] = [`v${n}a`, `v${n}b`];
    ip(['link', 'add', ia, 'netns', a, 'type', 'veth', 'peer', 'name', ib, 'netns', b]);
    for (const [ns, iface, address] of [
      [a, ia, aAddress],
      [b, ib, bAddress],
    ] as const) {
      if (address) this.exec(ns, ['ip', 'addr', 'add', address, 'dev', iface]);
      this.exec(ns, ['ip', 'link', 'set', iface, 'up']);
    }
    return [ia, ib];
  }

  /** A switch: a bridge in namespace `ns`. */
  bridge(ns: string, name: string): string {
    this.exec(ns, ['ip', 'link', 'add', name, 'type', 'bridge']);
    this.exec(ns, ['ip', 'link', 'set', name, 'up']);
    return name;
  }

  /** Plugs interface `iface` of `ns` into its bridge. */
  plug(ns: string, iface: string, bridge: string): void {
    this.exec(ns, ['ip', 'link', 'set', iface, 'master', bridge]);
  }

  /** Takes a cable's end down or up (a link cut, processes untouched). */
  setLink(ns: string, iface: string, up: boolean): void {
    this.exec(ns, ['ip', 'link', 'set', iface, up ? 'up' : 'down']);
  }

  route(ns: string, via: string): void {
    this.exec(ns, ['ip', 'route', 'add', 'default', 'via', via]);
  }

  /**
   * Makes `ns` a NAT router: forwards, masquerades what leaves by `outside`,
   * and drops connections that start outside (a home router without port
   * forwarding). This is Linux netfilter NAT, what most home routers run:
   * it keeps a connection's source port where that port is free on the
   * outside, so one inside port maps to one outside port whatever the
   * destination, and lets in only replies to what went out. Everything
   * else from outside is dropped without an answer, for the hosts behind it
   * and for the router itself, as home routers' WAN side does (a reset would
   * end a hole punch before the other side's packet arrives).
   */
  nat(ns: string, outside: string, mapping: 'keeps-ports' | 'random-ports' = 'keeps-ports'): void {
    this.exec(ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    const fromOutside = `iifname "${outside}" ct state != { established, related } drop;`;
    // 'random-ports': a fresh random outside port per connection, a symmetric NAT (as in much carrier-grade NAT).
    const masquerade = mapping === 'random-ports' ? 'masquerade random' : 'masquerade';
    const rules = [
      'table ip walkaway_nat {',
      `  chain wa_post { type nat hook postrouting priority 100; oifname "${outside}" ${masquerade}; }`,
      `  chain wa_forward { type filter hook forward priority 0; policy accept; ${fromOutside} }`,
      `  chain wa_input { type filter hook input priority 0; policy accept; ${fromOutside} }`,
      '}',
      '',
    ].join('\n');
    this.exec(ns, ['nft', '-f', '-'], rules);
  }

  /** Starts `node <args>` inside `ns`; killed at cleanup. */
  spawn(ns: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#children.add(child);
    child.on('exit', () => this.#children.delete(child));
    return child;
  }

  /** Kills every process started here and deletes every namespace (their veths go with them). Safe to call twice. */
  cleanup(): void {
    for (const child of this.#children) child.kill('SIGKILL');
    this.#children.clear();
    for (const name of this.#names.splice(0)) {
      try {
        ip(['netns', 'del', name]);
      } catch {
        // already gone
      }
    }
    process.off('exit', this.#onExit);
  }
}
