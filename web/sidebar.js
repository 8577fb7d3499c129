// The sidebar's lists and the overlay picture (this node, its active and passive views).
export const short = (id) => String(id).slice(0, 8);

export function list(el, items, empty) {
  el.replaceChildren(
    ...(items.length ? items : [empty]).map((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      return li;
    }),
  );
}

const NS = 'http://www.w3.org/2000/svg';
function node(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

export function drawOverlay(svg, active, passive) {
  const parts = [];
  const ring = (ids, r, cls) =>
    ids.forEach((id, i) => {
      const a = (i / Math.max(ids.length, 1)) * 2 * Math.PI - Math.PI / 2;
      const x = Math.cos(a) * r,
        y = Math.sin(a) * r;
      if (cls === 'active') parts.push(node('line', { x1: 0, y1: 0, x2: x, y2: y, class: cls }));
      parts.push(node('circle', { cx: x, cy: y, r: 6, class: cls }));
      const t = node('text', { x: x + 8, y: y + 3 });
      t.textContent = short(id);
      parts.push(t);
    });
  ring(passive, 90, 'passive');
  ring(active, 50, 'active');
  parts.push(node('circle', { cx: 0, cy: 0, r: 9, class: 'me' }));
  svg.replaceChildren(...parts);
}
