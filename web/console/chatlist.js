// chatlist.js — the left pane: Open/Closed switch, All/Unread/My/Others filters, the
// other-operator notice, and the list of chats. Rows are keyed by chat id; live updates
// are queued and applied once per animation frame, touching only the affected rows, so
// the list stays smooth while dozens of messages a second arrive.

import { api, qs } from './api.js';
import { h, icon, avatar, relTime, statusDot } from './dom.js';
import { createSearch } from './search.js';
import { renderRow } from './chatrow.js';

const PAGE = 50;
const stamp = (iso) => (iso ? Date.parse(iso) : 0);
const sortKey = (c) => stamp(c.last_message_at || c.updated_at || c.created_at);
// Newest activity first; id breaks ties so the order is stable.
const before = (a, b) => sortKey(a) > sortKey(b) || (sortKey(a) === sortKey(b) && a.id > b.id);

export class ChatList {
  /** ctx: {me, operators(), openChat(id), onCounts(counts), flash(text)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.status = 'open';
    this.view = 'all';
    this.operatorId = null;
    this.selectedId = null;
    this.chats = new Map();   // id → chat (only chats shown in the list)
    this.rows = new Map();    // id → <li>
    this.order = [];          // ids, sorted like the DOM
    this.pending = new Map(); // id → newest chat seen, waiting for the next frame
    this.raf = 0;
    this.loading = false;
    this.hasMore = false;
    this.seq = 0;
    this.build();
    setInterval(() => this.refreshTimes(), 30000);
  }

  build() {
    const tab = (status, label) => h('button', {
      type: 'button', class: 'seg-btn', 'data-testid': `tab-${status}`, 'aria-pressed': 'false',
      onclick: () => this.setFilter({ status }),
    }, label, h('span', { class: 'count' }));
    const filter = (view, label, testid) => h('button', {
      type: 'button', class: 'chip', 'data-testid': `filter-${testid}`, 'aria-pressed': 'false',
      onclick: () => (view === 'operator' ? this.togglePicker() : this.setFilter({ view })),
    }, label, h('span', { class: 'count' }));
    this.tabs = { open: tab('open', 'Open'), closed: tab('closed', 'Closed') };
    this.filters = {
      all: filter('all', 'All', 'all'), unread: filter('unread', 'Unread', 'unread'),
      mine: filter('mine', 'My', 'mine'), bot: filter('bot', 'Bot', 'bot'), operator: filter('operator', 'Others', 'others'),
    };
    this.filters.operator.append(icon('chevron'));
    this.filters.operator.setAttribute('aria-haspopup', 'listbox');
    this.filters.operator.setAttribute('aria-expanded', 'false');
    this.picker = h('div', { class: 'operator-picker', role: 'listbox', 'aria-label': 'Show chats of operator', hidden: true });
    this.picker.addEventListener('keydown', (e) => this.pickerKeys(e));
    document.addEventListener('pointerdown', (e) => {
      if (!this.picker.hidden && !this.picker.contains(e.target) && !this.filters.operator.contains(e.target)) this.closePicker();
    });
    this.notice = h('div', { class: 'viewing-notice', 'data-testid': 'viewing-notice', role: 'status', hidden: true });
    this.search = createSearch({ openChat: this.ctx.openChat, flash: this.ctx.flash });
    this.list = h('ul', { class: 'chat-list', 'data-testid': 'chat-list', 'aria-label': 'Chats', 'aria-busy': 'false' });
    this.empty = h('p', { class: 'list-empty', hidden: true });
    this.more = h('p', { class: 'list-more', hidden: true }, 'Loading more…');
    this.scroller = h('div', { class: 'list-scroll' }, this.list, this.empty, this.more);
    this.scroller.addEventListener('scroll', () => this.maybeLoadMore(), { passive: true });
    this.el = h('section', { class: 'pane pane-list', 'aria-label': 'Chat list' },
      h('div', { class: 'list-head' },
        this.search.el,
        h('div', { class: 'segmented', role: 'group', 'aria-label': 'Chat status' }, this.tabs.open, this.tabs.closed),
        h('div', { class: 'filters', role: 'group', 'aria-label': 'Filter chats' }, Object.values(this.filters)),
        this.picker),
      this.notice, this.scroller);
    this.syncControls();
  }

  // ---- filters ------------------------------------------------------------------------
  setFilter({ status = this.status, view = this.view, operatorId = this.operatorId }) {
    this.status = status;
    this.view = view;
    this.operatorId = view === 'operator' ? operatorId : null;
    this.closePicker();
    this.syncControls();
    this.load();
  }

  syncControls() {
    for (const [s, b] of Object.entries(this.tabs)) b.setAttribute('aria-pressed', String(s === this.status));
    for (const [v, b] of Object.entries(this.filters)) b.setAttribute('aria-pressed', String(v === this.view));
    const op = this.view === 'operator' ? this.ctx.operators().find((o) => o.id === this.operatorId) : null;
    this.notice.hidden = !op;
    if (op) {
      this.notice.replaceChildren(
        icon('user'),
        h('span', { class: 'viewing-text' }, 'You are viewing ', h('strong', {}, op.name), "'s chats"),
        h('button', {
          type: 'button', class: 'icon-btn', 'data-testid': 'viewing-notice-close',
          'aria-label': 'Stop viewing and return to my chats', onclick: () => this.setFilter({ view: 'mine' }),
        }, icon('close')));
    }
  }

  setCounts(counts) {
    if (!counts) return;
    // 10 000 open chats shouldn't push the filters onto two lines: 10k.
    const short = (n) => (n < 1000 ? String(n) : n < 10000 ? `${(n / 1000).toFixed(1)}k` : `${Math.floor(n / 1000)}k`);
    const put = (btn, n) => { btn.querySelector('.count').textContent = n ? short(n) : ''; };
    put(this.tabs.open, counts.open);
    put(this.tabs.closed, counts.closed);
    put(this.filters.unread, counts.unread);
    put(this.filters.mine, counts.mine);
  }

  togglePicker() { if (this.picker.hidden) this.openPicker(); else this.closePicker(); }

  async openPicker() {
    // Fresh list, so a colleague who joined or changed status shows correctly.
    const all = await this.ctx.refreshOperators();
    const others = all.filter((o) => o.id !== this.ctx.me.id);
    this.picker.replaceChildren(...(others.length ? others.map((o) => h('button', {
      type: 'button', role: 'option', class: 'operator-option', 'data-testid': 'operator-option',
      'data-operator-id': o.id, 'aria-selected': String(o.id === this.operatorId),
      onclick: () => this.setFilter({ view: 'operator', operatorId: o.id }),
    }, avatar(o.id, o.name, 'xs'), h('span', { class: 'grow' }, o.name), statusDot(o.status),
    h('span', { class: 'sr-only' }, o.status))) : [h('p', { class: 'empty-note' }, 'No other operators yet.')]));
    this.picker.hidden = false;
    this.filters.operator.setAttribute('aria-expanded', 'true');
    this.picker.querySelector('button')?.focus();
  }

  closePicker() {
    if (this.picker.hidden) return;
    const hadFocus = this.picker.contains(document.activeElement);
    this.picker.hidden = true;
    this.filters.operator.setAttribute('aria-expanded', 'false');
    if (hadFocus) this.filters.operator.focus();
  }

  pickerKeys(e) {
    const items = [...this.picker.querySelectorAll('button')];
    const i = items.indexOf(document.activeElement);
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); this.closePicker(); }
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault(); e.stopPropagation();
      items[(i + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length]?.focus();
    }
  }

  // ---- loading ------------------------------------------------------------------------
  query(extra) {
    return '/chats' + qs({ status: this.status, view: this.view, operator_id: this.operatorId, limit: PAGE, ...extra });
  }

  async load() {
    const seq = ++this.seq;
    this.loading = true;
    this.list.setAttribute('aria-busy', 'true');
    this.scroller.classList.add('is-loading');
    try {
      const data = await api.get(this.query());
      if (seq !== this.seq) return;
      this.chats.clear(); this.rows.clear(); this.order = [];
      this.list.replaceChildren();
      this.scroller.scrollTop = 0;
      const chats = data.chats || [];
      this.hasMore = chats.length >= PAGE;
      for (const c of chats) this.apply(c, true);
      this.ctx.onCounts(data.counts);
      return data;
    } catch (e) {
      if (seq !== this.seq) return;
      this.ctx.flash(`Could not load chats: ${e.message}`, { kind: 'error' });
    } finally {
      if (seq === this.seq) {
        this.loading = false;
        this.list.setAttribute('aria-busy', 'false');
        this.scroller.classList.remove('is-loading');
        this.flush();
      }
    }
  }

  async maybeLoadMore() {
    const s = this.scroller;
    if (this.loading || !this.hasMore || s.scrollTop + s.clientHeight < s.scrollHeight - 300) return;
    const last = this.chats.get(this.order[this.order.length - 1]);
    if (!last) return;
    const seq = this.seq;
    this.loading = true;
    this.more.hidden = false;
    try {
      const data = await api.get(this.query({ before: last.last_message_at || last.updated_at }));
      if (seq !== this.seq) return;
      const chats = data.chats || [];
      this.hasMore = chats.length >= PAGE;
      for (const c of chats) if (!this.chats.has(c.id)) this.apply(c, true);
    } catch (e) {
      this.ctx.flash(`Could not load more chats: ${e.message}`, { kind: 'error' });
    } finally {
      if (seq === this.seq) { this.loading = false; this.more.hidden = true; this.updateEmpty(); }
    }
  }

  // ---- live updates -------------------------------------------------------------------
  /** Queue a chat seen in an event or a response; rows change on the next frame. */
  upsert(chat) {
    if (!chat || chat.id == null) return;
    const queued = this.pending.get(chat.id);
    if (queued && stamp(queued.updated_at) > stamp(chat.updated_at)) return;
    this.pending.set(chat.id, chat);
    if (!this.raf && !this.loading) this.raf = requestAnimationFrame(() => this.flush());
  }

