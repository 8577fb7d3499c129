/**
 * A chat on one topic: a Node, the topic's stream (messages, persisted) and
 * ephemeral stream (presence), turned into plain JSON events for the
 * terminal, `--json` and the web page alike.
 */
import { EventEmitter } from 'node:events';
import { toHex, topicId, WalkawayError } from '../core/index.ts';
import { decodeTicket, encodeTicket, isTicket, Node, type NodeOptions, type TopicStream } from '../node/index.ts';
import type { ChatEncryption } from './chat-encryption.ts';
import { PrivateTopics, type PrivateTopic } from '../auth/on-node/private-topic.ts';
import { privateGroupChat, type PrivateGroupChat } from './chat-private-encryption.ts';
import { privateMessageChat, type PrivateMessageChat } from './chat-private-message.ts';
import { accessChatEvent, memberList, privateOwner, privateScheme, rememberPrivate, rememberScheme } from './chat-private.ts';
import { UsageError } from './args.ts';
import { decodeChat, encodeChat } from './chat-message.ts';
import { PRESENCE_HEARTBEAT_MS, PRESENCE_SWEEP_MS, PresenceTable } from './presence.ts';

export type ChatEvent = Record<string, unknown> & { type: string };

export interface ChatOptions extends NodeOptions {
  topic: string;
  name: string;
  /** Make the topic private, this node its owner and manager (a ticket with an owner, or a topic known as private, is private anyway). */
  private?: boolean;
  /** A monotonic clock in milliseconds for presence (default performance.now). */
  now?: () => number;
  /** A new private topic under the message scheme (forward secrecy); a known one keeps the scheme it was created with. */
  forwardSecrecy?: boolean;
  /** An encrypted room (chat-encryption.ts); absent: bodies in clear. */
  encryption?: ChatEncryption;
}

const HISTORY = 500;
/** At most one look at this node's addresses per this many ms (they change rarely: a relay reservation, an outside address). */
const ADDRESS_LOOK_MS = 1000;
/** The store cursor that keeps, across restarts, the highest own seqNum a peer is known to hold. */
const SEEN_CURSOR = 'walkaway-chat/seen/';

export class ChatSession extends EventEmitter {
  readonly node: Node;
  /** The room's name as the user typed it; undefined when joined by ticket (tickets carry no name). */
  readonly room: string | undefined;
  readonly topicHex: string;
  /** The topic's group and access control, when the topic is private. */
  readonly private: PrivateTopic | undefined;
  readonly encryption: ChatEncryption | undefined;
  readonly #group: PrivateGroupChat | PrivateMessageChat | undefined;
  #name: string;
  readonly #stream: TopicStream;
  readonly #presence: ReturnType<Node['ephemeralStream']>;
  readonly #presenceTable = new PresenceTable();
  readonly #now: () => number;
  #peerEverSeen = false;
  #seenUpTo = -1;
  readonly #history: ChatEvent[] = [];
  readonly #unseen = new Map<string, number>();
  readonly #scheme: 'message' | undefined;
  #timers: NodeJS.Timeout[] = [];
  #progress = { expected: 0, stored: 0 };
  #stopLooking = () => {};

