// app.js — entry point: picks the page (/login, /setup, or the console), builds the
// three panes, routes #chat=ID, dispatches live events to the panes, decides which events
// deserve a notification, and owns the keyboard shortcuts.

import { api, qs, serverNow } from './api.js';
import { h, inTextField } from './dom.js';
import { EventStream } from './events.js';
import { renderLogin, renderSetup } from './auth.js';
import { ChatList } from './chatlist.js';
import { ChatView } from './chatview.js';
import { ContactCard } from './contactcard.js';
import { openTransfer, openMerge } from './dialogs.js';
import { OperatorMenu } from './operator.js';
import { Notifier } from './notify.js';
import { anyModalOpen } from './modal.js';
import { ReportsPage } from './reports.js';
import { BroadcastsPage } from './broadcasts.js';
import { QueueButton } from './queue.js';
import { SettingsPage } from './settings.js';
import { BotsPage } from './bots.js';

const root = document.getElementById('app');
const narrow = window.matchMedia('(max-width: 700px)');

const state = {
  me: null,
  operators: [],
  assignees: new Map(),   // chat id → last known assignee id, to tell a new assignment apart
  selfActions: new Map(), // chat id → time I acted on it (my own transfers aren't news to me)
  recentNotices: new Map(),
};
let list; let view; let card; let menu; let notifier; let panes; let conn;
let reports; let queue;
let settings;
let bots;
let broadcasts;

// ---- helpers shared with the panes ------------------------------------------------------
function openChat(id) {
  const hash = `#chat=${id}`;
  if (location.hash === hash) selectChat(Number(id), true); else location.hash = hash;
}

function setPane(p) { panes.dataset.pane = p; if (p !== 'contact') panes.dataset.contactOpen = 'false'; }

const live = h('div', { class: 'sr-only', 'aria-live': 'polite', id: 'sr-live' });
function announce(text) {
  live.textContent = '';
  requestAnimationFrame(() => { live.textContent = text; });
}

const operatorName = (id) => state.operators.find((o) => o.id === id)?.name || 'Another operator';
const markSelf = (chatId) => state.selfActions.set(chatId, Date.now());
const flash = (text, opts) => notifier.flash(text, opts);

let countsTimer = 0; let countsAt = 0;
/** Counts (and the tab title) are re-read at most every 2 s, however busy the stream is. */
function scheduleCounts() {
  if (countsTimer) return;
  countsTimer = setTimeout(async () => {
    countsAt = Date.now();
    try {
      const d = await api.get('/chats' + qs({ status: 'open', view: 'all', limit: 1 }));
      onCounts(d.counts);
    } catch { /* next event retries */ } finally { countsTimer = 0; }
  }, Math.max(300, 2000 - (Date.now() - countsAt)));
}

function onCounts(counts) {
  if (!counts) return;
  list.setCounts(counts);
  notifier.setUnread(counts.unread || 0);
}

function rememberChat(chat) {
  if (chat && chat.id != null) state.assignees.set(chat.id, chat.assignee?.id ?? null);
}

