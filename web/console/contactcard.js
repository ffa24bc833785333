// contactcard.js — the right pane: who the contact is (name, phone, email), tags (add and
// remove in place), whether broadcasts reach them, attributes, and their channels (identities). Edit switches the card to
// a form that saves with PATCH /api/v1/contacts/{id}.

import { api } from './api.js';
import { h, icon, avatar, channelIcon, channelLabel, fullDate } from './dom.js';

export class ContactCard {
  /** ctx: {flash(text, opts), back(), onContact(contact)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.contact = null;
    this.editing = false;
    this.seq = 0;
    this.el = h('aside', { class: 'pane pane-contact', 'data-testid': 'contact-card', 'aria-label': 'Contact details' });
    this.clear();
  }

  clear() {
    this.contact = null;
    this.el.replaceChildren(h('div', { class: 'card-empty muted' }, 'Contact details appear here.'));
  }

  async show(id) {
    const seq = ++this.seq;
    this.editing = false;
    try {
      const c = await api.get(`/contacts/${id}`);
      if (seq === this.seq) { this.contact = c; this.render(); }
    } catch (e) {
      if (seq === this.seq) this.el.replaceChildren(h('p', { class: 'card-empty error-text' }, e.message));
    }
  }

  /** A contact.updated event or our own PATCH answer. */
  onContactUpdated(c) {
    if (!this.contact || c.id !== this.contact.id) return;
    this.contact = c;
    if (!this.editing) this.render();
  }

  head(title, ...actions) {
    return h('div', { class: 'card-head' },
      h('button', { class: 'icon-btn only-narrow', type: 'button', 'aria-label': 'Back to the chat', onclick: () => this.ctx.back() }, icon('back')),
      h('h2', { class: 'card-title' }, title), ...actions);
  }

  render() {
    const c = this.contact;
    const row = (label, value, href) => h('div', { class: 'kv' }, h('dt', {}, label),
      h('dd', {}, value ? (href ? h('a', { href }, value) : value) : h('span', { class: 'muted' }, '—')));
    const attrs = Object.entries(c.attributes || {});
    this.el.replaceChildren(
      this.head('Contact', h('button', { class: 'btn btn-small', type: 'button', 'data-testid': 'contact-edit', onclick: () => this.edit() }, icon('edit'), 'Edit')),
      h('div', { class: 'card-body' },
        h('div', { class: 'card-who' }, avatar(c.id, c.name, 'lg'),
          h('div', {}, h('h3', { 'data-testid': 'contact-name' }, c.name),
            c.username && h('div', { class: 'muted' }, '@' + c.username))),
        h('dl', { class: 'kv-list' },
          row('Phone', c.phone, c.phone && 'tel:' + c.phone.replace(/[^\d+]/g, '')),
          row('Email', c.email, c.email && 'mailto:' + c.email)),
        this.tagsSection(),
        this.botSection(),
        this.broadcastsSwitch(),
        h('section', { class: 'card-section', 'aria-labelledby': 'attrs-h' },
          h('h4', { id: 'attrs-h' }, 'Attributes'),
          attrs.length
            ? h('dl', { class: 'kv-list' }, attrs.map(([k, v]) => row(k, typeof v === 'string' ? v : JSON.stringify(v))))
            : h('p', { class: 'muted small' }, 'No attributes.')),
        h('section', { class: 'card-section', 'aria-labelledby': 'idn-h' },
          h('h4', { id: 'idn-h' }, 'Channels'),
          h('ul', { class: 'identities' }, (c.identities || []).map((i) => h('li', { class: 'identity' },
            channelIcon(i.channel, 18),
            h('div', {},
              h('div', {}, i.channel?.name || channelLabel(i.channel?.kind)),
              h('div', { class: 'muted small' }, i.username ? `@${i.username} · ${i.external_id}` : i.external_id),
              i.unreachable_reason && h('div', { class: 'error-text small' }, `Unreachable: ${i.unreachable_reason}`)))))),
        h('p', { class: 'muted small' }, `Contact since ${fullDate(c.created_at)}`,
          c.start_payload ? ` · came with “${c.start_payload}”` : '')));
  }

