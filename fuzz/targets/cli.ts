/**
 * CLI arguments, parsed in-process: the input is argv joined with NUL bytes;
 * the first word picks the command as src/cli/main.ts does, then the
 * command's parse and checks run as in its command function, up to (not
 * including) anything with effects. The chat's flags are its own table; the
 * small tables of id, ticket and relay are repeated here: keep them in step
 * with src/cli/main.ts.
 */
import { isWalkawayError, networkId, topicId } from '../../src/core/index.ts';
import { parse, port, text, UsageError } from '../../src/cli/args.ts';
import { CHAT_OPTIONS } from '../../src/cli/chat-options.ts';
import { decodeTicket, encodeTicket, isTicket } from '../../src/node/ticket.ts';
import { utf8Bytes, type Target } from '../target.ts';

const ID = { data: { type: 'string' } } as const;
const TICKET = { data: { type: 'string' }, port: { type: 'string' }, network: { type: 'string' } } as const;
const RELAY = { port: { type: 'string' }, network: { type: 'string' }, data: { type: 'string' }, json: { type: 'boolean' } } as const;

const decoder = new TextDecoder();

export function parseCommandLine(argv: string[]): unknown {
  const [command, ...rest] = argv;
  switch (command) {
    case 'chat': {
      const { values, positionals } = parse(rest, CHAT_OPTIONS, 1);
      if (values.help) return 'help';
      const topic = positionals[0];
      if (!topic) throw new UsageError('chat needs a topic or a ticket');
      if (topic.length > 4096) throw new UsageError('the topic is too long');
      const name = text(values.name, '--name', 64);
      const data = text(values.data, '--data', 4096);
      const ports = [port(values.port, '--port'), port(values['web-port'], '--web')];
      const network = text(values.network, '--network');
      if (isTicket(topic) && network) throw new UsageError('a ticket carries its network id: drop --network');
      // The node reads the ticket (or hashes the topic name) next.
      const where = isTicket(topic) ? decodeTicket(topic) : topicId(topic);
      return { name, data, ports, network: network && networkId(network), where };
    }
    case 'id': {
      const { values } = parse(rest, ID, 0);
      return text(values.data, '--data', 4096);
    }
    case 'ticket': {
      const { values, positionals } = parse(rest, TICKET, 1);
      if (values.help) return 'help';
      if (!positionals[0]) throw new UsageError('ticket needs a topic');
      return [text(values.data, '--data', 4096), port(values.port, '--port'), networkId(text(values.network, '--network')), topicId(positionals[0])];
    }
    case 'relay': {
      const { values } = parse(rest, RELAY, 0);
      return [port(values.port, '--port'), text(values.network, '--network'), text(values.data, '--data', 4096)];
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      return 'help';
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

const argvBytes = (argv: string[]) => utf8Bytes(argv.join('\0'));
const ticketText = encodeTicket({ networkId: networkId('x'), topic: topicId('y'), addresses: ['/ip4/1.2.3.4/tcp/4077'] });

export const args: Target = {
  name: 'args',
  format: 'text',
  about: 'CLI argv: args.ts parse and the checks of chat, id, ticket and relay (UsageError is documented)',
  seeds: () =>
    [
      ['chat', 'room', '--name', 'daphne', '--web', '8080', '--port', '0', '--json'],
      ['chat', 'room', '--web', '--multicast', '--no-mdns', '--bootstrap', '/ip4/127.0.0.1/tcp/4077', '--bootstrap', '/ip4/1.1.1.1/tcp/1'],
      ['chat', ticketText, '--data', '/tmp/x', '--listen', '/ip4/0.0.0.0/tcp/0'],
      ['chat', 'room', '--network', 'home', '--name=bobby', '-h'],
      ['id', '--data', '/tmp/walkaway'],
      ['ticket', 'room', '--port', '4077', '--network', 'net'],
      ['relay', '--port', '4078', '--json', '--data', 'd'],
      ['help'],
    ].map(argvBytes),
  expected: (err) => err instanceof UsageError || isWalkawayError(err),
  // argv is read once per process, from its own user: node's parseArgs takes 0.5-1.6 ms to refuse an unknown option.
  budgetUsPerKiB: 5000,
  dictionary: [
    '\0',
    '--',
    '-',
    '=',
    '--web',
    '--port',
    '--name',
    '--data',
    '--network',
    '--json',
    '--bootstrap',
    '--listen',
    '--web-port',
    '--no-mdns',
    '-h',
    '--help',
    'walkaway:',
    '65535',
    '65536',
    '-1',
    '0x10',
    '1e3',
    'chat',
    'id',
    'ticket',
    'relay',
    '__proto__',
    'constructor',
    '--__proto__',
    '--toString',
    '\ud800',
  ].map(utf8Bytes),
  run: (input) => parseCommandLine(decoder.decode(input).split('\0')),
};
