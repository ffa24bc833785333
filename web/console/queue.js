// queue.js — the queue in the top bar: how many open chats wait with no assignee, and a
// panel listing them oldest first (how long each has waited, whether the distributor will
// hand it out or someone must take it). Refreshed when chats open, close or change hands.

import { api } from './api.js';
import { h, icon, channelIcon, relTime } from './dom.js';
import { openModal } from './modal.js';

const KINDS = new Set(['chat.opened', 'chat.updated', 'chat.assigned', 'chat.transferred', 'operator.updated', 'contact.merged']);

export class QueueButton {
  /** ctx: {openChat(id)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.data = { chats: [], total: 0, online_operators: 0 };
    this.timer = 0;
    this.panel = null;
    this.count = h('span', { class: 'queue-count', 'data-testid': 'queue-count' }, '0');
    this.el = h('button', {
      type: 'button', class: 'queue-btn', 'data-testid': 'queue-button', 'aria-haspopup': 'dialog',
      onclick: () => this.open(),
    }, icon('clock'), h('span', { class: 'queue-label' }, 'Queue'), this.count);
    this.refresh();
    setInterval(() => this.refresh(), 30000);
  }

  /** Live events: re-read the queue soon after anything that can change it. */
  onEvent(ev) {
    if (!KINDS.has(ev.kind) || this.timer) return;
    this.timer = setTimeout(() => { this.timer = 0; this.refresh(); }, 400);
  }

  async refresh() {
    try {
      this.data = await api.get('/queue?limit=100');
    } catch { return; }
    const n = this.data.total;
    this.count.textContent = String(n);
    this.el.classList.toggle('has-waiting', n > 0);
    this.el.setAttribute('aria-label', n ? `Queue: ${n} chat${n === 1 ? '' : 's'} waiting` : 'Queue: no chat waiting');
    if (this.panel?.open) this.fillPanel();
  }

  open() {
    this.body = h('div', { class: 'queue-panel' });
    this.panel = openModal({ title: 'Waiting chats', testid: 'queue-panel', variant: 'panel', className: 'panel-right', body: [this.body] });
    this.fillPanel();
    this.refresh();
  }

  fillPanel() {
    const { chats, total, online_operators: online } = this.data;
    const summary = h('p', { class: 'muted small' },
      `${total} waiting · ${online} operator${online === 1 ? '' : 's'} Online`,
      total > chats.length ? ` · showing the oldest ${chats.length}` : '');
    if (!chats.length) {
      this.body.replaceChildren(summary, h('p', { class: 'empty-note' }, 'No chat is waiting.'));
      return;
    }
    const items = chats.map((c, i) => h('li', {},
      h('button', {
        type: 'button', class: 'queue-item', 'data-testid': 'queue-item', 'data-chat-id': c.id,
        onclick: () => { this.panel?.close(); this.ctx.openChat(c.id); },
      },
      h('span', { class: 'queue-pos', 'aria-label': `Position ${i + 1}` }, String(i + 1)),
      channelIcon(c.active_channel),
      h('span', { class: 'queue-main' },
        h('span', { class: 'queue-name' }, c.contact?.name || `Chat #${c.id}`),
        h('span', { class: 'queue-text muted small' }, c.last_message?.text || '')),
      h('span', { class: 'queue-meta small' },
        h('span', { title: c.waiting_since }, waited(c.waiting_since)),
        c.distribution ? null : h('span', { class: 'pill queue-manual', title: 'Distribution is off for this channel: take it by hand' }, 'by hand')))));
    this.body.replaceChildren(summary, h('ol', { class: 'queue-list' }, items));
  }
}

function waited(iso) {
  const t = relTime(iso);
  return t === 'now' ? 'just now' : `waiting ${t}`;
}