  private constructor(node: Node, options: ChatOptions) {
    super();
    this.node = node;
    this.#name = options.name;
    this.room = isTicket(options.topic) ? undefined : options.topic;
    const ticket = isTicket(options.topic) ? decodeTicket(options.topic) : undefined;
    const hex = toHex(ticket?.topic ?? topicId(options.topic));
    const known = privateOwner(node.store, hex);
    const owner = known ?? ticket?.owner ?? (options.private ? node.id : undefined);
    // A private room without a topic key is encrypted for its group: the scheme is chosen when the topic is
    // created (--forward-secrecy: the message scheme; else the data scheme), and kept with it and in its tickets.
    const scheme = privateScheme(node.store, hex) ?? ticket?.scheme ?? (options.forwardSecrecy && !known ? 'message' : undefined);
    if (options.forwardSecrecy && scheme !== 'message') throw new UsageError('this private topic was created without --forward-secrecy; its scheme cannot change');
    if (options.forwardSecrecy && options.encryption) throw new UsageError('--forward-secrecy is for private rooms without --key');
    const made = {
      dataDir: options.dataDir ?? '',
      topic: options.topic,
      room: () => this.private,
      onError: (err: Error) => this.#emit({ type: 'error', message: err.message }),
    };
    const group = owner && !options.encryption && options.dataDir ? (scheme === 'message' ? privateMessageChat(made) : privateGroupChat(made)) : undefined;
    if (owner && scheme === 'message') rememberScheme(node.store, hex, scheme);
    this.#scheme = scheme;
    this.#group = group;
    this.encryption = options.encryption ?? group;
    const encrypted = this.encryption?.forNode(node);
    const streamOptions = encrypted ? { encryption: encrypted.encryption } : {};
    if (owner) {
      rememberPrivate(node.store, hex, owner);
      const onEvent = (e: Parameters<typeof accessChatEvent>[0]) => {
        group?.onAccess(e);
        const event = accessChatEvent(e);
        if (event) this.#emit(event);
      };
      this.private = new PrivateTopics(node).open(options.topic, { owner, onEvent, stream: streamOptions });
    }
    this.#stream = this.private?.stream ?? node.stream(options.topic, streamOptions);
    encrypted?.attach?.((body) => this.#stream.tx.publish(body).catch((err: Error) => this.#emit({ type: 'error', message: err.message })));
    this.#presence = node.ephemeralStream(options.topic);
    this.topicHex = toHex(this.#stream.topic);
    this.#now = options.now ?? (() => performance.now());
    const cursor = node.store.getCursor(SEEN_CURSOR + this.topicHex);
    const stored = cursor ? Number(new TextDecoder().decode(cursor)) : -1;
    if (Number.isSafeInteger(stored) && stored >= 0) this.#seenUpTo = stored;
  }

  static async start(options: ChatOptions): Promise<ChatSession> {
    const node = await Node.create(options);
    const chat = new ChatSession(node, options);
    // The owner of a new private topic creates its group, with itself as manager.
    if (chat.private && chat.private.owner === node.id && !chat.private.group) await chat.private.create();
    await chat.#group?.start();
    chat.#wire();
    return chat;
  }

  get name(): string {
    return this.#name;
  }

  /** Changes the name on the next messages, and tells who is online now. */
  rename(name: string): void {
    if (typeof name !== 'string' || name.length === 0 || name.length > 64) throw new WalkawayError('INVALID_ARGUMENT', 'a name is 1 to 64 characters');
    this.#name = name;
    void this.#presence.tx.publish(encodeChat({ type: 'presence', name })).catch(() => {});
  }

  /** Publishes a line; resolves to its operation hash (hex). */
  async send(text: string): Promise<string> {
    if (typeof text !== 'string' || text.length === 0) throw new WalkawayError('INVALID_ARGUMENT', 'a message is a non-empty string');
    const hash = await this.#stream.tx.publish(encodeChat({ type: 'message', name: this.name, text }));
    return hash.toHex();
  }

  /** Tells the room about a shared webxdc app (src/cli/chat-apps.ts); it arrives as a message with `app`. */
  async announceApp(app: { topic: string; title: string; sha: string; size: number }): Promise<string> {
    const hash = await this.#stream.tx.publish(encodeChat({ type: 'app', name: this.name, app }));
    return hash.toHex();
  }

  ready(): ChatEvent {
    const encryption = this.encryption?.mode ?? null;
    const priv = this.private ? { private: { owner: this.private.owner, group: this.private.group ?? null } } : {};
    return {
      type: 'ready',
      id: this.node.id,
      peerId: this.node.peerId,
      addresses: this.node.addresses,
      topic: this.topicHex,
      room: this.room ?? null,
      name: this.name,
      encryption,
      ...priv,
    };
  }

  /** An invite to this room: a ticket, with the topic key for a keyed room (it travels only inside the ticket), and the owner of a private one. */
  ticket(): string {
    const ticket = decodeTicket(this.private ? this.private.ticket() : this.node.ticket(this.#stream.topic));
    if (this.encryption?.key) return encodeTicket({ ...ticket, key: this.encryption.key });
    return encodeTicket(this.#scheme && ticket.owner ? { ...ticket, scheme: this.#scheme } : ticket);
  }

  /** What a page that opens now needs to draw. */
  snapshot(): ChatEvent {
    const views = this.node.neighbors(this.#stream.topic);
    return {
      ...this.ready(),
      type: 'snapshot',
      messages: this.#history,
      peers: this.node.peers(),
      active: views.active,
      passive: views.passive,
      online: this.online(),
      everSeen: this.everSeen,
      progress: this.#progress,
      ...(this.private ? { members: memberList(this.private), manager: (this.private.ownAccess()?.level ?? -1) >= 3 } : {}),
    };
  }

  online(): { id: string; name: string }[] {
    return this.#presenceTable.online();
  }

  /** The highest seqNum of our log that a peer is known to hold (-1: none); kept across restarts. */
  get seenUpTo(): number {
    return this.#seenUpTo;
  }

  /** Whether a peer was ever met (connected or heard): "none yet" before, "no one online" after. */
  get everSeen(): boolean {
    return this.#peerEverSeen || this.#presenceTable.everSeen;
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#stopLooking();
    await this.node.close();
  }

  #emit(event: ChatEvent): void {
    this.emit('event', event);
  }

  #wire(): void {
    const node = this.node;
    node.on('peer:connect', ({ peer }) => {
      this.#peerEverSeen = true;
      this.#emit({ type: 'peer', event: 'connect', peer });
    });
    node.on('peer:disconnect', ({ peer }) => this.#emit({ type: 'peer', event: 'disconnect', peer }));
    node.on('neighbor:up', ({ topic, peer }) => topic === this.topicHex && this.#emitOverlay('up', peer));
    node.on('neighbor:down', ({ topic, peer }) => topic === this.topicHex && this.#emitOverlay('down', peer));
    node.on('topic:alone', ({ topic }) => topic === this.topicHex && this.#emit({ type: 'alone', topic }));
    node.on('sync:start', (e) => e.topic === this.topicHex && this.#emit({ type: 'sync', event: 'start', peer: e.peer }));
    node.on('sync:progress', (e) => {
      if (e.topic !== this.topicHex || typeof e.expected !== 'number') return;
      this.#progress = { expected: e.expected, stored: e.stored };
      this.#emit({ type: 'sync', event: 'progress', peer: e.peer, expected: e.expected, stored: e.stored });
    });
    node.on('sync:end', (e) => {
      if (e.topic !== this.topicHex) return;
      this.#progress = { expected: 0, stored: 0 };
      this.#emit({ type: 'sync', event: 'end', peer: e.peer, received: e.received, stored: e.stored, sent: e.sent, error: e.error });
      this.#checkSeen();
    });
    // libp2p updates this node's own peer record often while peers join (a
    // burst of events), and listing the addresses is not cheap: one look a second at most.
    let addresses = node.addresses.join(' ');
    let looking: NodeJS.Timeout | undefined;
    const look = () => {
      looking = undefined;
      const now = node.addresses;
      if (now.join(' ') === addresses) return;
      addresses = now.join(' ');
      if (now.length > 0) this.#emit({ type: 'addresses', addresses: now });
    };
    node.host.addEventListener('self:peer:update', () => {
      looking ??= setTimeout(look, ADDRESS_LOOK_MS);
      looking.unref();
    });
    this.#stopLooking = () => clearTimeout(looking);
    void this.#readMessages();
    void this.#readPresence();
    const announce = () => void this.#presence.tx.publish(encodeChat({ type: 'presence', name: this.name })).catch(() => {});
    announce();
    this.#timers = [setInterval(announce, PRESENCE_HEARTBEAT_MS), setInterval(() => this.sweepPresence(), PRESENCE_SWEEP_MS)];
    for (const timer of this.#timers) timer.unref();
  }

  /** Emits `presence` with `online: false` for each peer unheard past the expiry (run by a timer; tests call it). */
  sweepPresence(): void {
    for (const gone of this.#presenceTable.expire(this.#now())) {
      this.#emit({ type: 'presence', author: gone.id, name: gone.name, online: false, here: this.online() });
    }
  }

  /** Notes a presence heartbeat (from the ephemeral stream; tests call it). */
  heardPresence(author: string, name: string): void {
    if (this.#presenceTable.heard(author, name, this.#now())) {
      this.#emit({ type: 'presence', author, name, online: true, here: this.online() });
    }
  }

  #emitOverlay(event: 'up' | 'down', peer: string): void {
    const views = this.node.neighbors(this.#stream.topic);
    this.#emit({ type: 'neighbor', event, peer, active: views.active, passive: views.passive });
    this.#checkSeen();
  }

  async #readMessages(): Promise<void> {
    for await (const event of this.#stream.rx) {
      const chat = decodeChat(event.body);
      if (chat?.type === 'message' || chat?.type === 'app') {
        const seen = event.own ? event.seqNum <= this.#seenUpTo || this.node.seenBy(this.#stream.topic, event).length > 0 : true;
        if (event.own && seen) this.#markSeen(event.seqNum);
        const message: ChatEvent = {
          type: 'message',
          topic: this.topicHex,
          author: event.author,
          name: chat.name,
          text: chat.type === 'app' ? `shared the app "${chat.app.title}"` : chat.text,
          ...(chat.type === 'app' ? { app: chat.app } : {}),
          timestamp: event.timestamp ?? 0,
          hash: event.hash.toHex(),
          own: event.own,
          seen,
        };
        if (event.own && !seen) this.#unseen.set(event.hash.toHex(), event.seqNum);
        this.#history.push(message);
        if (this.#history.length > HISTORY) this.#history.shift();
        this.#emit(message);
      }
      event.ack();
      this.#checkSeen();
    }
  }

  async #readPresence(): Promise<void> {
    for await (const event of this.#presence.rx) {
      const chat = decodeChat(event.body);
      if (chat?.type !== 'presence' || event.own) continue;
      this.heardPresence(event.author, chat.name);
    }
  }

  /** Own messages written alone become "seen" once a peer is known to hold them. */
  #checkSeen(): void {
    // A peer that holds an entry of our log holds every entry before it.
    for (const seqNum of this.#unseen.values()) {
      if (seqNum > this.#seenUpTo && this.node.seenBy(this.#stream.topic, { author: this.node.id, seqNum }).length > 0) this.#markSeen(seqNum);
    }
    for (const [hash, seqNum] of this.#unseen) {
      if (seqNum > this.#seenUpTo) continue;
      this.#unseen.delete(hash);
      const entry = this.#history.find((m) => m.hash === hash);
      if (entry) entry.seen = true;
      this.#emit({ type: 'seen', hash });
    }
  }

  /** Remembers (in the store, so it survives a restart) that peers hold our log up to `seqNum`. */
  #markSeen(seqNum: number): void {
    if (seqNum <= this.#seenUpTo) return;
    this.#seenUpTo = seqNum;
    try {
      this.node.store.setCursor(SEEN_CURSOR + this.topicHex, new TextEncoder().encode(String(seqNum)));
    } catch {
      // the store is closing: the mark is recomputed from the next sync
    }
  }
}