// ---- chat opening ------------------------------------------------------------------------
function onHash() {
  if (bots.route(location.hash, panes)) { reports.el.hidden = true; settings.el.hidden = true; broadcasts.route('', panes); return; } // #bots…
  if (broadcasts.route(location.hash, panes)) { reports.el.hidden = true; settings.el.hidden = true; return; } // #broadcasts…
  if (settings.route(location.hash, panes)) { reports.el.hidden = true; return; } // #settings…: admins only
  if (reports.route(location.hash, panes)) return; // #reports…: the Reports page instead of the panes
  const m = location.hash.match(/^#chat=(\d+)$/);
  if (m) { selectChat(Number(m[1])); return; }
  list.setSelected(null);
  view.showEmpty();
  card.clear();
  setPane('list');
}

function selectChat(id, force) {
  setPane('chat');
  if (view.chatId === id && !force) return;
  list.setSelected(id);
  if (view.chatId !== id) { card.clear(); view.open(id); }
}

const prompted = new Set(JSON.parse(sessionStorage.getItem('parley:dup-prompted') || '[]'));

async function onOpened(chat) {
  rememberChat(chat);
  list.upsert(chat);
  list.setSelected(chat.id);
  if (chat.contact) card.show(chat.contact.id);
  // The same person writing from another channel: offer to unite, once per chat per session.
  if (!chat.contact || prompted.has(chat.id)) return;
  try {
    const dups = (await api.get(`/contacts/${chat.contact.id}/duplicates`)).contacts || [];
    if (!dups.length || view.chatId !== chat.id || anyModalOpen()) return;
    const target = await api.get(`/contacts/${chat.contact.id}`);
    if (view.chatId !== chat.id || anyModalOpen()) return;
    prompted.add(chat.id);
    sessionStorage.setItem('parley:dup-prompted', JSON.stringify([...prompted]));
    openMerge({ target, duplicates: dups, flash, onDone: afterMerge });
  } catch { /* no prompt is fine */ }
}

async function startMerge(chat) {
  try {
    const target = await api.get(`/contacts/${chat.contact.id}`);
    openMerge({ target, flash, onDone: afterMerge });
  } catch (e) { flash(e.message, { kind: 'error' }); }
}

function afterMerge(contact, source) {
  if (source) list.removeByContact(source.id);
  if (view.chatId != null) view.open(view.chatId);
  card.onContactUpdated(contact);
}

async function startTransfer(chat) {
  try {
    state.operators = (await api.get('/operators')).operators || state.operators;
  } catch { /* use what we have */ }
  openTransfer({
    chat, me: state.me, operators: state.operators, flash, markSelf,
    onDone: (c) => { list.upsert(c); view.onChatUpdated(c); rememberChat(c); view.refreshTail(); },
  });
}

// ---- live events -------------------------------------------------------------------------
let bootAt = 0;
function onEventGuarded(ev) {
  if (ev.id != null && ev.at && Date.parse(ev.at) < bootAt) return; // already in the loaded state
  onEvent(ev);
}

function onEvent(ev) {
  const d = ev.data || {};
  queue.onEvent(ev);
  broadcasts.onEvent(ev);
  switch (ev.kind) {
    case 'message.created':
      if (d.chat) { list.upsert(d.chat); view.onChatUpdated(d.chat); rememberChat(d.chat); }
      else if (d.message) patchFromMessage(d.message);
      if (d.message) view.addMessage(d.message);
      scheduleCounts();
      break;
    case 'message.updated':
      if (d.message) {
        view.updateMessage(d.message);
        const c = list.get(d.message.chat_id);
        if (c?.last_message?.id === d.message.id) list.upsert({ ...c, last_message: d.message });
      }
      break;
    case 'chat.opened':      // a new chat, or a closed one the contact brought back
    case 'chat.updated':
    case 'chat.assigned':    // the distributor handed it out (or back to the queue)
    case 'chat.transferred':
      if (!d.chat) break;
      maybeNotify(ev, d);
      list.upsert(d.chat);
      view.onChatUpdated(d.chat);
      rememberChat(d.chat);
      if (ev.kind === 'chat.transferred' && view.chatId === d.chat.id) {
        if (d.note) view.addMessage(d.note); else view.refreshTail();
      }
      scheduleCounts();
      break;
    case 'operator.updated':
      if (!d.operator) break;
      state.operators = state.operators.some((o) => o.id === d.operator.id)
        ? state.operators.map((o) => (o.id === d.operator.id ? d.operator : o)) : [...state.operators, d.operator];
      if (d.operator.id === state.me.id) setMe(d.operator);
      break;
    case 'contact.updated':
      if (!d.contact) break;
      list.updateContact(d.contact);
      card.onContactUpdated(d.contact);
      if (view.chat?.contact?.id === d.contact.id) view.onChatUpdated({ id: view.chatId, contact: { ...view.chat.contact, name: d.contact.name } });
      break;
    case 'contact.merged':
      list.removeByContact(d.source_id);
      if (d.source_chat_id != null) list.remove(d.source_chat_id);
      if (view.chat?.contact?.id === d.target_id) { view.open(view.chatId); card.show(d.target_id); }
      else if (view.chat?.contact?.id === d.source_id) {
        // Someone merged the contact I am looking at into another: follow it.
        api.get(`/contacts/${d.target_id}`).then((c) => c.chat_id && openChat(c.chat_id)).catch(() => {});
      }
      scheduleCounts();
      break;
    case 'typing':
      view.onTyping({ chat_id: d.chat_id ?? ev.chat_id, who: d.who, operator_id: d.operator_id });
      break;
    default: break;
  }
}

/** A message event without its chat: move the row ourselves, or fetch a chat we don't know. */
const fetching = new Set();
function patchFromMessage(m) {
  const c = list.get(m.chat_id);
  if (c) {
    const unread = m.direction === 'in' && m.kind !== 'note' && view.chatId !== m.chat_id;
    list.upsert({ ...c, last_message: m, last_message_at: m.created_at, updated_at: m.created_at, unread_count: c.unread_count + (unread ? 1 : 0) });
  } else if (!fetching.has(m.chat_id)) {
    fetching.add(m.chat_id);
    api.get(`/chats/${m.chat_id}`).then((chat) => { list.upsert(chat); rememberChat(chat); })
      .catch(() => {}).finally(() => fetching.delete(m.chat_id));
  }
}

/** Toast + bell when a chat becomes mine through someone else (distributor or a colleague). */
function maybeNotify(ev, d) {
  const chat = d.chat;
  const me = state.me.id;
  const to = ev.kind === 'chat.transferred' ? (d.to_operator_id ?? chat.assignee?.id) : chat.assignee?.id;
  if (to !== me) return;
  const known = list.get(chat.id);
  const prev = state.assignees.has(chat.id) ? state.assignees.get(chat.id) : known ? (known.assignee?.id ?? null) : undefined;
  const transfer = ev.kind === 'chat.transferred';
  if (!transfer && prev === me) return;                          // already mine: not news
  // A chat we never saw: only news if it has something waiting (a read receipt isn't).
  if (!transfer && prev === undefined && !(chat.unread_count > 0)) return;
  if (d.by_operator_id === me) return;                                   // I did it
  if (Date.now() - (state.selfActions.get(chat.id) || 0) < 10000) return; // I did it (no by_operator_id)
  if (ev.at && Date.now() - Date.parse(ev.at) > 120000) return;  // a replay of old news
  const key = `${chat.id}:${to}`;
  if (Date.now() - (state.recentNotices.get(key) || 0) < 5000) return; // transferred + updated pair
  state.recentNotices.set(key, Date.now());
  const who = chat.contact?.name || `Chat #${chat.id}`;
  if (transfer) {
    const by = d.by_operator_id ?? d.from_operator_id;
    const title = by != null ? `${operatorName(by)} transferred a chat to you` : 'A chat was transferred to you';
    notifier.notify({ title, text: d.comment ? `${who}: “${d.comment}”` : who, chatId: chat.id });
  } else {
    notifier.notify({ title: 'New chat assigned to you', text: who, chatId: chat.id });
  }
}

function setMe(me) {
  state.me = { ...state.me, ...me };
  for (const c of [list?.ctx, view?.ctx, menu?.ctx]) if (c) c.me = state.me;
  menu?.update(state.me);
}

function onConn(s) {
  const wasOffline = conn.dataset.state === 'offline';
  conn.dataset.state = s;
  conn.textContent = s === 'live' ? '' : s === 'offline' ? 'Reconnecting…' : 'Connecting…';
  conn.hidden = s === 'live';
  if (s === 'live' && wasOffline) { scheduleCounts(); view.refreshTail(); }
}

// ---- keyboard ----------------------------------------------------------------------------
function onKey(e) {
  if (anyModalOpen() || panes.hidden || e.ctrlKey || e.metaKey) return; // not on Reports/Settings
  if (e.key === '/' && !inTextField() && !e.altKey) { e.preventDefault(); list.search.focus(); return; }
  if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && !e.shiftKey && (e.altKey || !inTextField())) {
    // Without Alt, leave arrows to places that use them (scrolling history, menus).
    if (!e.altKey && document.activeElement?.closest('.history, .operator-picker, .search-results, [role=radiogroup]')) return;
    e.preventDefault();
    list.move(e.key === 'ArrowDown' ? 1 : -1);
  }
}

