/**
 * `walkaway group create|add|remove|promote|demote|show <topic> [<key>]`:
 * a private topic's members from the shell, offline against the data
 * directory. The node opens with no listener: the auth operations are
 * signed and stored, and travel the next time a chat on the topic runs.
 */
import { topicId, toHex, WalkawayError } from '../core/index.ts';
import { defaultDataDir } from '../node/data-dir.ts';
import { levelName, WRITE } from '../auth/index.ts';
import { PrivateTopics } from '../auth/on-node/private-topic.ts';
import { parse, text, UsageError } from './args.ts';
import { levelArg, memberList, privateOwner, publicKeyArg, rememberPrivate } from './chat-private.ts';

export const GROUP_HELP = `usage: walkaway group <action> <topic> [<public-key>] [options]

Manages a private topic's members, offline, in the data directory; the
changes reach the others the next time "walkaway chat <topic>" runs.
  create <topic>                 make the topic private, you its owner and manager
  add <topic> <key> [--level L]  add a member (default level: write)
  remove <topic> <key>           remove a member (your own key: leave)
  promote <topic> <key> --level L
  demote <topic> <key> --level L
  show <topic>                   the members and their levels

  --level L     pull, read, write or manage
  --data DIR    data directory (default ~/.walkaway)
  --json        print the result as one JSON object`;

const ACTIONS = ['create', 'add', 'remove', 'promote', 'demote', 'show'] as const;
type Action = (typeof ACTIONS)[number];

export async function groupCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { data: { type: 'string' }, level: { type: 'string' }, json: { type: 'boolean' } }, 3, 'group');
  if (values.help) return void console.log(GROUP_HELP);
  const action = positionals[0] as Action;
  if (!ACTIONS.includes(action)) throw new UsageError(`group needs an action (${ACTIONS.join(', ')}); see "walkaway group --help"`);
  const topicName = text(positionals[1], 'the topic', 1024);
  if (!topicName) throw new UsageError(`group ${action} needs a topic; see "walkaway group --help"`);
  const needsKey = action !== 'create' && action !== 'show';
  if (needsKey && !positionals[2]) throw new UsageError(`group ${action} needs a public key; see "walkaway group --help"`);
  if (!needsKey && positionals[2]) throw new UsageError(`group ${action} takes no public key`);
  const member = needsKey ? publicKeyArg(positionals[2]) : undefined;
  const withLevel = action === 'add' || action === 'promote' || action === 'demote';
  if (values.level !== undefined && !withLevel) throw new UsageError(`--level goes with add, promote and demote`);
  if ((action === 'promote' || action === 'demote') && values.level === undefined) throw new UsageError(`group ${action} needs --level`);
  const level = withLevel ? levelArg(text(values.level, '--level', 16), WRITE) : WRITE;
  const dataDir = text(values.data, '--data', 4096) ?? defaultDataDir();

  const { Node } = await import('../node/index.ts');
  const node = await Node.create({ dataDir, storage: 'sqlite', listen: [], mdns: false });
  try {
    const hex = toHex(topicId(topicName));
    const known = privateOwner(node.store, hex);
    if (action === 'create') {
      if (known && known !== node.id) throw new UsageError(`the topic is private already, owned by ${known.slice(0, 8)}`);
      rememberPrivate(node.store, hex, node.id);
    } else if (!known) {
      throw new UsageError(`"${topicName.slice(0, 80)}" is not a private topic in ${dataDir}; "walkaway group create" it first`);
    }
    const room = new PrivateTopics(node).open(topicName, { owner: known ?? node.id });
    await room.stream.settled();
    let result: Record<string, unknown>;
    if (action === 'create') result = { group: await room.create(), owner: room.owner };
    else if (action === 'show') result = { group: room.group ?? null, owner: room.owner, members: memberList(room) };
    else if (action === 'remove') result = { removed: member, op: await room.remove(member!) };
    else result = { member, level: levelName(level), op: await room[action](member!, { level }) };
    print(action, result, values.json === true);
  } catch (err) {
    if (err instanceof WalkawayError && err.code === 'NOT_PERMITTED') throw new UsageError(err.message);
    throw err;
  } finally {
    await node.close();
  }
}

function print(action: Action, result: Record<string, unknown>, json: boolean): void {
  if (json) return void console.log(JSON.stringify({ type: action, ...result }));
  if (action === 'show') {
    console.log(`group ${String(result.group ?? 'not created yet')} (owner ${String(result.owner)})`);
    for (const m of result.members as { member: string; level: string }[]) console.log(`${m.member} ${m.level}`);
    return;
  }
  if (action === 'create') return void console.log(`group ${String(result.group)}`);
  if (action === 'remove') return void console.log(`removed ${String(result.removed)}`);
  console.log(`${String(result.member)} ${String(result.level)}`);
}
