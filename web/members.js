// A private topic's members in the sidebar: each with its level, and for a
// manager a form to add one and a button to remove one (POST /api/members).
import { short } from './sidebar.js';

const $ = (id) => document.getElementById(id);
let call;

/** Shows the section when the topic is private; `api(path, init)` is the page's authorised fetch. */
export function initMembers(api, snapshot) {
  call = api;
  $('members-box').hidden = !snapshot.members;
  if (snapshot.members) draw(snapshot.members, snapshot.manager === true);
}

/** A `member` event came: ask again (the list and whether this node manages may both have changed). */
export async function refreshMembers() {
  if (!call || $('members-box').hidden) return;
  try {
    const { members, manager } = await (await call('/api/members')).json();
    draw(members, manager);
  } catch (err) {
    $('members-error').textContent = err.message;
  }
}

function draw(members, manager) {
  $('members-form').hidden = !manager;
  $('members').replaceChildren(
    ...members.map((m) => {
      const li = document.createElement('li');
      li.textContent = `${short(m.member)} · ${m.level}`;
      li.title = m.member;
      li.dataset.member = m.member;
      if (manager) {
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'link';
        remove.textContent = 'remove';
        remove.addEventListener('click', () => change({ action: 'remove', member: m.member }));
        li.append(' ', remove);
      }
      return li;
    }),
  );
}

async function change(body) {
  $('members-error').textContent = '';
  try {
    const res = await call('/api/members', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await res.json();
    await refreshMembers();
  } catch (err) {
    $('members-error').textContent = err.message;
  }
}

$('members-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const member = $('member-key').value.trim().toLowerCase();
  void change({ action: 'add', member, level: $('member-level').value }).then(() => {
    $('member-key').value = '';
  });
});
