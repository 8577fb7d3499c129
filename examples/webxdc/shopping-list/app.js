// A shared shopping list: the whole state is the sequence of updates.
// Each update is { payload: { op: 'add', id, text, by } } or
// { payload: { op: 'toggle', id, done } }; every peer applies them as they
// come. Adding and ticking off are idempotent, so the order in which two
// people's updates arrive does not change the final list: the last toggle
// by serial wins on each device, and both devices see the same updates.
'use strict';
const items = new Map(); // id -> { text, by, done }

function render() {
  const list = document.getElementById('items');
  list.replaceChildren();
  for (const [id, item] of items) {
    const li = document.createElement('li');
    li.dataset.id = id;
    li.className = item.done ? 'done' : '';
    const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: item.done });
    box.addEventListener('change', () => toggle(id, box.checked));
    const text = Object.assign(document.createElement('span'), { textContent: item.text });
    const by = Object.assign(document.createElement('small'), { textContent: item.by });
    li.append(box, text, by);
    list.append(li);
  }
  const open = [...items.values()].filter((i) => !i.done).length;
  document.getElementById('status').textContent = `${open} to buy · you are ${window.webxdc.selfName}`;
}

function apply(update) {
  const p = update.payload;
  if (!p || typeof p !== 'object') return;
  if (p.op === 'add' && typeof p.id === 'string' && typeof p.text === 'string' && !items.has(p.id)) {
    items.set(p.id, { text: p.text.slice(0, 100), by: String(p.by ?? '').slice(0, 64), done: false });
  } else if (p.op === 'toggle' && items.has(p.id)) {
    items.get(p.id).done = p.done === true;
  }
}

/** "N to buy" as it will be once `change` (id -> done) is applied. */
function summary(change = {}) {
  const done = new Map([...[...items].map(([id, i]) => [id, i.done]), ...Object.entries(change)]);
  const open = [...done.values()].filter((d) => !d).length;
  return `${open} to buy`;
}

function toggle(id, done) {
  const item = items.get(id);
  window.webxdc.sendUpdate({ payload: { op: 'toggle', id, done }, info: `${window.webxdc.selfName} ${done ? 'got' : 'needs'} ${item.text}`, summary: summary({ [id]: done }) }, '');
}

document.getElementById('add').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = document.getElementById('item');
  const text = input.value.trim();
  if (!text) return;
  const id = `${window.webxdc.selfAddr.slice(0, 8)}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  window.webxdc.sendUpdate({ payload: { op: 'add', id, text, by: window.webxdc.selfName }, info: `${window.webxdc.selfName} added ${text}`, document: 'Shopping list', summary: summary({ [id]: false }) }, '');
  input.value = '';
});

// Replay every update from the first (serial 0), then follow new ones.
window.webxdc.setUpdateListener((update) => {
  apply(update);
  if (update.serial === update.max_serial) render();
}, 0).then(render);
