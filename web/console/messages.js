// messages.js — how one message of the history looks: author, channel badge, text (always
// as text, links made clickable node by node, the platform's bold/italic/code kept), attachments, buttons, time and delivery
// ticks (delivered, then read in colour), failures with their reason, the contact's reaction
// (as text), and notes with their yellow "Note" look.

import { h, icon, channelIcon, channelLabel, timeOf, fullDate, dayKey, dayLabel, safeUrl } from './dom.js';
import { formatted } from './formatted.js';

const TICKS = {
  queued: ['clock', 'Queued'],
  sent: ['check', 'Sent'],
  delivered: ['checks', 'Delivered'],
  read: ['checks', 'Read'],
  failed: ['alert', 'Not delivered'],
};

export function authorName(m, contactName) {
  switch (m.author_kind) {
    case 'contact': return contactName || 'Contact';
    case 'operator': return m.author?.name || 'Operator';
    case 'bot': return 'Bot';
    case 'broadcast': return 'Broadcast';
    case 'system': return 'System';
    default: return m.author?.name || '';
  }
}

export function daySeparator(iso) {
  return h('div', { class: 'day-sep', role: 'separator', 'data-day': dayKey(iso) },
    h('span', {}, dayLabel(iso)));
}

function ticks(m) {
  if (!m.state || !TICKS[m.state]) return null;
  const [name, label] = TICKS[m.state];
  const title = m.state === 'failed' && m.failure_reason ? `${label}: ${m.failure_reason}` : label;
  return h('span', { class: `ticks state-${m.state}`, title, 'data-testid': 'message-state', 'data-state': m.state },
    icon(name, title));
}

function attachments(list) {
  if (!list?.length) return null;
  return h('div', { class: 'attachments' }, list.map((a) => {
    const url = safeUrl(a.url);
    const label = a.kind === 'template' ? `Template “${a.name}” (${a.extra?.language || '?'})${(a.extra?.parameters || []).length ? ': ' + a.extra.parameters.join(', ') : ''}`
      : a.name || a.kind || 'attachment';
    const size = a.size ? ` · ${formatSize(a.size)}` : '';
    if (url && (a.kind === 'image' || (a.mime || '').startsWith('image/'))) {
      return h('a', { class: 'attachment attachment-image', href: url, target: '_blank', rel: 'noopener noreferrer' },
        h('img', { src: url, alt: label, loading: 'lazy' }));
    }
    const inner = [icon('note'), h('span', {}, label + size)];
    return url
      ? h('a', { class: 'attachment', href: url, target: '_blank', rel: 'noopener noreferrer', download: a.name || '' }, inner)
      : h('span', { class: 'attachment' }, inner);
  }));
}

function formatSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The element for one message. `ctx` = {contactName, meId}. */
export function renderMessage(m, ctx) {
  const note = m.kind === 'note';
  const system = m.author_kind === 'system' && !note;
  const side = note || m.direction === 'out' ? 'out' : 'in';
  const cls = ['msg', `msg-${side}`, `author-${m.author_kind}`];
  if (note) cls.push('note');
  if (system) cls.push('msg-system');
  if (m.state === 'failed') cls.push('is-failed');
  if (m.deleted_at) cls.push('is-deleted');
  const attrs = {
    class: cls.join(' '), 'data-testid': 'message', 'data-message-id': m.id,
    'data-kind': m.kind, 'data-day': dayKey(m.created_at),
  };
  const text = h('div', { class: 'msg-text', 'data-testid': 'message-text' }, formatted(m.text, m.entities));

  if (system) {
    return h('div', attrs, h('div', { class: 'system-line' }, text,
      h('time', { class: 'msg-time', datetime: m.created_at, title: fullDate(m.created_at) }, timeOf(m.created_at))));
  }

  const who = authorName(m, ctx.contactName);
  const head = h('div', { class: 'msg-head' },
    note && h('span', { class: 'note-label' }, icon('lock'), 'Note'),
    h('span', { class: 'msg-author' }, m.author_kind === 'operator' && m.author?.id === ctx.meId ? `${who} (you)` : who),
    m.channel && !note && h('span', { class: 'msg-channel' }, channelIcon(m.channel, 13),
      h('span', { class: 'msg-channel-name' }, m.channel.name || channelLabel(m.channel.kind))));
  const buttons = m.buttons?.length
    ? h('div', { class: 'msg-buttons', 'aria-label': 'Buttons offered' }, m.buttons.map((b) => h('span', { class: 'msg-button' }, b.label)))
    : null;
  const meta = h('div', { class: 'msg-meta' },
    m.edited_at && h('span', { class: 'edited', title: `Edited ${fullDate(m.edited_at)}` }, 'edited'),
    m.deleted_at && h('span', { class: 'deleted', 'data-testid': 'message-deleted', title: `Deleted by the contact ${fullDate(m.deleted_at)}` }, 'deleted'),
    h('time', { class: 'msg-time', datetime: m.created_at, title: fullDate(m.created_at) }, timeOf(m.created_at)),
    ticks(m));
  const reactions = m.reactions?.length
    ? h('div', { class: 'msg-reactions', 'data-testid': 'message-reactions', 'aria-label': 'Reactions' },
      m.reactions.map((r) => h('span', { class: 'msg-reaction', title: r.by === 'contact' ? 'The contact reacted' : '' }, r.emoji)))
    : null;
  const failed = m.state === 'failed'
    ? h('div', { class: 'msg-failed', role: 'note' }, icon('alert'),
      h('span', { 'data-testid': 'failure-reason' }, `Not delivered${m.failure_reason ? ': ' + m.failure_reason : ''}`))
    : null;
  return h('div', attrs,
    h('div', { class: 'bubble', title: note ? 'Internal note: only operators see it' : null },
      head, (m.text || !m.attachments?.length) && text, attachments(m.attachments), buttons, meta),
    reactions, failed);
}

/** Appends messages (oldest first) to `container` as a fragment with day separators. */
export function renderBatch(messages, ctx, prevDay = null) {
  const frag = document.createDocumentFragment();
  let day = prevDay;
  for (const m of messages) {
    const k = dayKey(m.created_at);
    if (k !== day) { frag.append(daySeparator(m.created_at)); day = k; }
    frag.append(renderMessage(m, ctx));
  }
  return frag;
}
