/**
 * webxdc: runs webxdc apps (https://webxdc.org) over Walkaway topics.
 * An app's status updates are operations on its topic, its realtime
 * channel is the topic's ephemeral stream; `startAppServer` serves the app
 * on its own origin with the `webxdc.js` bridge (docs/webxdc.md).
 */
export { openXdc, openXdcFolder, checkName, DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits, type WebxdcArchive } from './archive.ts';
export { parseManifest, type Manifest } from './manifest.ts';
export { UpdateLog, MAX_UPDATES, type StoredUpdate, type KeyValue } from './update-log.ts';
export { Reassembler, splitRealtime, DEFAULT_REASSEMBLER_LIMITS } from './realtime.ts';
export { WebxdcApp, selfAddrOf, type WebxdcAppOptions } from './webxdc-app.ts';
export { SEND_UPDATE_MAX_SIZE, REALTIME_MAX_SIZE, normalizeUpdate, decodeTopicBody, encodeUpdateBody } from './wire.ts';
export { startAppServer, portForTopic, withGuard, RateLimit, SEND_UPDATE_INTERVAL, type AppServer, type AppServerOptions } from './app-server.ts';
