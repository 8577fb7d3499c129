/**
 * Overlay: one topic's gossip overlay, HyParView membership (DSN 2007) with
 * PlumTree broadcast (SRDS 2007) on top, as one sans-IO machine; and a
 * multiplexer that runs one overlay per topic over shared connections.
 * See ../membership and ../broadcast for the papers and guarantees.
 */
export {
  DEFAULT_OVERLAY_CONFIG,
  Overlay,
  overlayMessageKind,
  type OverlayCommand,
  type OverlayConfig,
  type OverlayEvent,
  type OverlayInput,
  type OverlayMessage,
  type OverlayOutput,
  type OverlayTimer,
} from './overlay.ts';
export { TopicOverlays, type TopicOverlaysInput, type TopicOverlaysOutput } from './topic-overlays.ts';
