// The webxdc API (https://webxdc.org/docs/spec/) for apps served by Walkaway.
// The server fills in INFO for this app and this person; everything else goes
// through this origin's bridge endpoints under /.walkaway/ (the page can reach
// nothing else: see docs/webxdc.md).
(() => {
  'use strict';
  const INFO = /*WALKAWAY_INFO*/ {};
  const BASE = '/.walkaway/';
  const RETRY_MS = 1000;

  let listener = null;
  let updates = null; // the EventSource of the current setUpdateListener
  let lastSerial = 0;
  let sending = Promise.resolve();

  function openUpdates(onCaughtUp) {
    if (updates) updates.close();
    const source = new EventSource(`${BASE}events?after=${lastSerial}`);
    updates = source;
    source.addEventListener('update', (e) => {
      const { serial, max_serial, update } = JSON.parse(e.data);
      if (serial <= lastSerial) return;
      lastSerial = serial;
      const received = { ...update, serial, max_serial };
      // For the shell around the app: the bar shows the latest info, document and summary.
      if (window.parent !== window) {
        const { info, document: doc, summary, href } = update;
        window.parent.postMessage({ type: 'walkaway:update', info, document: doc, summary, href }, location.origin);
      }
      try {
        if (listener) listener(received);
      } catch (err) {
        console.error('webxdc: the update listener threw', err);
      }
    });
    source.addEventListener('caught-up', () => onCaughtUp?.());
    // The browser would reconnect from the first serial; reconnect from the last one instead.
    source.onerror = () => {
      if (source !== updates) return;
      source.close();
      setTimeout(() => source === updates && openUpdates(null), RETRY_MS);
    };
  }

  function sizeOf(text) {
    return new TextEncoder().encode(text).length;
  }

  function post(path, body, type) {
    return fetch(BASE + path, { method: 'POST', headers: { 'content-type': type }, body }).then(async (res) => {
      if (res.ok) return;
      const answer = await res.json().catch(() => ({}));
      throw new Error(`webxdc: ${answer.message || res.statusText}`);
    });
  }

  let realtime = null;

  function joinRealtimeChannel() {
    if (realtime) throw new Error('webxdc.joinRealtimeChannel: already joined; call leave() first');
    let onData = null;
    let left = false;
    let source = null;
    const open = () => {
      source = new EventSource(`${BASE}realtime`);
      source.addEventListener('data', (e) => {
        if (!onData) return;
        const bin = atob(e.data);
        const data = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
        try {
          onData(data);
        } catch (err) {
          console.error('webxdc: the realtime listener threw', err);
        }
      });
      source.onerror = () => {
        source.close();
        if (!left) setTimeout(() => !left && open(), RETRY_MS);
      };
    };
    open();
    const channel = {
      setListener(cb) {
        if (left) throw new Error('webxdc: this realtime channel was left');
        onData = cb;
      },
      send(data) {
        if (left) throw new Error('webxdc: this realtime channel was left');
        if (!(data instanceof Uint8Array)) throw new TypeError('webxdc: realtime data must be a Uint8Array');
        if (data.length > INFO.realtimeMaxSize) throw new Error(`webxdc: realtime data is ${data.length} bytes, more than ${INFO.realtimeMaxSize}`);
        post('realtime', data, 'application/octet-stream').catch((err) => console.error(err.message));
      },
      leave() {
        left = true;
        onData = null;
        if (source) source.close();
        if (realtime === channel) realtime = null;
      },
    };
    realtime = channel;
    return channel;
  }

  function toBlob(file) {
    if (!file || typeof file.name !== 'string' || file.name === '') throw new Error('webxdc.sendToChat: file.name is required');
    const kinds = ['blob', 'base64', 'plainText'].filter((k) => file[k] !== undefined);
    if (kinds.length !== 1) throw new Error('webxdc.sendToChat: set exactly one of file.blob, file.base64, file.plainText');
    if (kinds[0] === 'blob') {
      if (!(file.blob instanceof Blob)) throw new Error('webxdc.sendToChat: file.blob must be a Blob');
      return file.blob;
    }
    if (kinds[0] === 'plainText') return new Blob([String(file.plainText)], { type: 'text/plain' });
    if (typeof file.base64 !== 'string') throw new Error('webxdc.sendToChat: file.base64 must be a string');
    const bin = atob(file.base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Blob([bytes]);
  }

  window.webxdc = {
    selfAddr: INFO.selfAddr,
    selfName: INFO.selfName,
    sendUpdateInterval: INFO.sendUpdateInterval,
    sendUpdateMaxSize: INFO.sendUpdateMaxSize,

    setUpdateListener(cb, serial = 0) {
      listener = cb;
      lastSerial = Number.isSafeInteger(serial) && serial > 0 ? serial : 0;
      return new Promise((resolve) => openUpdates(resolve));
    },

    getAllUpdates() {
      console.warn('webxdc.getAllUpdates() is deprecated: use setUpdateListener()');
      return Promise.resolve([]);
    },

    sendUpdate(update, _descr) {
      if (update === null || typeof update !== 'object') throw new TypeError('webxdc.sendUpdate: the update must be an object');
      if (update.payload === undefined) throw new TypeError('webxdc.sendUpdate: update.payload must not be undefined');
      const json = JSON.stringify(update);
      const size = sizeOf(json);
      if (size > INFO.sendUpdateMaxSize) {
        throw new Error(`webxdc.sendUpdate: the update is ${size} bytes, more than webxdc.sendUpdateMaxSize (${INFO.sendUpdateMaxSize})`);
      }
      // One after the other, so updates leave in the order the app sent them.
      sending = sending.then(() => post('update', json, 'application/json')).catch((err) => console.error(err.message));
      return sending;
    },

    joinRealtimeChannel,

    sendToChat(message) {
      try {
        if (!message || (message.file === undefined && message.text === undefined)) throw new Error('webxdc.sendToChat: set file, text or both');
        if (message.text !== undefined && typeof message.text !== 'string') throw new Error('webxdc.sendToChat: text must be a string');
        const blob = message.file ? toBlob(message.file) : null;
        const detail = { text: message.text ?? null, file: blob ? { name: message.file.name, blob } : null };
        if (window.parent !== window) {
          window.parent.postMessage({ type: 'walkaway:send-to-chat', ...detail }, location.origin);
        } else if (blob) {
          const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: detail.file.name });
          a.click();
        }
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    },

    importFiles(filter = {}) {
      return new Promise((resolve) => {
        const input = document.createElement('input');
        input.type = 'file';
        const accept = [...(filter.extensions || []), ...(filter.mimeTypes || [])].filter((s) => typeof s === 'string');
        if (accept.length) input.accept = accept.join(',');
        input.multiple = filter.multiple === true;
        input.style.display = 'none';
        input.addEventListener('change', () => {
          resolve(Array.from(input.files || []));
          input.remove();
        });
        input.addEventListener('cancel', () => {
          resolve([]);
          input.remove();
        });
        document.body.appendChild(input);
        input.click();
      });
    },
  };
})();
