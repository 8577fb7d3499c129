// The chat page: a snapshot, then the event stream, and a form that posts /api/send.
// Every API call carries the per-launch token; see src/cli/web-server.ts.
const $ = (id) => document.getElementById(id);
const short = (id) => String(id).slice(0, 8);
const state = { active: [], passive: [], peers: new Set(), online: [] };

function time(us) { return new Date(Number(us) / 1000).toTimeString().slice(0, 8); }

function addMessage(m) {
  if (document.querySelector(`[data-hash="${m.hash}"]`)) return;
  const li = document.createElement('li');
  li.dataset.hash = m.hash;
  if (m.own) li.className = 'own';
  const t = document.createElement('span'); t.className = 'time'; t.textContent = time(m.timestamp);
  const n = document.createElement('span'); n.className = 'name'; n.textContent = m.name;
  const x = document.createElement('span'); x.className = 'text'; x.textContent = m.text;
  li.append(t, n, x);
  if (m.own && !m.seen) { const u = document.createElement('span'); u.className = 'unseen'; u.textContent = 'not yet seen by others'; li.append(u); }
  const list = $('messages');
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
  list.append(li);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function list(el, items, empty) {
  el.replaceChildren(...(items.length ? items : [empty]).map((text) => { const li = document.createElement('li'); li.textContent = text; return li; }));
}

function drawOverlay() {
  const svg = $('overlay');
  const ns = 'http://www.w3.org/2000/svg';
  const parts = [];
  const ring = (ids, r, color) => ids.forEach((id, i) => {
    const a = (i / Math.max(ids.length, 1)) * 2 * Math.PI - Math.PI / 2;
    const x = Math.cos(a) * r, y = Math.sin(a) * r;
    if (color === '#0a6') { const l = document.createElementNS(ns, 'line'); Object.entries({ x1: 0, y1: 0, x2: x, y2: y, stroke: '#0a6' }).forEach(([k, v]) => l.setAttribute(k, v)); parts.push(l); }
    const c = document.createElementNS(ns, 'circle'); Object.entries({ cx: x, cy: y, r: 6, fill: color }).forEach(([k, v]) => c.setAttribute(k, v)); parts.push(c);
    const t = document.createElementNS(ns, 'text'); t.setAttribute('x', x + 8); t.setAttribute('y', y + 3); t.textContent = short(id); parts.push(t);
  });
  ring(state.passive, 90, '#bbb');
  ring(state.active, 50, '#0a6');
  const me = document.createElementNS(ns, 'circle'); Object.entries({ cx: 0, cy: 0, r: 9, fill: '#1d1d1f' }).forEach(([k, v]) => me.setAttribute(k, v)); parts.push(me);
  svg.replaceChildren(...parts);
}

function render() {
  list($('peers'), [...state.peers].map(short), (state.everSeen ||= state.peers.size > 0) ? 'no one online' : 'none yet');
  list($('online'), state.online.map((p) => `${p.name} (${short(p.id)})`), 'just you');
  drawOverlay();
}

function progress(stored, expected) {
  const pct = expected > 0 ? Math.min(100, Math.round((stored / expected) * 100)) : 0;
  $('progress').firstElementChild.style.width = pct + '%';
  $('progress-text').textContent = expected > 0 ? `${stored} / ${expected} operations` : 'idle';
}

function apply(e) {
  switch (e.type) {
    case 'message': addMessage(e); break;
    case 'seen': document.querySelector(`[data-hash="${e.hash}"] .unseen`)?.remove(); break;
    case 'peer': e.event === 'connect' ? state.peers.add(e.peer) : state.peers.delete(e.peer); render(); break;
    case 'neighbor': state.active = e.active; state.passive = e.passive; render(); break;
    case 'presence': state.online = e.here; render(); break;
    case 'sync': if (e.event === 'progress') progress(e.stored, e.expected); if (e.event === 'end') progress(0, 0); break;
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
const auth = { authorization: `Bearer ${token}` };

function status(text) { $('status').textContent = text; }

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...auth, ...(init.headers ?? {}) }, cache: 'no-store', credentials: 'omit' });
  if (res.status === 401) throw new Error('this page needs the URL that walkaway printed (with #token=...)');
  if (!res.ok) throw new Error(`${res.status}: ${(await res.json().catch(() => ({}))).message ?? res.statusText}`);
  return res;
}

async function loadSnapshot() {
  const snap = await (await api('/api/snapshot')).json();
  $('title').textContent = `walkaway chat · ${short(snap.topic)}`;
  $('me').textContent = `${snap.name} · ${snap.id}`;
  snap.messages.forEach(addMessage);
  state.active = snap.active; state.passive = snap.passive; state.peers = new Set(snap.peers); state.online = snap.online;
  progress(snap.progress.stored, snap.progress.expected);
  render();
}

// Server-sent events read through fetch (EventSource cannot send the token).
async function follow() {
  const res = await api('/api/events');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    const frames = buffered.split('\n\n');
    buffered = frames.pop();
    for (const frame of frames) {
      const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data) apply(JSON.parse(data));
    }
  }
}

async function start() {
  if (!token) return status('open the URL that walkaway printed (with #token=...)');
  for (let wait = 1000; ; wait = Math.min(wait * 2, 30_000)) {
    try {
      await loadSnapshot();
      status('');
      wait = 1000;
      await follow();
      status('connection lost, reconnecting');
    } catch (err) {
      status(err.message);
      if (String(err.message).includes('#token')) return;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

$('send').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('text').value.trim();
  if (!text) return;
  $('text').value = '';
  try {
    await api('/api/send', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
  } catch (err) {
    $('text').value = text;
    status(`not sent: ${err.message}`);
  }
});

start();
