// Runs first in every HTML page of a webxdc app (the server puts it right
// after the doctype). WebRTC reaches the network past the
// Content-Security-Policy (STUN and TURN servers, ICE candidates), so the
// page gets no WebRTC: not in its own window, and not in the windows of the
// frames it creates (read through contentWindow / contentDocument). Best
// effort: docs/webxdc.md says what a browser flag adds.
(() => {
  'use strict';
  const NAMES = ['RTCPeerConnection', 'webkitRTCPeerConnection', 'RTCDataChannel', 'RTCRtpSender', 'RTCRtpReceiver', 'RTCIceCandidate', 'RTCSessionDescription'];
  const scrub = (w) => {
    if (!w) return;
    for (const name of NAMES) {
      try {
        Object.defineProperty(w, name, { value: undefined, writable: false, configurable: false });
      } catch {
        // already scrubbed, or not ours to touch (another origin: CSP keeps it out)
      }
    }
  };
  scrub(window);
  const proto = window.HTMLIFrameElement?.prototype;
  for (const prop of ['contentWindow', 'contentDocument']) {
    const d = proto && Object.getOwnPropertyDescriptor(proto, prop);
    if (!d?.get) continue;
    Object.defineProperty(proto, prop, {
      configurable: false,
      get() {
        const value = d.get.call(this);
        try {
          scrub(prop === 'contentWindow' ? value : value?.defaultView);
        } catch {
          // a frame of another origin
        }
        return value;
      },
    });
  }
})();