  get(id) { return this.chats.get(id) || this.pending.get(id) || null; }

  flush() {
    this.raf = 0;
    if (this.loading || !this.pending.size) { this.updateEmpty(); return; }
    // No layout reads here: when rows are added above a scrolled list, the browser's
    // scroll anchoring keeps what the operator is looking at in place.
    for (const chat of this.pending.values()) this.apply(chat, false);
    this.pending.clear();
    this.updateEmpty();
  }

  matches(c) {
    if (c.status !== this.status) return false;
    if (this.view === 'unread') return c.unread_count > 0;
    if (this.view === 'mine') return c.assignee?.id === this.ctx.me.id;
    if (this.view === 'bot') return c.handler === 'bot';
    if (this.view === 'operator') return c.assignee?.id === this.operatorId;
    return true;
  }

  apply(chat, fromPage) {
    const prev = this.chats.get(chat.id);
    if (prev && stamp(prev.updated_at) > stamp(chat.updated_at)) return; // an older copy
    // The open chat stays put when it stops matching Unread/My (e.g. it was just read),
    // so it doesn't vanish under the operator; a status change still moves it.
    const sticky = prev && chat.id === this.selectedId && chat.status === this.status;
    if (!this.matches(chat) && !sticky) { if (prev) this.remove(chat.id); return; }
    const lastLoaded = this.chats.get(this.order[this.order.length - 1]);
    // Older than everything loaded while more pages exist: paging will bring it.
    if (!prev && !fromPage && this.hasMore && lastLoaded && before(lastLoaded, chat)) return;
    this.chats.set(chat.id, chat);
    let li = this.rows.get(chat.id);
    if (!li) { li = h('li', { class: 'chat-li' }); this.rows.set(chat.id, li); }
    this.fill(li, chat);
    const old = this.order.indexOf(chat.id);
    if (old >= 0) this.order.splice(old, 1);
    let lo = 0; let hi = this.order.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (before(this.chats.get(this.order[mid]), chat)) lo = mid + 1; else hi = mid; }
    this.order.splice(lo, 0, chat.id);
    const nextEl = lo + 1 < this.order.length ? this.rows.get(this.order[lo + 1]) : null;
    if (!li.isConnected || li.nextSibling !== nextEl) {
      const hadFocus = li.contains(document.activeElement);
      this.list.insertBefore(li, nextEl);
      if (hadFocus) li.firstElementChild.focus({ preventScroll: true });
    }
  }

  remove(id) {
    this.rows.get(id)?.remove();
    this.rows.delete(id);
    this.chats.delete(id);
    const i = this.order.indexOf(id);
    if (i >= 0) this.order.splice(i, 1);
  }

  /** A merged-away contact's chat disappears from the list. */
  removeByContact(contactId) {
    for (const [id, c] of this.chats) if (c.contact?.id === contactId) this.remove(id);
    this.updateEmpty();
  }

  updateContact(contact) {
    for (const c of this.chats.values()) {
      if (c.contact?.id === contact.id) {
        c.contact = { ...c.contact, name: contact.name, phone: contact.phone, email: contact.email, username: contact.username };
        this.fill(this.rows.get(c.id), c);
      }
    }
  }

  fill(li, chat) {
    const row = renderRow(chat, this.ctx.me, chat.id === this.selectedId);
    if (li.firstElementChild && li.contains(document.activeElement)) {
      li.firstElementChild.replaceWith(row);
      row.focus({ preventScroll: true });
    } else li.replaceChildren(row);
  }

  refreshTimes() {
    const now = Date.now();
    for (const t of this.list.querySelectorAll('.row-time')) t.textContent = relTime(t.getAttribute('datetime'), now);
  }

  updateEmpty() {
    const none = !this.loading && this.order.length === 0;
    this.empty.hidden = !none;
    if (none) {
      const what = { all: '', unread: 'unread ', mine: 'of yours ', bot: 'with the bot ', operator: 'of this operator ' }[this.view];
      this.empty.textContent = this.status === 'open'
        ? `No open chats ${what}right now. New conversations appear here as they arrive.`
        : `No closed chats ${what}yet.`;
    }
  }

  // ---- selection and keyboard -----------------------------------------------------------
  setSelected(id) {
    const prev = this.rows.get(this.selectedId)?.firstElementChild;
    if (prev) { prev.classList.remove('selected'); prev.removeAttribute('aria-current'); }
    this.selectedId = id;
    const row = this.rows.get(id)?.firstElementChild;
    if (row) {
      row.classList.add('selected');
      row.setAttribute('aria-current', 'true');
      row.scrollIntoView({ block: 'nearest' });
    }
  }

  /** ArrowUp/ArrowDown: open the previous/next chat in the list. */
  move(delta) {
    if (!this.order.length) return;
    const i = this.order.indexOf(this.selectedId);
    const next = i < 0 ? (delta > 0 ? 0 : this.order.length - 1) : Math.max(0, Math.min(this.order.length - 1, i + delta));
    const id = this.order[next];
    const focusRow = this.list.contains(document.activeElement);
    this.ctx.openChat(id);
    if (focusRow) this.rows.get(id)?.firstElementChild.focus();
  }
}
