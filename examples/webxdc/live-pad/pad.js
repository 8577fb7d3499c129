// Realtime only: joinRealtimeChannel() carries what each person types, as
// JSON in a Uint8Array, to whoever is connected now. Nothing is stored: a
// person who opens the pad later sees only what is typed from then on.
'use strict';
const channel = window.webxdc.joinRealtimeChannel();
const others = new Map(); // selfAddr -> { name, text }
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function render() {
  const list = document.getElementById('others');
  list.replaceChildren();
  for (const [addr, o] of others) {
    const li = document.createElement('li');
    li.dataset.addr = addr;
    li.textContent = `${o.name}: ${o.text}`;
    list.append(li);
  }
}

channel.setListener((data) => {
  let m;
  try {
    m = JSON.parse(decoder.decode(data));
  } catch {
    return;
  }
  if (typeof m.addr !== 'string' || typeof m.text !== 'string') return;
  others.set(m.addr, { name: String(m.name).slice(0, 64), text: m.text.slice(0, 2000) });
  render();
});

const pad = document.getElementById('pad');
function send() {
  channel.send(encoder.encode(JSON.stringify({ addr: window.webxdc.selfAddr, name: window.webxdc.selfName, text: pad.value })));
}
pad.addEventListener('input', send);
// Say it again now and then: someone who joins later sees the current text.
setInterval(send, 2000);
