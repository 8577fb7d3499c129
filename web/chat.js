// The chat page: a snapshot, then the event stream; sends go through the
// outbox (outbox.js) so that nothing typed is lost while the node is away.
// Every API call carries the per-launch token; see src/cli/web-server.ts.
import { enqueue, flush, pending, settle } from './outbox.js';
import { qrMatrix } from './qr.js';
import { drawOverlay, list, short } from './sidebar.js';
import { initMembers, refreshMembers } from './members.js';

const $ = (id) => document.getElementById(id);
const state = { active: [], passive: [], peers: new Set(), online: [], room: '', unread: 0, lastDay: '', connected: true };

const timeOf = (us) => new Date(Number(us) / 1000);
const dayLabel = (d) => {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return 'Today';
  if (d.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return d.toLocaleDateString(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
};

const messages = $('messages');
const atBottom = () => messages.scrollTop + messages.clientHeight >= messages.scrollHeight - 24;
const toBottom = () => {
  messages.scrollTop = messages.scrollHeight;
};

function item(className, ...children) {
  const li = document.createElement('li');
  li.className = className;
  li.append(...children);
  return li;
}
function span(className, text) {
  const s = document.createElement('span');
  s.className = className;
  s.textContent = text;
  return s;
}

/** Adds a message, with a day separator when its day differs from the last one's. */
function addMessage(m, live) {
  if (document.querySelector(`[data-hash="${CSS.escape(m.hash)}"]`)) return;
  const stick = atBottom();
  const when = timeOf(m.timestamp);
  const day = when.toDateString();
  const before = messages.querySelector('li.pending');
  const insert = (li) => messages.insertBefore(li, before);
  if (day !== state.lastDay) {
    state.lastDay = day;
    insert(item('day', dayLabel(when)));
  }
  const unseen = live && !m.own && (document.hidden || !stick);
  if (unseen) markUnread();
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.append(span('name', m.name), span('time', when.toTimeString().slice(0, 5)));
  meta.title = when.toLocaleString();
  if (m.own && !m.seen) meta.append(span('unseen', 'not yet seen by others'));
  const li = item(m.own ? 'msg own' : 'msg', meta, span('text', m.text));
  if (m.app) li.append(appButton(m.app));
  li.dataset.hash = m.hash;
  li.dataset.author = m.author;
  li.dataset.us = String(m.timestamp);
  // A run of messages by one author within five minutes shows the name once.
  const prev = before ? before.previousElementSibling : messages.lastElementChild;
  if (
    prev?.classList.contains('msg') &&
    prev.dataset.author === m.author &&
    prev.querySelector('.name')?.textContent === m.name &&
    Number(m.timestamp) - Number(prev.dataset.us) < 300e6
  )
    li.classList.add('cont');
  if (m.text.length > LONG) clamp(li, m.text.length);
  insert(li);
  if (stick && !document.hidden) toBottom();
}

/** A shared webxdc app: "Open" serves it from this node (fetched from the peers first) and opens it in a tab. */
function appButton(app) {
  const open = document.createElement('button');
  open.type = 'button';
  open.className = 'open-app';
  open.textContent = `Open ${app.title}`;
  const link = document.createElement('a');
  link.className = 'app-link';
  link.target = '_blank';
  link.rel = 'noopener';
  link.hidden = true;
  open.addEventListener('click', async () => {
    open.disabled = true;
    open.textContent = `Opening ${app.title}…`;
    try {
      const { url } = await (await post('/api/apps/open', { topic: app.topic, sha: app.sha })).json();
      link.href = url;
      link.textContent = `${app.title} ↗`;
      link.hidden = false;
      open.hidden = true;
      window.open(url, '_blank', 'noopener');
    } catch (err) {
      open.textContent = `Open ${app.title} (${err.message})`;
    } finally {
      open.disabled = false;
    }
  });
  const box = document.createElement('span');
  box.className = 'app';
  box.append(open, link);
  return box;
}

$('share-app').addEventListener('click', () => $('xdc').click());
$('xdc').addEventListener('change', async () => {
  const file = $('xdc').files[0];
  $('xdc').value = '';
  if (!file) return;
  try {
    await api(`/api/apps/share?name=${encodeURIComponent(file.name)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: file });
  } catch (err) {
    status(`Cannot share ${file.name}: ${err.message}`);
  }
});

/** Texts longer than this show their first lines and a button for the rest. */
const LONG = 1500;
function clamp(li, length) {
  li.classList.add('long');
  const more = document.createElement('button');
  more.type = 'button';
  more.className = 'link more';
  more.textContent = `Show all ${length.toLocaleString()} characters`;
  more.addEventListener('click', () => {
    li.classList.remove('long');
    more.remove();
  });
  li.append(more);
}

/** Messages that arrive while the tab is hidden or scrolled up sit below a "new messages" line. */
function markUnread() {
  if (state.unread === 0) {
    messages.querySelector('li.unread-marker')?.remove();
    messages.insertBefore(item('unread-marker', 'new messages'), messages.querySelector('li.pending'));
  }
  state.unread++;
  $('jump').hidden = false;
  $('jump').textContent = `${state.unread} new message${state.unread === 1 ? '' : 's'} ↓`;
  showTitle();
}
function readAll() {
  if (state.unread === 0 || document.hidden || !atBottom()) return;
  state.unread = 0;
  $('jump').hidden = true;
  showTitle();
}
messages.addEventListener('scroll', readAll);
document.addEventListener('visibilitychange', readAll);
$('jump').addEventListener('click', () => {
  toBottom();
  readAll();
});

function showTitle() {
  const room = state.room || 'walkaway chat';
  document.title = `${state.unread ? `(${state.unread}) ` : ''}${room} · walkaway`;
  $('title').textContent = room;
}

/** A message typed here that the node has not taken yet. */
function addPending(entry) {
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.append(span('name', state.name ?? 'you'), span('pending-note', 'waiting to be sent'));
  const li = item('msg own pending', meta, span('text', entry.text));
  li.dataset.pending = entry.id;
  messages.append(li);
  toBottom();
}
const dropPending = (id) => document.querySelector(`[data-pending="${CSS.escape(id)}"]`)?.remove();

function render() {
  // Like the terminal: "not yet seen by others" matters only while no neighbour is there.
  document.body.classList.toggle('alone', state.active.length === 0);
  list($('peers'), [...state.peers].map(short), (state.everSeen ||= state.peers.size > 0) ? 'no one online' : 'none yet');
  list(
    $('online'),
    state.online.map((p) => `${p.name} (${short(p.id)})`),
    'just you',
  );
  drawOverlay($('overlay'), state.active, state.passive);
}

function progress(stored, expected) {
  // The session keeps the last progress it saw; a finished one is no news.
  const running = state.connected && expected > 0 && stored < expected;
  $('progress').firstElementChild.style.width = running ? `${Math.round((stored / expected) * 100)}%` : '0%';
  $('progress-text').textContent = !state.connected ? 'node offline' : running ? `${stored} / ${expected} operations` : 'idle';
}

function apply(e) {
  switch (e.type) {
    case 'message':
      addMessage(e, true);
      break;
    case 'seen':
      document.querySelector(`[data-hash="${CSS.escape(e.hash)}"] .unseen`)?.remove();
      break;
    case 'member':
      void refreshMembers();
      break;
    case 'peer':
      e.event === 'connect' ? state.peers.add(e.peer) : state.peers.delete(e.peer);
      render();
      break;
    case 'neighbor':
      state.active = e.active;
      state.passive = e.passive;
      render();
      break;
    case 'presence':
      state.online = e.here;
      render();
      break;
    case 'sync':
      if (e.event === 'progress') progress(e.stored, e.expected);
      if (e.event === 'end') progress(0, 0);
      break;
  }
}

// The token comes in the URL's fragment (never sent to the server, never in
// a Referer). It is kept in this tab's sessionStorage, so a reload works, and
// taken out of the address bar and the browser's history.
function readToken() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    sessionStorage.setItem('walkaway-token', fromHash);
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem('walkaway-token');
}
const token = readToken();
// Pasting the new URL of a restarted node into this tab changes only the
// fragment (no new page load): take its token and start over.
window.addEventListener('hashchange', () => {
  if (new URLSearchParams(location.hash.slice(1)).get('token')) {
    readToken();
    location.reload();
  }
});

/** The banner: empty when all is well. */
function status(text) {
  $('status').textContent = text;
  $('banner').hidden = text === '';
}
function offline(why) {
  state.connected = false;
  progress(0, 0);
  const waiting = pending().length;
  status(`${why}${waiting ? ` · ${waiting} message${waiting === 1 ? '' : 's'} will be sent when it is back` : ' · what you write is kept and sent when it is back'}`);
}
const RESTARTED = 'The node was restarted or this page has no token: open the address it printed (…/#token=…)';

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}
async function api(path, init = {}) {
  let res;
  try {
    res = await fetch(path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) }, cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError('The node is not answering', 0);
  }
  if (res.status === 401) throw new ApiError(RESTARTED, 401);
  if (!res.ok) throw new ApiError(`${res.status}: ${(await res.json().catch(() => ({}))).message ?? res.statusText}`, res.status);
  return res;
}
const post = (path, value) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

// How the room is encrypted (the server's ChatEncryption mode), shown next to the name.
const ENCRYPTION = {
  'topic-key': ['🔒 encrypted · topic key', 'Bodies are encrypted with a topic key: only those who hold the key (in a ticket or --key) read them.'],
  group: ['🔒 encrypted · group', 'Bodies are encrypted for the members of the group: only members read them, and removed members read nothing new.'],
  'forward-secrecy': [
    '🔒 encrypted · forward secrecy',
    'Bodies are encrypted for the members of the group, one key per message (the message scheme): only members read them, newcomers from their add on, removed members nothing new.',
  ],
};
function showEncryption(mode) {
  const [label, title] = ENCRYPTION[mode] ?? ['not encrypted', 'Bodies travel in clear: every peer that carries this topic reads them.'];
  $('encryption').textContent = label;
  $('encryption').title = title;
  $('encryption').dataset.mode = ENCRYPTION[mode] ? mode : 'none';
  $('invite-key').hidden = mode !== 'topic-key';
}

async function loadSnapshot() {
  const snap = await (await api('/api/snapshot')).json();
  state.room = typeof snap.room === 'string' && snap.room ? snap.room : `topic ${short(snap.topic)}`;
  const wanted = localStorage.getItem('walkaway-name');
  if (wanted && wanted !== snap.name)
    await post('/api/name', { name: wanted }).then(
      () => {
        snap.name = wanted;
      },
      () => {},
    );
  state.name = snap.name;
  $('me').textContent = `${snap.name} · ${short(snap.id)}${snap.room ? ` · topic ${short(snap.topic)}` : ''}`;
  $('my-name').textContent = snap.name;
  showEncryption(snap.encryption);
  showTitle();
  for (const id of settle(snap.messages)) dropPending(id);
  snap.messages.forEach((m) => addMessage(m, false));
  state.active = snap.active;
  state.passive = snap.passive;
  state.peers = new Set(snap.peers);
  state.online = snap.online;
  state.everSeen = snap.everSeen;
  state.connected = true;
  initMembers(api, snap);
  // The snapshot's progress is the last one the session saw, even after the sync ended: live events tell.
  progress(0, 0);
  render();
}

// Server-sent events read through fetch (EventSource cannot send the token).
async function follow() {
  const res = await api('/api/events');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    // A dead node ends the stream or breaks it ("network error"): either way the caller reconnects.
    const { value, done } = await reader.read().catch(() => ({ done: true }));
    if (done) return;
    buffered += value;
    const frames = buffered.split('\n\n');
    buffered = frames.pop();
    for (const frame of frames) {
      const data = frame
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      if (data) apply(JSON.parse(data));
    }
  }
}

function sendWaiting() {
  return flush(
    (entry) =>
      post('/api/send', { text: entry.text, id: entry.id }).catch((err) => {
        err.retry = err.status === 0 || err.status === 401 || err.status >= 500;
        if (err.retry) offline(err.message);
        throw err;
      }),
    dropPending,
    (entry, err) => {
      dropPending(entry.id);
      status(`not sent: ${err.message}`);
    },
  );
}

async function start() {
  for (const entry of pending()) addPending(entry);
  if (!token) return offline(RESTARTED);
  for (let wait = 1000; ; wait = Math.min(wait * 2, 5000)) {
    try {
      await loadSnapshot();
      status('');
      wait = 1000;
      void sendWaiting();
      await follow();
      offline('The node is not answering (connection lost), reconnecting');
    } catch (err) {
      offline(err.message);
      if (err.status === 401) return;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

$('send').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = $('text').value.trim();
  if (!text) return;
  $('text').value = '';
  messages.querySelector('li.unread-marker')?.remove();
  addPending(enqueue(text));
  if (state.connected) void sendWaiting();
  else offline($('status').textContent.split(' · ')[0] || 'The node is not answering');
});

// Invite: the ticket as text and as a QR code (drawn here, see qr.js).
$('invite-open').addEventListener('click', async () => {
  const dialog = $('invite');
  $('invite-room').textContent = state.room;
  try {
    const { ticket } = await (await api('/api/invite')).json();
    $('ticket').value = ticket;
    drawQr($('qr'), ticket);
  } catch (err) {
    $('ticket').value = `no ticket: ${err.message}`;
    $('qr').replaceChildren();
  }
  dialog.showModal();
  $('ticket').scrollTop = 0;
});
$('invite-close').addEventListener('click', () => $('invite').close());
$('ticket-copy').addEventListener('click', () => {
  $('ticket').select();
  navigator.clipboard?.writeText($('ticket').value).then(
    () => {
      $('ticket-copy').textContent = 'Copied';
    },
    () => {},
  );
});

function drawQr(svg, text) {
  const m = qrMatrix(text, 'M');
  const quiet = 4;
  const size = m.length + quiet * 2;
  let d = '';
  m.forEach((row, r) =>
    row.forEach((dark, c) => {
      if (dark) d += `M${c + quiet} ${r + quiet}h1v1h-1z`;
    }),
  );
  const ns = 'http://www.w3.org/2000/svg';
  const bg = document.createElementNS(ns, 'rect');
  bg.setAttribute('width', size);
  bg.setAttribute('height', size);
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.dataset.modules = String(m.length);
  svg.replaceChildren(bg, path);
}

// Your name: changed on the node (peers see it on the next messages) and remembered by this browser.
$('rename-open').addEventListener('click', () => {
  $('name').value = state.name ?? '';
  $('rename').showModal();
});
$('rename-cancel').addEventListener('click', () => $('rename').close());
$('rename-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('name').value.trim();
  if (!name) return;
  try {
    await post('/api/name', { name });
    localStorage.setItem('walkaway-name', name);
    state.name = name;
    $('my-name').textContent = name;
    $('me').textContent = $('me').textContent.replace(/^[^·]*·/, `${name} ·`);
    $('rename').close();
  } catch (err) {
    status(`name not changed: ${err.message}`);
  }
});

// Phones: the sidebar slides in behind a button.
function side(open) {
  document.body.classList.toggle('side-open', open);
  $('side-toggle').setAttribute('aria-expanded', String(open));
}
$('side-toggle').addEventListener('click', () => side(!document.body.classList.contains('side-open')));
$('scrim').addEventListener('click', () => side(false));
$('side-close').addEventListener('click', () => side(false));

start();
