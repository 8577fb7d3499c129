/** Every fuzz target, by name. `web` starts a real chat node and server when its seeds are asked for. */
import type { Target } from '../target.ts';
import { authBody } from './auth.ts';
import { chatBody, payload } from './bodies.ts';
import { envelope, groupControl, preKeyBundle, schemeMessage, schemeWelcome, sealedMessage, secretBox } from './encryption.ts';
import { topicBundle, xdcArchive, xdcBodies, xdcManifest } from './files.ts';
import { args } from './cli.ts';
import { extensions, header, headerFast, operation } from './core.ts';
import { broadcastMessage, gossipFrame, membership, multicast } from './net.ts';
import { ephemeral, ticket } from './node.ts';
import { broadcastSync, syncFrames, syncMessage, syncNext } from './sync.ts';

export const TARGETS: Target[] = [
  header,
  headerFast,
  operation,
  extensions,
  chatBody,
  payload,
  syncMessage,
  syncNext,
  syncFrames,
  broadcastSync,
  gossipFrame,
  membership,
  broadcastMessage,
  multicast,
  ephemeral,
  ticket,
  args,
  authBody,
  envelope,
  groupControl,
  secretBox,
  preKeyBundle,
  schemeMessage,
  schemeWelcome,
  sealedMessage,
  topicBundle,
  xdcArchive,
  xdcManifest,
  xdcBodies,
];

/** The web target is loaded only when asked for (it imports the whole node). */
export async function targetByName(name: string): Promise<Target | undefined> {
  if (name === 'web') return (await import('./web.ts')).web;
  return TARGETS.find((t) => t.name === name);
}

export const TARGET_NAMES = [...TARGETS.map((t) => t.name), 'web'];