// ---- boot --------------------------------------------------------------------------------
async function startConsole() {
  root.replaceChildren(h('div', { class: 'splash' }, h('span', { class: 'brand-mark' }, 'P'), 'Loading Parley…'));
  let me;
  try { me = await api.get('/me'); } catch (e) {
    if (e.status !== 401) root.replaceChildren(h('div', { class: 'splash error-text' }, `Cannot start: ${e.message}`));
    return;
  }
  state.me = me;
  try { state.operators = (await api.get('/operators')).operators || []; } catch { state.operators = [me]; }
  notifier = new Notifier({ openChat });
  const ctx = {
    me, flash, openChat, onCounts,
    operators: () => state.operators,
    refreshOperators: async () => {
      try { state.operators = (await api.get('/operators')).operators || state.operators; } catch { /* keep the cache */ }
      return state.operators;
    },
  };
  list = new ChatList({ ...ctx });
  view = new ChatView({
    me, flash, announce, operatorName, markSelf, onOpened,
    onChat: (c) => { list.upsert(c); rememberChat(c); scheduleCounts(); },
    transfer: startTransfer, merge: startMerge,
    showContact: () => { if (narrow.matches) setPane('contact'); else panes.dataset.contactOpen = String(panes.dataset.contactOpen !== 'true'); },
    back: () => { location.hash = ''; },
  });
  card = new ContactCard({
    flash, back: () => setPane('chat'),
    onContact: (c) => { list.updateContact(c); if (view.chat?.contact?.id === c.id) view.onChatUpdated({ id: view.chatId, contact: { ...view.chat.contact, name: c.name } }); },
  });
  menu = new OperatorMenu({ me, notifier, flash, onMe: setMe });
  conn = h('span', { class: 'conn', role: 'status', hidden: true });
  reports = new ReportsPage({ me, flash });
  queue = new QueueButton({ openChat });
  settings = new SettingsPage({ me, flash });
  bots = new BotsPage({ me, flash });
  reports.nav.append(bots.link);
  broadcasts = new BroadcastsPage({ me, flash });
  reports.nav.append(broadcasts.link);
  if (settings.link) reports.nav.append(settings.link);
  panes = h('div', { class: 'panes', 'data-pane': 'list', 'data-contact-open': 'false' }, list.el, view.el, card.el);
  root.replaceChildren(
    h('header', { class: 'topbar' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'P'), 'Parley'),
      reports.nav, h('span', { class: 'grow' }), queue.el, conn, notifier.bell, menu.el),
    panes, reports.el, settings.el, bots.el, broadcasts.el);
  document.body.append(live);
  // Rows are links (#chat=ID); a click on the already open chat must still show it on phones.
  list.list.addEventListener('click', (e) => {
    const row = e.target.closest('.chat-row');
    if (!row || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    openChat(Number(row.dataset.chatId));
  });
  window.addEventListener('hashchange', onHash);
  document.addEventListener('keydown', onKey);
  const loaded = await list.load();
  // Start the stream after the first list: events up to here are in what we just loaded.
  // When the server tells us its last event id we resume from it; otherwise the server
  // replays its stored events and we skip those older than the list we loaded.
  bootAt = serverNow() - 2000;
  new EventStream(onEventGuarded, onConn).start(loaded?.last_event_id ?? null);
  onHash();
}

if (location.pathname === '/login') renderLogin(root);
else if (location.pathname === '/setup') renderSetup(root);
else startConsole();
