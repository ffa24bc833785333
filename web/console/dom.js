// dom.js — the only way the console builds DOM: h() creates elements and sets text
// through text nodes, so nothing a contact wrote can ever be parsed as HTML.
// Also: icons (inline SVG built node by node), avatars, and date/time formatting.

const SVG_NS = 'http://www.w3.org/2000/svg';
// Properties (not attributes) so that live form state is set, not just the default.
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'indeterminate']);

/** h('button', {class: 'x', onclick: fn, dataset: {id: 1}}, 'text', childNode, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function setAttrs(el, attrs) {
  if (!attrs) return el;
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  return el;
}

/** Appends strings (as text nodes), nodes and (nested) arrays; skips null/false. */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces el's children like replaceChildren, but with h()'s rules (null skipped). */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Visually hidden text for screen readers. */
export const srOnly = (text) => h('span', { class: 'sr-only' }, text);

// ---- icons: 24×24 stroke paths, drawn with currentColor --------------------------------
const ICONS = {
  search: ['M11 4a7 7 0 1 0 0 14a7 7 0 0 0 0-14z', 'M20 20l-4-4'],
  transfer: ['M4 12h14', 'M13 6l6 6-6 6'],
  merge: ['M6 4v6a4 4 0 0 0 4 4h8', 'M14 10l4 4-4 4', 'M6 20v-4'],
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  checks: ['M2 12.5l4.5 4.5L16 7.5', 'M10.5 16l1 1L21 7.5'],
  clock: ['M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z', 'M12 7v5l3 2'],
  alert: ['M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z', 'M12 7.5v5.5', 'M12 16.2v.3'],
  lock: ['M6 11h12v9H6z', 'M8.5 11V8a3.5 3.5 0 0 1 7 0v3'],
  bell: ['M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15z', 'M10 20.5a2 2 0 0 0 4 0'],
  back: ['M15 5l-7 7 7 7'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  info: ['M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z', 'M12 11v5.5', 'M12 7.6v.3'],
  done: ['M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z', 'M8 12.5l3 3 5-6'],
  reopen: ['M4 12a8 8 0 1 0 2.4-5.7', 'M4 4v4.5h4.5'],
  edit: ['M4 20h4l10-10-4-4L4 16z', 'M13 7l4 4'],
  plus: ['M12 5v14', 'M5 12h14'],
  send: ['M4 12l16-8-6 16-2.5-6.5z', 'M11.5 13.5L20 4'],
  note: ['M5 4h14v11l-5 5H5z', 'M14 20v-5h5'],
  chevron: ['M6 9l6 6 6-6'],
  user: ['M12 4a4 4 0 1 0 0 8a4 4 0 0 0 0-8z', 'M4 20a8 8 0 0 1 16 0'],
  logout: ['M10 4H5v16h5', 'M15 8l4 4-4 4', 'M19 12H9'],
};

export function icon(name, label) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon icon-${name}`);
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '2');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  if (label) { svg.setAttribute('role', 'img'); svg.setAttribute('aria-label', label); }
  else svg.setAttribute('aria-hidden', 'true');
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}

// ---- channel badges: filled circle in the platform's colour, white glyph ---------------
const CHANNELS = {
  widget: { color: '#4f46e5', label: 'Website widget', d: 'M7 7.5h10v6.5h-5.5L8.5 16.5V14H7z' },
  telegram: { color: '#1c7fb8', label: 'Telegram', d: 'M6 11.8l11-4.3-2 9.5-3.3-2.6-1.8 1.9.2-3 5-4.6-6.2 3.8z' },
  whatsapp: { color: '#128c4a', label: 'WhatsApp', d: 'M9 7h2l1 2.5-1.3 1a6 6 0 0 0 2.8 2.8l1-1.3L17 13v2a1.5 1.5 0 0 1-1.6 1.5A8.5 8.5 0 0 1 7.5 8.6 1.5 1.5 0 0 1 9 7z' },
  discord: { color: '#4e5bd8', label: 'Discord', d: 'M8 8.5c2.5-1 5.5-1 8 0l1 6c-1 .9-2.2 1.5-3.4 1.7l-.6-1.2h-2l-.6 1.2A6.6 6.6 0 0 1 7 14.5z' },
  webhook: { color: '#57606a', label: 'Webhook', d: 'M13 6.5l-5 7h3.5l-1 4.5 5-7H12z' },
};

export function channelLabel(kind) { return CHANNELS[kind]?.label || (kind || 'channel'); }

/** Small round badge for a channel kind; `title` gives the channel's own name on hover. */
export function channelIcon(channel, size = 16) {
  const kind = channel?.kind || 'unknown';
  const def = CHANNELS[kind];
  const title = channel?.name ? `${channelLabel(kind)}: ${channel.name}` : channelLabel(kind);
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', size);
  svg.setAttribute('height', size);
  svg.setAttribute('class', `channel-icon ch-${kind}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  const t = document.createElementNS(SVG_NS, 'title');
  t.textContent = title;
  const c = document.createElementNS(SVG_NS, 'circle');
  c.setAttribute('cx', '12'); c.setAttribute('cy', '12'); c.setAttribute('r', '12');
  c.setAttribute('fill', def?.color || '#6b7280');
  svg.append(t, c);
  if (def) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', def.d);
    p.setAttribute('fill', '#fff');
    svg.append(p);
  } else {
    const tx = document.createElementNS(SVG_NS, 'text');
    tx.setAttribute('x', '12'); tx.setAttribute('y', '16.5');
    tx.setAttribute('text-anchor', 'middle'); tx.setAttribute('font-size', '13');
    tx.setAttribute('font-weight', '700'); tx.setAttribute('fill', '#fff');
    tx.textContent = kind.charAt(0).toUpperCase();
    svg.append(tx);
  }
  return svg;
}

