// Messages typed on the page wait here until the node has taken them: kept in
// localStorage (per origin, so per web port), sent one at a time in order,
// each with an id the server remembers for its launch. A send whose answer
// was lost when the node died is looked up in the next snapshot's own
// messages before it is sent again, so it goes out exactly once.
const KEY = 'walkaway-outbox';
const LOCK = 'walkaway-outbox';

export function pending() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((e) => e && typeof e.id === 'string' && typeof e.text === 'string') : [];
  } catch {
    return [];
  }
}

function save(list) {
  localStorage.setItem(KEY, JSON.stringify(list));
}

function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Queues a text; returns its entry. */
export function enqueue(text) {
  const entry = { id: newId(), text, queuedAt: Date.now(), triedAt: 0 };
  save([...pending(), entry]);
  return entry;
}

function remove(id) {
  save(pending().filter((e) => e.id !== id));
}

/**
 * Drops entries that a snapshot shows as already published: an entry tried
 * before (its answer may have been lost) whose text is an own message
 * stamped after the try. Each own message accounts for one entry.
 */
export function settle(messages) {
  const own = messages.filter((m) => m.own);
  const used = new Set();
  const dropped = [];
  for (const entry of pending()) {
    if (!entry.triedAt) continue;
    const match = own.find((m) => !used.has(m.hash) && m.text === entry.text.trim() && Number(m.timestamp) / 1000 >= entry.triedAt - 1000);
    if (!match) continue;
    used.add(match.hash);
    remove(entry.id);
    dropped.push(entry.id);
  }
  return dropped;
}

/** Whether the outbox is flushing in this tab. */
let flushing = false;

/**
 * Sends the waiting entries in order through `post(entry)`, which resolves
 * when the node took it, rejects with `err.retry` true when the node is away
 * (the entry stays, flushing stops) or false when the node refused the text
 * (the entry is dropped). `done(id)` is told about each entry that left.
 */
export async function flush(post, done, refused) {
  if (flushing) return;
  flushing = true;
  const run = async () => {
    for (let entry = pending()[0]; entry; entry = pending()[0]) {
      save(pending().map((e) => (e.id === entry.id ? { ...e, triedAt: e.triedAt || Date.now() } : e)));
      try {
        await post(entry);
      } catch (err) {
        if (err.retry) return;
        remove(entry.id);
        refused(entry, err);
        continue;
      }
      remove(entry.id);
      done(entry.id);
    }
  };
  try {
    // One tab at a time sends (Web Locks; 127.0.0.1 is a secure context).
    if (navigator.locks) await navigator.locks.request(LOCK, run);
    else await run();
  } finally {
    flushing = false;
  }
}
