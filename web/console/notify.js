// notify.js — telling the operator things: toasts (aria-live), the bell with its list of
// past notifications, an optional beep (WebAudio, no audio files, off by default) and the
// browser tab title "(N) Parley" with the number of unread chats.

import { h, icon, relTime } from './dom.js';
import { openModal } from './modal.js';

const SOUND_KEY = 'parley:sound';
const MAX_ITEMS = 50;

export class Notifier {
  constructor({ openChat }) {
    this.openChat = openChat;
    this.items = [];     // {id, title, text, chatId, at, seen}
    this.seq = 0;
    this.audio = null;
    this.region = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite', 'aria-relevant': 'additions' });
    this.badge = h('span', { class: 'bell-badge', hidden: true });
    this.bell = h('button', {
      class: 'icon-btn bell', type: 'button', 'data-testid': 'bell',
      'aria-label': 'Notifications', onclick: () => this.openList(),
    }, icon('bell'), this.badge);
    document.body.append(this.region);
  }

  get soundOn() { return localStorage.getItem(SOUND_KEY) === 'on'; }
  set soundOn(on) {
    localStorage.setItem(SOUND_KEY, on ? 'on' : 'off');
    // Browsers only allow audio after a user gesture; the toggle click is one.
    if (on) { this.ensureAudio(); this.beep(); }
  }

  /** Tab title shows the number of unread chats. */
  setUnread(n) { document.title = n > 0 ? `(${n}) Parley` : 'Parley'; }

  /** A notification that something happened to me: toast + bell list + optional beep. */
  notify({ title, text, chatId }) {
    const item = { id: ++this.seq, title, text, chatId, at: new Date().toISOString(), seen: false };
    this.items.unshift(item);
    this.items.length = Math.min(this.items.length, MAX_ITEMS);
    this.updateBadge();
    this.toast({ title, text, chatId, testid: 'toast', onOpen: () => { item.seen = true; this.updateBadge(); } });
    if (this.soundOn) this.beep();
  }

  /** A short confirmation of my own action (not a notification, so a different test id). */
  flash(text, { kind = 'ok', action } = {}) {
    this.toast({ text, testid: 'flash', kind, action, timeout: 4000 });
  }

  toast({ title, text, chatId, testid, kind = 'info', action, onOpen, timeout = 7000 }) {
    const close = () => { el.classList.add('leaving'); setTimeout(() => el.remove(), 200); };
    const content = h('div', { class: 'toast-content' },
      title && h('strong', { class: 'toast-title' }, title),
      text && h('span', { class: 'toast-text' }, text));
    const el = h('div', { class: `toast toast-${kind}`, 'data-testid': testid },
      chatId
        ? h('button', { class: 'toast-main', type: 'button', onclick: () => { onOpen?.(); this.openChat(chatId); close(); } }, content)
        : h('div', { class: 'toast-main' }, content),
      action && h('button', { class: 'btn btn-small', type: 'button', onclick: () => { action.run(); close(); } }, action.label),
      h('button', { class: 'icon-btn toast-close', type: 'button', 'aria-label': 'Dismiss', onclick: close }, icon('close')));
    this.region.append(el);
    // Keep the pile short when many things happen at once.
    while (this.region.children.length > 3) this.region.firstElementChild.remove();
    let timer = setTimeout(close, timeout);
    // Don't let a toast vanish while the operator is reading or reaching for it.
    el.addEventListener('mouseenter', () => clearTimeout(timer));
    el.addEventListener('mouseleave', () => { timer = setTimeout(close, 2500); });
    return el;
  }

  updateBadge() {
    const n = this.items.filter((i) => !i.seen).length;
    this.badge.hidden = n === 0;
    this.badge.textContent = n > 9 ? '9+' : String(n);
    this.bell.setAttribute('aria-label', n ? `Notifications, ${n} new` : 'Notifications');
  }

  openList() {
    const list = this.items.length
      ? h('ul', { class: 'notif-list' }, this.items.map((it) => h('li', { class: it.seen ? 'seen' : 'new' },
        h('button', {
          type: 'button', class: 'notif-item',
          onclick: () => { it.seen = true; this.updateBadge(); dlg.close(); if (it.chatId) this.openChat(it.chatId); },
        },
        h('span', { class: 'notif-title' }, it.title),
        it.text && h('span', { class: 'notif-text' }, it.text),
        h('span', { class: 'notif-time' }, relTime(it.at))))))
      : h('p', { class: 'empty-note' }, 'Nothing yet. You will be notified here when a chat is assigned or transferred to you.');
    const dlg = openModal({
      title: 'Notifications', testid: 'notifications', variant: 'panel', className: 'panel-right',
      body: [list],
      foot: this.items.length ? [h('button', {
        class: 'btn', type: 'button',
        onclick: () => { this.items.forEach((i) => { i.seen = true; }); this.updateBadge(); dlg.close(); },
      }, 'Mark all as seen')] : [],
    });
  }

  ensureAudio() {
    if (!this.audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) this.audio = new Ctx();
    }
    if (this.audio?.state === 'suspended') this.audio.resume().catch(() => {});
    return this.audio;
  }

  /** Two short soft tones: noticeable, not alarming. */
  beep() {
    const ctx = this.ensureAudio();
    if (!ctx) return;
    const t0 = ctx.currentTime;
    [[880, 0], [1175, 0.13]].forEach(([freq, start]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0 + start);
      gain.gain.exponentialRampToValueAtTime(0.15, t0 + start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + start + 0.12);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + start);
      osc.stop(t0 + start + 0.13);
    });
  }
}
