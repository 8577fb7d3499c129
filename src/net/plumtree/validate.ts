import { describeValue } from '../../core/errors.ts';
import type { PlumTreeMessage } from './types.ts';

const MAX_HOP = 1024;

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 128;
}

/** Ages are milliseconds; a day is far past any age a node accepts. */
const MAX_AGE_MS = 86_400_000;

function isAge(value: unknown): boolean {
  return value === undefined || (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_AGE_MS);
}

function isHop(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_HOP;
}

/**
 * Checks the shape of a broadcast message that came off the wire. Returns
 * null when it is well formed, otherwise why not.
 */
export function checkPlumTreeMessage(msg: unknown, maxMessageSize: number, maxIhaveIds: number): string | null {
  if (typeof msg !== 'object' || msg === null) return 'not an object';
  const m = msg as Record<string, unknown>;
  switch (m.type) {
    case 'gossip':
      if (!isId(m.id) || !isHop(m.hop) || !(m.payload instanceof Uint8Array)) {
        return 'gossip needs an id, a hop in 0..1024 and a Uint8Array payload';
      }
      if (!isAge(m.age)) return 'gossip age must be whole milliseconds, at most a day';
      return m.payload.length > maxMessageSize ? `gossip payload of ${m.payload.length} bytes is over ${maxMessageSize}` : null;
    case 'ihave': {
      const { ids, hops } = m;
      if (!Array.isArray(ids) || !Array.isArray(hops) || ids.length !== hops.length || ids.length > maxIhaveIds) {
        return `ihave needs ids and hops of equal length, at most ${maxIhaveIds}`;
      }
      return ids.every(isId) && hops.every(isHop) ? null : 'ihave has a bad id or hop';
    }
    case 'graft':
      return m.id === null || isId(m.id) ? null : 'graft id must be null or a message id';
    case 'prune':
      return null;
    default:
      return `unknown broadcast message type ${describeValue(m.type)}`;
  }
}

export function isPlumTreeMessage(msg: unknown, maxMessageSize = 16 * 1024, maxIhaveIds = 256): msg is PlumTreeMessage {
  return checkPlumTreeMessage(msg, maxMessageSize, maxIhaveIds) === null;
}
