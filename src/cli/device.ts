/**
 * `walkaway device add|remove|list [<public-key>]`: this person's devices,
 * offline against the data directory. A person is a group of devices
 * (src/auth/identity.ts), each device a manager of it. The group lives on
 * each private topic's auth log, because an auth operation may name only
 * groups in its own causal past; so on every private topic of this data
 * directory:
 * - the first `device add` creates the identity (this device and the new
 *   one) and grants it this device's own access, which needs manage there;
 * - later adds and removes change the identity, so a device gets, or loses,
 *   the person's access on every such topic at once.
 * The operations travel the next time a chat on the topic runs.
 */
import { fromHex, isWalkawayError, toHex } from '../core/index.ts';
import { defaultDataDir } from '../node/data-dir.ts';
import type { Node } from '../node/index.ts';
import { addDevice, createIdentity, devicesOf, grantIdentity, levelName, MANAGE, removeDevice } from '../auth/index.ts';
import { PrivateTopics, type PrivateTopic } from '../auth/on-node/private-topic.ts';
import { parse, text, UsageError } from './args.ts';
import { privateOwner, privateTopics, publicKeyArg } from './chat-private.ts';

export const DEVICE_HELP = `usage: walkaway device <add | remove | list> [<public-key>] [--data DIR] [--json]

Your devices: each one gets your access on every private topic of this data
directory (run "walkaway id --data DIR" on the device for its key).
  add <key>      add a device (on a topic where you hold manage, the first add also
                 grants your identity your level there)
  remove <key>   remove a lost device everywhere at once
  list           your devices, per private topic
  --data DIR     data directory (default ~/.walkaway)
  --json         one JSON object per topic`;

/** Store cursor: topic hex → the id of this person's identity group on that topic. */
const IDENTITY_CURSOR = 'walkaway-device/identity/';

export async function deviceCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { data: { type: 'string' }, json: { type: 'boolean' } }, 2, 'device');
  if (values.help) return void console.log(DEVICE_HELP);
  const action = positionals[0];
  if (action !== 'add' && action !== 'remove' && action !== 'list') throw new UsageError('device needs an action (add, remove, list); see "walkaway device --help"');
  if (action === 'list' && positionals[1]) throw new UsageError('device list takes no public key');
  const device = action === 'list' ? undefined : publicKeyArg(positionals[1]);
  const dataDir = text(values.data, '--data', 4096) ?? defaultDataDir();

  const { Node } = await import('../node/index.ts');
  const node = await Node.create({ dataDir, storage: 'sqlite', listen: [], mdns: false });
  try {
    if (device === node.id) throw new UsageError('that is this device');
    const topics = privateTopics(node.store);
    if (topics.length === 0) throw new UsageError(`no private topic in ${dataDir} yet ("walkaway chat <topic> --private" or a private ticket)`);
    const rooms = new PrivateTopics(node);
    for (const hex of topics) {
      const room = rooms.open(fromHex(hex), { owner: privateOwner(node.store, hex) });
      await room.stream.settled();
      const result = await onTopic(node, room, action, device);
      print({ topic: hex, ...result }, values.json === true);
    }
  } finally {
    await node.close();
  }
}

async function onTopic(node: Node, room: PrivateTopic, action: 'add' | 'remove' | 'list', device: string | undefined): Promise<Record<string, unknown>> {
  const key = IDENTITY_CURSOR + toHex(room.topic);
  const stored = node.store.getCursor(key);
  let identity = stored ? new TextDecoder().decode(stored) : undefined;
  try {
    if (action === 'add' && !identity) {
      const own = room.ownAccess();
      if (!room.group || !own || own.level < MANAGE) return { skipped: `your identity needs a manager here (you hold ${own ? levelName(own.level) : 'no access'})` };
      identity = await room.act(createIdentity([node.id, device!]));
      node.store.setCursor(key, new TextEncoder().encode(identity));
      await room.act(grantIdentity(room.group, identity, own));
    } else if (action === 'add') {
      await room.act(addDevice(identity!, device!));
    } else if (action === 'remove' && identity) {
      await room.act(removeDevice(identity, device!));
    }
  } catch (err) {
    if (!isWalkawayError(err)) throw err;
    return { identity: identity ?? null, error: err.message };
  }
  return { identity: identity ?? null, devices: identity ? devicesOf(room.state, identity) : [node.id] };
}

function print(result: Record<string, unknown>, json: boolean): void {
  if (json) return void console.log(JSON.stringify({ type: 'devices', ...result }));
  const topic = String(result.topic).slice(0, 8);
  if (result.skipped || result.error) return void console.log(`topic ${topic}: ${String(result.skipped ?? result.error)}`);
  console.log(`topic ${topic}: ${(result.devices as string[]).join(' ')}`);
}