// ---- avatars -------------------------------------------------------------------------
// Dark enough for white initials to meet contrast for large bold text.
const PALETTE = ['#b4232c', '#9a4d00', '#6f6200', '#2f7d32', '#00766c', '#0a6aa1',
  '#3949ab', '#6a3fb5', '#a0307a', '#5d6b7a'];

export function initials(name) {
  // Letters and digits only: "Visitor #12" gives "V1", "@masha" gives "M".
  const parts = String(name || '?').trim().split(/\s+/)
    .map((p) => p.replace(/[^\p{L}\p{N}]/gu, '')).filter(Boolean);
  if (!parts.length) return '?';
  const first = [...parts[0]][0] || '';
  const last = parts.length > 1 ? [...parts[parts.length - 1]][0] : '';
  return (first + last).toUpperCase();
}

export function avatar(id, name, size = 'md') {
  return h('span', {
    class: `avatar avatar-${size}`, 'aria-hidden': 'true',
    style: { background: PALETTE[Math.abs(Number(id) || 0) % PALETTE.length] },
  }, initials(name));
}

// ---- time ----------------------------------------------------------------------------
const fmtTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fmtWeekday = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const fmtShort = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const fmtLong = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const fmtFull = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const dayStart = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
export const dayKey = (iso) => { const d = new Date(iso); return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`; };
export const timeOf = (iso) => (iso ? fmtTime.format(new Date(iso)) : '');
export const fullDate = (iso) => (iso ? fmtFull.format(new Date(iso)) : '');

/** Short relative time for the chat list: now, 5m, 3h, Yesterday, Mon, 3 Nov. */
export function relTime(iso, now = Date.now()) {
  if (!iso) return '';
  const d = new Date(iso);
  const s = Math.max(0, (now - d.getTime()) / 1000);
  if (s < 60) return 'now';
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  const days = Math.round((dayStart(new Date(now)) - dayStart(d)) / 86400000);
  if (days === 0) return `${Math.floor(s / 3600)}h`;
  if (days === 1) return 'Yesterday';
  if (days < 7) return fmtWeekday.format(d);
  return fmtShort.format(d);
}

/** Label for a day separator in the history. */
export function dayLabel(iso) {
  const d = new Date(iso);
  const days = Math.round((dayStart(new Date()) - dayStart(d)) / 86400000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return fmtLong.format(d);
}

// ---- small utilities -----------------------------------------------------------------
export function debounce(fn, ms) {
  let t;
  const d = (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}

/** True when a key press should be left to the focused text field. */
export function inTextField(el = document.activeElement) {
  if (!el) return false;
  if (el.isContentEditable) return true;
  if (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
  return el.tagName === 'INPUT' && !['button', 'checkbox', 'radio', 'submit'].includes(el.type);
}

/** Text with http(s) links made clickable — built as nodes, never parsed as HTML. */
export function linkify(text) {
  const out = [];
  const re = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]/gi;
  let last = 0;
  for (const m of String(text || '').matchAll(re)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer nofollow' }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < String(text || '').length) out.push(String(text).slice(last));
  return out;
}

/** Only http(s) and same-origin relative URLs may become href/src (no javascript:, data:). */
export function safeUrl(url) {
  if (!url) return null;
  try {
    const u = new URL(url, location.origin);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch { return null; }
}

export const STATUS_LABEL = { online: 'Online', away: 'Away', offline: 'Offline' };
export const statusDot = (status) =>
  h('span', { class: `status-dot status-${status || 'offline'}`, 'aria-hidden': 'true' });
