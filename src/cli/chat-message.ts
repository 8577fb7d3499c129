/** The chat's messages: JSON in the operation body (persisted) or the ephemeral body (presence). */
export interface ChatMessage {
  type: 'message';
  name: string;
  text: string;
}

/** A webxdc app shared into the room (src/cli/chat-apps.ts). */
export interface AppMessage {
  type: 'app';
  name: string;
  app: { topic: string; title: string; sha: string; size: number };
}

export interface Presence {
  type: 'presence';
  name: string;
}

const MAX_NAME = 64;

export function encodeChat(message: ChatMessage | AppMessage | Presence): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message));
}

/** Decodes a body from anyone; anything unexpected is undefined (never a throw). */
export function decodeChat(body: Uint8Array | undefined): ChatMessage | AppMessage | Presence | undefined {
  if (!body) return undefined;
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as Record<string, unknown>;
    const name = typeof value.name === 'string' ? value.name.slice(0, MAX_NAME) : 'anonymous';
    if (value.type === 'message' && typeof value.text === 'string') return { type: 'message', name, text: value.text };
    if (value.type === 'presence') return { type: 'presence', name };
    if (value.type === 'app') {
      const app = (value.app ?? {}) as Record<string, unknown>;
      const hex = /^[0-9a-f]{64}$/;
      if (typeof app.topic !== 'string' || !hex.test(app.topic) || typeof app.sha !== 'string' || !hex.test(app.sha)) return undefined;
      if (typeof app.title !== 'string' || !Number.isSafeInteger(app.size)) return undefined;
      return { type: 'app', name, app: { topic: app.topic, title: app.title.slice(0, 128), sha: app.sha, size: app.size as number } };
    }
  } catch {
    // not a chat message
  }
  return undefined;
}