  /** Who answers the contact (a bot flow or people), with pause / resume / start a flow. */
  botSection() {
    const box = h('section', { class: 'card-section', 'aria-labelledby': 'bot-h', 'data-testid': 'contact-bot' },
      h('h4', { id: 'bot-h' }, 'Bot'));
    const id = this.contact.id;
    const seq = this.seq;
    const act = async (path, body) => {
      try { await api.post(path, body || {}); this.show(id); } catch (e) { this.ctx.flash(e.message, { error: true }); }
    };
    Promise.all([api.get(`/contacts/${id}/bot`), api.get('/flows')]).then(([bot, list]) => {
      if (seq !== this.seq) return;
      const pick = h('select', { 'aria-label': 'Flow to start', 'data-testid': 'start-flow-pick' },
        list.flows.map((f) => h('option', { value: f.id }, f.name)));
      box.append(
        h('p', { class: 'small' }, bot.paused ? 'Paused for this contact: the bot stays out.'
          : bot.flow ? `In the flow ${bot.flow}, at ${bot.step}.` : bot.handler === 'bot' ? 'The bot has the chat.' : 'People answer this chat.'),
        h('div', { class: 'card-actions' },
          bot.paused
            ? h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'bot-resume', onclick: () => act(`/contacts/${id}/bot/resume`) }, 'Resume bot')
            : h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'bot-pause', onclick: () => act(`/contacts/${id}/bot/pause`) }, 'Pause bot'),
          list.flows.length ? pick : null,
          list.flows.length ? h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'start-flow', onclick: () => act(`/contacts/${id}/flows/${pick.value}`) }, 'Start flow') : null));
    }).catch(() => { /* no chat yet: nothing to show */ });
    return box;
  }

  /** Whether broadcasts reach the contact: the switch an operator flips when asked by phone. */
  broadcastsSwitch() {
    const c = this.contact;
    const box = h('input', { type: 'checkbox', role: 'switch', checked: !c.unsubscribed, 'data-testid': 'contact-broadcasts',
      onchange: () => this.patch({ unsubscribed: !box.checked }).catch(() => { box.checked = !c.unsubscribed; }) });
    return h('section', { class: 'card-section' },
      h('label', { class: 'switch-row' }, box, ' Receives broadcasts'),
      c.unsubscribed ? h('p', { class: 'muted small' }, 'Unsubscribed: broadcasts skip this contact.') : null);
  }

  tagsSection() {
    const c = this.contact;
    const input = h('input', { type: 'text', class: 'tag-input', 'data-testid': 'contact-tag-input', placeholder: 'Add tag', 'aria-label': 'Add a tag', maxlength: '40' });
    input.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      const t = input.value.trim();
      if (t && !(c.tags || []).includes(t)) this.saveTags([...(c.tags || []), t], true);
      input.value = '';
    });
    return h('section', { class: 'card-section', 'aria-labelledby': 'tags-h' },
      h('h4', { id: 'tags-h' }, 'Tags'),
      h('ul', { class: 'tags' }, (c.tags || []).map((t) => h('li', { class: 'tag', 'data-testid': 'contact-tag' }, t,
        h('button', { type: 'button', class: 'tag-x', 'aria-label': `Remove tag ${t}`, onclick: () => this.saveTags(c.tags.filter((x) => x !== t)) }, icon('close'))))),
      input);
  }

  async saveTags(tags, refocus) {
    try {
      await this.patch({ tags });
      if (refocus) this.el.querySelector('.tag-input')?.focus();
    } catch { /* flashed in patch */ }
  }

  async patch(body) {
    try {
      const c = await api.patch(`/contacts/${this.contact.id}`, body);
      this.contact = c;
      this.editing = false;
      this.render();
      this.ctx.onContact(c);
      return c;
    } catch (e) {
      this.ctx.flash(`Not saved: ${e.message}`, { kind: 'error' });
      throw e;
    }
  }

  edit() {
    const c = this.contact;
    this.editing = true;
    const field = (name, label, value, type = 'text') => {
      const id = `cf-${name}`;
      return h('div', { class: 'field' }, h('label', { for: id }, label),
        h('input', { id, name, type, value: value || '', 'data-testid': `contact-${name.replace('_', '-')}`, autocomplete: 'off' }));
    };
    const attrRows = h('div', { class: 'attr-rows' });
    const addAttr = (k = '', v = '') => {
      const row = h('div', { class: 'attr-row' },
        h('input', { type: 'text', class: 'attr-key', value: k, placeholder: 'Key', 'aria-label': 'Attribute name' }),
        h('input', { type: 'text', class: 'attr-val', value: v, placeholder: 'Value', 'aria-label': 'Attribute value' }),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Remove attribute', onclick: () => row.remove() }, icon('close')));
      attrRows.append(row);
      return row;
    };
    for (const [k, v] of Object.entries(c.attributes || {})) addAttr(k, typeof v === 'string' ? v : JSON.stringify(v));
    const error = h('p', { class: 'error-text', role: 'alert' });
    const form = h('form', { class: 'card-body card-form', 'aria-label': 'Edit contact' },
      field('first_name', 'First name', c.first_name),
      field('last_name', 'Last name', c.last_name),
      field('phone', 'Phone', c.phone, 'tel'),
      field('email', 'Email', c.email, 'email'),
      h('fieldset', { class: 'card-section' }, h('legend', {}, 'Attributes'), attrRows,
        h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: () => addAttr().querySelector('input').focus() }, icon('plus'), 'Add attribute')),
      error,
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => { this.editing = false; this.render(); } }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'contact-save' }, 'Save')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const val = (n) => form.elements[n].value.trim();
      const attributes = {};
      for (const r of attrRows.children) {
        const k = r.querySelector('.attr-key').value.trim();
        if (k) attributes[k] = r.querySelector('.attr-val').value;
      }
      error.textContent = '';
      try {
        await this.patch({ first_name: val('first_name'), last_name: val('last_name'), phone: val('phone'), email: val('email'), attributes });
        this.ctx.flash('Contact saved.');
      } catch (err) { error.textContent = err.message; }
    });
    form.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); this.editing = false; this.render(); } });
    this.el.replaceChildren(this.head('Edit contact'), form);
    form.elements.first_name.focus();
  }
}
