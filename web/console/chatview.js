// chatview.js — the middle pane: header with actions, the contact's channels bar, the
// history (older pages load when scrolling up, live messages appended/updated in place),
// the "typing…" line, and the composer (composer.js) under it.

import { api, qs } from './api.js';
import { h, icon, avatar, channelIcon, channelLabel, dayKey } from './dom.js';
import { renderMessage, renderBatch, daySeparator, authorName } from './messages.js';
import { Composer } from './composer.js';

const PAGE = 50;
const TYPING_SHOW = 5000;    // ms a "typing…" frame stays visible

export class ChatView {
  /** ctx: {me, onChat(chat), onOpened(chat), transfer(chat), merge(chat), showContact(), back(),
   *        flash(text, opts), announce(text), operatorName(id), markSelf(chatId)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.chat = null;
    this.seq = 0;
    this.composer = new Composer({ flash: ctx.flash, onSent: (m) => this.addMessage(m, { posted: true }) });
    this.typingTimer = 0;
    this.readTimer = 0;
    this.el = h('section', { class: 'pane pane-chat', 'aria-label': 'Conversation' });
    this.showEmpty();
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.chat?.unread_count > 0) this.markRead();
    });
  }

  get chatId() { return this.chat?.id ?? null; }

  showEmpty() {
    this.chat = null;
    this.el.replaceChildren(h('div', { class: 'empty-pane' },
      h('div', { class: 'empty-art', 'aria-hidden': 'true' }, icon('send')),
      h('h2', {}, 'No chat selected'),
      h('p', {}, 'Pick a chat on the left. Use ↑ and ↓ to move between chats, / to search.')));
  }

  async open(id) {
    const seq = ++this.seq;
    this.composer.switchTo(null);
    this.chat = null; // events for the old chat must not land in the one being loaded
    // The old chat goes at once (nothing stale to read or click); the "Loading" text only
    // fades in if loading is slow, so walking the list with the arrow keys doesn't flicker.
    this.el.replaceChildren(h('div', { class: 'empty-pane', 'aria-busy': 'true' }, h('p', { class: 'loading loading-delayed' }, 'Loading chat…')));
    try {
      const [chat, page] = await Promise.all([
        api.get(`/chats/${id}`), api.get(`/chats/${id}/messages` + qs({ limit: PAGE })),
      ]);
      if (seq !== this.seq) return;
      this.chat = chat;
      this.build();
      this.hasMore = !!page.has_more;
      this.els = new Map();
      this.ids = [];
      this.addOlder(page.messages || []);
      this.scrollToBottom();
      this.markRead();
      this.ctx.onOpened(chat);
    } catch (e) {
      if (seq !== this.seq) return;
      this.chat = null;
      this.el.replaceChildren(h('div', { class: 'empty-pane' }, h('h2', {}, 'This chat could not be opened'),
        h('p', { class: 'error-text' }, e.message)));
    }
  }

  build() {
    const c = this.chat;
    this.header = h('header', { class: 'chat-head' });
    this.channelsBar = h('nav', { class: 'channels-bar', 'aria-label': 'Reply channel' });
    this.msgs = h('div', { class: 'msgs' });
    this.top = h('div', { class: 'history-top' });
    this.history = h('div', { class: 'history', tabindex: '0', 'aria-label': 'Message history' }, this.top, this.msgs);
    this.history.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.jump = h('button', { class: 'jump-new', type: 'button', hidden: true, onclick: () => this.scrollToBottom() }, 'New messages ↓');
    this.typing = h('div', { class: 'typing-line', 'aria-live': 'polite', 'data-testid': 'typing' });
    this.closedBar = h('div', { class: 'closed-bar', hidden: true });
    this.el.replaceChildren(h('div', { class: 'chat-view', 'data-testid': 'chat-view', 'data-chat-id': c.id },
      this.header, this.channelsBar,
      h('div', { class: 'history-wrap' }, this.history, this.jump),
      this.typing, this.closedBar, this.composer.el));
    this.composer.switchTo(c);
    this.renderHead();
  }

  renderHead() {
    const c = this.chat;
    const me = this.ctx.me;
    const open = c.status === 'open';
    const assignee = c.assignee ? (c.assignee.id === me.id ? 'You' : c.assignee.name) : 'Unassigned';
    this.header.replaceChildren(
      h('button', { class: 'icon-btn only-narrow', type: 'button', 'aria-label': 'Back to chats', onclick: () => this.ctx.back() }, icon('back')),
      avatar(c.contact?.id, c.contact?.name),
      h('div', { class: 'chat-title' },
        h('h2', { 'data-testid': 'chat-contact-name' }, c.contact?.name || `Chat #${c.id}`),
        h('div', { class: 'chat-sub' },
          h('span', { class: `pill pill-${c.status}`, 'data-testid': 'chat-status' }, open ? 'Open' : 'Closed'),
          h('span', { class: 'assignee', 'data-testid': 'chat-assignee' }, icon('user'), assignee),
          c.handler === 'bot' && h('span', { class: 'pill pill-bot' }, 'Bot'))),
      h('div', { class: 'chat-actions' },
        open
          ? h('button', { class: 'btn', type: 'button', 'data-testid': 'close-chat', onclick: () => this.setStatus('close') }, icon('done'), 'Close')
          : h('button', { class: 'btn', type: 'button', 'data-testid': 'reopen-chat', onclick: () => this.setStatus('reopen') }, icon('reopen'), 'Reopen'),
        h('button', { class: 'icon-btn bordered', type: 'button', 'data-testid': 'transfer', 'aria-label': 'Transfer to another operator', title: 'Transfer', onclick: () => this.ctx.transfer(c) }, icon('transfer')),
        h('button', { class: 'icon-btn bordered', type: 'button', 'data-testid': 'merge', 'aria-label': 'Merge with another contact', title: 'Merge contacts', onclick: () => this.ctx.merge(c) }, icon('merge')),
        h('button', { class: 'icon-btn bordered not-wide', type: 'button', 'aria-label': 'Contact details', title: 'Contact details', onclick: () => this.ctx.showContact() }, icon('info'))));
    const active = c.active_channel?.id;
    const channels = [...new Map((c.channels || []).map((ch) => [ch.id, ch])).values()];
    this.channelsBar.replaceChildren(h('span', { class: 'channels-label' }, 'Reply via'),
      ...channels.map((ch) => h('button', {
        type: 'button', class: `channel-chip${ch.id === active ? ' active' : ''}`, 'data-testid': 'channel-chip',
        'data-channel-id': ch.id, 'aria-pressed': String(ch.id === active),
        title: ch.id === active ? 'Replies go here' : `Reply through ${ch.name || channelLabel(ch.kind)} from now on`,
        onclick: () => this.switchChannel(ch),
      }, channelIcon(ch, 16), ch.name || channelLabel(ch.kind))));
    if (!channels.length) this.channelsBar.append(h('span', { class: 'muted' }, 'No channel to reply through'));
    this.closedBar.hidden = open;
    if (!open) this.closedBar.replaceChildren('This chat is closed. It moves back to Open when the contact writes again.');
    this.composer.update(c);
  }

  // ---- actions -------------------------------------------------------------------------
  async setStatus(action) {
    const id = this.chat.id;
    try {
      this.ctx.markSelf(id);
      const chat = await api.post(`/chats/${id}/${action}`);
      this.onChatUpdated(chat);
      this.ctx.onChat(chat);
      if (action === 'close') {
        this.ctx.flash('Chat closed. You can find it under Closed.', { action: { label: 'Undo', run: () => this.chat?.id === id && this.setStatus('reopen') } });
      } else this.ctx.flash('Chat reopened.');
    } catch (e) { this.ctx.flash(e.message, { kind: 'error' }); }
  }

  async switchChannel(ch) {
    if (ch.id === this.chat.active_channel?.id) return;
    try {
      const chat = await api.put(`/chats/${this.chat.id}/channel`, { channel_id: ch.id });
      this.onChatUpdated(chat);
      this.ctx.onChat(chat);
      this.ctx.flash(`Replies now go through ${ch.name || channelLabel(ch.kind)}.`);
    } catch (e) { this.ctx.flash(e.message, { kind: 'error' }); }
  }

  markRead() {
    clearTimeout(this.readTimer);
    // Coalesce bursts of incoming messages into one request.
    this.readTimer = setTimeout(async () => {
      if (!this.chat || document.visibilityState !== 'visible') return;
      const id = this.chat.id;
      try {
        const chat = await api.post(`/chats/${id}/read`);
        if (chat) { this.ctx.onChat(chat); if (this.chat?.id === id) this.chat = { ...this.chat, unread_count: 0 }; }
      } catch { /* the badge just stays; the next message retries */ }
    }, 150);
  }

  // ---- history -------------------------------------------------------------------------
  addOlder(messages) {
    const fresh = messages.filter((m) => !this.els.has(m.id));
    if (!fresh.length) { this.updateTop(); return; }
    const oldHeight = this.history.scrollHeight;
    const oldTop = this.history.scrollTop;
    this.composer.sawMessages(fresh);
    const frag = renderBatch(fresh, this.msgCtx());
    // The old first day separator is dropped when the new batch ends on the same day.
    const first = this.msgs.firstElementChild;
    if (first?.classList.contains('day-sep') && first.dataset.day === dayKey(fresh[fresh.length - 1].created_at)) first.remove();
    this.msgs.prepend(frag);
    for (const m of fresh) this.els.set(m.id, this.msgs.querySelector(`[data-message-id="${m.id}"]`));
    this.ids = [...fresh.map((m) => m.id), ...this.ids];
    this.history.scrollTop = oldTop + (this.history.scrollHeight - oldHeight);
    this.updateTop();
  }

  updateTop() {
    this.top.replaceChildren(this.loadingOlder ? h('span', { class: 'loading' }, 'Loading earlier messages…')
      : this.hasMore ? h('button', { class: 'btn btn-ghost', type: 'button', onclick: () => this.loadOlder() }, 'Load earlier messages')
        : h('span', { class: 'muted' }, this.ids.length ? 'Beginning of the conversation' : 'No messages yet'));
  }

  onScroll() {
    if (this.history.scrollTop < 200) this.loadOlder();
    if (this.nearBottom()) this.jump.hidden = true;
  }

  async loadOlder() {
    if (!this.hasMore || this.loadingOlder || !this.ids.length) return;
    const id = this.chat.id;
    this.loadingOlder = true;
    this.updateTop();
    try {
      const page = await api.get(`/chats/${id}/messages` + qs({ before: this.ids[0], limit: PAGE }));
      if (this.chat?.id !== id) return;
      this.hasMore = !!page.has_more;
      this.loadingOlder = false;
      this.addOlder(page.messages || []);
    } catch (e) {
      this.ctx.flash(`Could not load earlier messages: ${e.message}`, { kind: 'error' });
    } finally { this.loadingOlder = false; if (this.chat?.id === id) this.updateTop(); }
  }

  msgCtx() { return { contactName: this.chat?.contact?.name, meId: this.ctx.me.id }; }

  nearBottom() { return this.history.scrollHeight - this.history.scrollTop - this.history.clientHeight < 120; }

  scrollToBottom() { this.history.scrollTop = this.history.scrollHeight; this.jump.hidden = true; }

  /** A message for this chat (from an event or our own POST): append, or update if known.
   *  The answer to our own POST is older than any event about the message: when the socket
   *  was first (the platform already sent, delivered or failed it), that answer is dropped. */
  addMessage(m, { posted = false } = {}) {
    if (!this.chat || m.chat_id !== this.chat.id) return;
    if (this.els.has(m.id)) { if (!posted) this.updateMessage(m); return; }
    this.composer.sawMessages([m]);
    const stick = this.nearBottom();
    const el = renderMessage(m, this.msgCtx());
    const lastEl = this.els.get(this.ids[this.ids.length - 1]);
    const nextId = this.ids.find((x) => x > m.id);
    if (nextId != null) {
      // Arrived out of order (rare): put it before the first newer message.
      this.els.get(nextId).before(el);
      this.ids.splice(this.ids.indexOf(nextId), 0, m.id);
    } else {
      if (!lastEl || lastEl.dataset.day !== dayKey(m.created_at)) this.msgs.append(daySeparator(m.created_at));
      this.msgs.append(el);
      this.ids.push(m.id);
    }
    this.els.set(m.id, el);
    this.updateTop();
    const mine = m.author_kind === 'operator' && m.author?.id === this.ctx.me.id;
    if (stick || mine) this.scrollToBottom(); else this.jump.hidden = false;
    if (m.direction === 'in' && m.kind !== 'note') {
      this.setTyping(null);
      this.ctx.announce(`New message from ${authorName(m, this.chat.contact?.name)}: ${(m.text || 'attachment').slice(0, 200)}`);
      this.markRead();
    }
  }

  updateMessage(m) {
    const old = this.els.get(m.id);
    if (!old) return;
    const el = renderMessage(m, this.msgCtx());
    old.replaceWith(el);
    this.els.set(m.id, el);
  }

  /** Fetch the newest page and add what we don't have (after transfer, merge, reconnect). */
  async refreshTail() {
    if (!this.chat) return;
    const id = this.chat.id;
    try {
      const page = await api.get(`/chats/${id}/messages` + qs({ limit: PAGE }));
      if (this.chat?.id === id) for (const m of page.messages || []) this.addMessage(m);
    } catch { /* live events will catch up */ }
  }

  onChatUpdated(chat) {
    if (!this.chat || chat.id !== this.chat.id) return;
    this.chat = { ...this.chat, ...chat };
    this.renderHead();
  }

  onTyping(d) {
    if (!this.chat || d.chat_id !== this.chat.id) return;
    if (d.who === 'contact') this.setTyping(`${this.chat.contact?.name || 'Contact'} is typing…`);
    else if (d.who === 'operator' && d.operator_id !== this.ctx.me.id) this.setTyping(`${this.ctx.operatorName(d.operator_id)} is typing…`);
  }

  setTyping(text) {
    clearTimeout(this.typingTimer);
    this.typing.textContent = text || '';
    this.typing.classList.toggle('on', !!text);
    if (text) this.typingTimer = setTimeout(() => this.setTyping(null), TYPING_SHOW);
  }
}
