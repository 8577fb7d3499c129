/** The chat's messages: JSON in the operation body (persisted) or the ephemeral body (presence). */
export interface ChatMessage {
  type: 'message';
  name: string;
  text: string;
}

export interface Presence {
  type: 'presence';
  name: string;
}

const MAX_NAME = 64;

export function encodeChat(message: ChatMessage | Presence): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message));
}

/** Decodes a body from anyone; anything unexpected is undefined (never a throw). */
export function decodeChat(body: Uint8Array | undefined): ChatMessage | Presence | undefined {
  if (!body) return undefined;
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as Record<string, unknown>;
    const name = typeof value.name === 'string' ? value.name.slice(0, MAX_NAME) : 'anonymous';
    if (value.type === 'message' && typeof value.text === 'string') return { type: 'message', name, text: value.text };
    if (value.type === 'presence') return { type: 'presence', name };
  } catch {
    // not a chat message
  }
  return undefined;
}
