// The page around a webxdc app: its name, document and summary, the latest
// info message (spec: "shown in the chat"), and sendToChat's dialog.
'use strict';
const $ = (id) => document.getElementById(id);
const frame = $('app');
let shared = null;
let infoHref = null;

function clip(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

function show(update) {
  if (typeof update.document === 'string') $('document').textContent = clip(update.document, 20);
  if (typeof update.summary === 'string') $('summary').textContent = clip(update.summary, 20);
  if (typeof update.info === 'string') {
    $('info').textContent = clip(update.info, 50);
    // update.href: a link into the app (spec); clicking the info line opens it in the frame, on this origin only.
    const target = typeof update.href === 'string' ? new URL(update.href, `${location.origin}/`) : null;
    infoHref = target && target.origin === location.origin && !target.pathname.startsWith('/.walkaway/') ? target.href : null;
    $('info').classList.toggle('link', infoHref !== null);
  }
  document.title = [$('document').textContent, $('name').textContent].filter(Boolean).join(' – ');
}

let inChat = false;
fetch('/.walkaway/info')
  .then((r) => r.json())
  .then((info) => {
    inChat = info.chat === true;
    $('name').textContent = info.name;
    if (info.icon) Object.assign($('icon'), { src: `/${info.icon}`, hidden: false });
    show({ document: info.document ?? undefined, summary: info.summary ?? undefined });
  });

// The app's webxdc.js passes each update's info, document, summary and href up (the shell opens no event
// stream of its own: a browser keeps at most 6 connections to one origin, and each tab of the app needs 1 or 2).
window.addEventListener('message', (e) => {
  if (e.origin !== location.origin || e.source !== frame.contentWindow) return;
  const m = e.data;
  if (m && m.type === 'walkaway:update') return show(m);
  if (m?.type !== 'walkaway:send-to-chat') return;
  shared = m;
  $('share-text').textContent = m.text ?? '';
  $('share-file').textContent = m.file ? `File: ${m.file.name} (${m.file.blob.size} bytes)` : '';
  $('share-download').hidden = !m.file;
  $('share-copy').hidden = !m.text;
  $('share-send').hidden = !m.text || !inChat;
  $('share-status').textContent = '';
  $('share').showModal();
});

$('share-download').addEventListener('click', () => {
  const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(shared.file.blob), download: shared.file.name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
});
$('share-copy').addEventListener('click', () => {
  navigator.clipboard.writeText(shared.text).then(
    () => ($('share-status').textContent = 'Copied.'),
    () => ($('share-status').textContent = 'Copying was refused.'),
  );
});
$('share-send').addEventListener('click', () => {
  fetch('/.walkaway/send-to-chat', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: shared.text }) }).then(
    async (r) => ($('share-status').textContent = r.ok ? 'Sent.' : (await r.json()).message),
  );
});
$('share-close').addEventListener('click', () => $('share').close());
$('info').addEventListener('click', () => {
  if (infoHref) frame.src = infoHref;
});
