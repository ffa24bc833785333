// composer.js — where the operator writes: Enter sends, Shift+Enter breaks the line, the
// Note toggle writes an internal note instead, "typing" is sent at most every 2 s, and an
// unsent draft is kept per chat so switching chats never loses a half-written reply. On a
// WhatsApp channel a Template button offers the approved templates, and once the 24-hour
// window has closed a note says only a template can go (templates.js).

import { api } from './api.js';
import { h, icon, channelLabel } from './dom.js';
import { hasWindow, windowOpen, openTemplatePicker } from './templates.js';

const TYPING_EVERY = 2000; // ms between our typing pings

export class Composer {
  /** ctx: {flash(text, opts), onSent(message)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.chat = null;
    this.noteMode = false;
    this.lastTypingSent = 0;
    this.drafts = new Map(); // chat id → {text, note}
    this.noteBtn = h('button', {
      type: 'button', class: 'chip note-toggle', 'data-testid': 'composer-note', 'aria-pressed': 'false',
      title: 'Write an internal note that only operators see', onclick: () => this.setNoteMode(!this.noteMode),
    }, icon('lock'), 'Note');
    this.input = h('textarea', { 'data-testid': 'composer', id: 'composer', rows: '1', 'aria-label': 'Reply to the contact' });
    this.hint = h('span', { class: 'composer-hint' }, 'Enter to send · Shift+Enter for a new line');
    this.sendLabel = document.createTextNode('Send');
    this.sendBtn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'send' }, icon('send'), this.sendLabel);
    this.lastInbound = new Map(); // channel id → when the contact last wrote there (ISO)
    this.templateBtn = h('button', {
      type: 'button', class: 'chip', 'data-testid': 'composer-template', hidden: true,
      title: 'Send one of the channel’s approved templates', onclick: () => this.pickTemplate(),
    }, icon('note'), 'Template');
    this.windowNote = h('p', { class: 'window-note', 'data-testid': 'window-closed', role: 'status', hidden: true });
    this.el = h('form', { class: 'composer', 'aria-label': 'Write a reply' }, this.windowNote, this.input,
      h('div', { class: 'composer-foot' }, this.noteBtn, this.templateBtn, this.hint, this.sendBtn));
    this.el.addEventListener('submit', (e) => { e.preventDefault(); this.send(); });
    this.input.addEventListener('keydown', (e) => {
      // isComposing: Enter that confirms an IME candidate must not send.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener('input', () => { this.autosize(); this.typingPing(); });
  }

  /** Switch to another chat: keep this chat's draft, bring back the other's. */
  switchTo(chat) {
    if (this.chat) this.drafts.set(this.chat.id, { text: this.input.value, note: this.noteMode });
    this.chat = chat;
    this.lastInbound = new Map();
    const d = chat ? this.drafts.get(chat.id) : null;
    this.input.value = d?.text || '';
    this.setNoteMode(!!d?.note, false);
    this.autosize();
  }

  /** The chat changed (e.g. another reply channel): update the placeholder. */
  update(chat) {
    if (this.chat && chat.id === this.chat.id) { this.chat = chat; this.updateHint(); }
  }

  setNoteMode(on, focus = true) {
    this.noteMode = on;
    this.noteBtn.setAttribute('aria-pressed', String(on));
    this.el.classList.toggle('note-mode', on);
    this.updateHint();
    if (focus) this.input.focus();
  }

  /** The contact's messages seen so far (history or live): when they last wrote on each channel. */
  sawMessages(messages) {
    for (const m of messages) {
      const id = m.channel?.id;
      if (m.direction !== 'in' || m.kind === 'note' || id == null) continue;
      if (!this.lastInbound.has(id) || this.lastInbound.get(id) < m.created_at) this.lastInbound.set(id, m.created_at);
    }
    this.updateHint();
  }

  /** Outside WhatsApp's 24-hour window only a template goes: say so, and offer them. */
  updateWindow() {
    const ch = this.chat?.active_channel;
    const windowed = !!ch && hasWindow(ch);
    this.templateBtn.hidden = !windowed || this.noteMode;
    const closed = windowed && !this.noteMode && !windowOpen(this.lastInbound.get(ch.id));
    this.windowNote.hidden = !closed;
    if (closed) {
      this.windowNote.replaceChildren(icon('clock'),
        h('span', { class: 'grow' }, 'The contact has not written in 24 hours: WhatsApp delivers only an approved template now.'),
        h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'window-template', onclick: () => this.pickTemplate() }, 'Choose a template'));
    }
    return closed;
  }

  pickTemplate() {
    const ch = this.chat?.active_channel;
    if (!ch) return;
    openTemplatePicker(this.chat, ch, { flash: this.ctx.flash, onSent: (m) => this.ctx.onSent(m) });
  }

  updateHint() {
    const closed = this.updateWindow();
    const ch = this.chat?.active_channel;
    this.input.placeholder = this.noteMode ? 'Write an internal note — only operators see it'
      : closed ? 'Only a template can be sent now'
        : `Reply${ch ? ' via ' + (ch.name || channelLabel(ch.kind)) : ''}…`;
    this.input.setAttribute('aria-label', this.noteMode ? 'Internal note' : 'Reply to the contact');
    this.sendLabel.textContent = this.noteMode ? 'Add note' : 'Send';
  }

  autosize() {
    this.input.style.height = 'auto';
    this.input.style.height = Math.min(this.input.scrollHeight, 200) + 'px';
  }

  typingPing() {
    if (this.noteMode || !this.chat || !this.input.value.trim()) return;
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_EVERY) return;
    this.lastTypingSent = now;
    api.post(`/chats/${this.chat.id}/typing`).catch(() => {});
  }

  async send() {
    const text = this.input.value.trim();
    if (!text || !this.chat) return;
    const id = this.chat.id;
    const note = this.noteMode;
    this.input.value = '';
    this.autosize();
    this.drafts.delete(id);
    try {
      const m = await api.post(`/chats/${id}/${note ? 'notes' : 'messages'}`, { text });
      if (m) this.ctx.onSent(m);
    } catch (e) {
      this.ctx.flash(`Not sent: ${e.message}`, { kind: 'error' });
      // Give the text back so nothing typed is lost.
      if (this.chat?.id === id && !this.input.value) { this.input.value = text; this.autosize(); }
      else if (this.chat?.id !== id) this.drafts.set(id, { text, note });
    }
  }

  focus() { this.input.focus(); }
}
