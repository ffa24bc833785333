// settings-channels.js — Settings → Channels: the list of channels (kind, name, key, the
// "distribute new chats automatically" switch) and the dialog that adds or edits one, with
// each kind's settings. A widget channel shows the tag to paste into a site; a webhook
// channel the address to POST to. Secrets come back from the server as "••••1234": sent
// back unchanged they keep the stored value (the server skips them).

import { api } from './api.js';
import { h, fill, icon, channelIcon, channelLabel } from './dom.js';
import { openModal } from './modal.js';
import {
  field, select, section, formError, showError, clearInvalid, FormProblem, codeBox, randomSecret, busy,
} from './settings-form.js';
import { whatsappForm, whatsappInstall, whatsappCreated, whatsappMeta } from './settings-whatsapp.js';
import { discordForm, discordMeta, discordCreatedText, discordInstall } from './settings-discord.js';

const KINDS = [['widget', 'Website widget'], ['webhook', 'Webhook'], ['telegram', 'Telegram bot'], ['whatsapp', 'WhatsApp (Cloud API)'], ['discord', 'Discord bot']];
const NAME_HINTS = { widget: 'e.g. Website', webhook: 'e.g. CRM', telegram: 'e.g. Support bot', whatsapp: 'e.g. Shop WhatsApp', discord: 'e.g. Community support' };
const TELEGRAM_API = 'https://api.telegram.org';

// What a new widget starts with: the same as connectors/widget default_settings().
const WIDGET_DEFAULTS = {
  title: 'Chat with us',
  greeting: 'Hi! Ask us anything — we usually answer within minutes.',
  color: '#2563eb',
  position: 'right',
  prechat: { name: 'optional', email: 'optional', phone: 'off' },
  offline_text: "We're away right now. Leave a message and your email, and we'll answer as soon as we're back.",
  allowed_origins: [],
  secret: '',
};

const PRECHAT_MODES = [['off', 'Off'], ['optional', 'Optional'], ['required', 'Required']];
const textInput = (value, attrs = {}) => h('input', { type: 'text', value: value ?? '', autocomplete: 'off', ...attrs });
const textArea = (value, rows, attrs = {}) => h('textarea', { rows: String(rows), value: value ?? '', ...attrs });
const embedSnippet = (key) => `<script src="${location.origin}/widget.js" data-channel="${key}" async></script>`;

export class ChannelsPanel {
  /** ctx: {flash, onCount(n)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.channels = [];
    this.list = h('ul', { class: 'settings-list', 'aria-label': 'Channels' });
    this.status = h('p', { class: 'muted settings-status', role: 'status' });
    this.el = h('section', { class: 'settings-card' },
      h('div', { class: 'settings-card-head' },
        h('div', { class: 'grow' }, h('h2', {}, 'Channels'),
          h('p', { class: 'muted small' }, 'Where customers write from. Every channel’s chats land in the same inbox.')),
        h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'add-channel', onclick: () => this.openDialog(null) },
          icon('plus'), 'Add channel')),
      this.status, this.list);
  }

  async load() {
    this.status.textContent = this.channels.length ? '' : 'Loading channels…';
    try {
      this.channels = (await api.get('/channels')).channels || [];
      this.status.textContent = '';
    } catch (e) {
      this.status.textContent = `Cannot load the channels: ${e.message}`;
      return;
    }
    this.render();
  }

  render() {
    this.ctx.onCount?.(this.channels.length);
    if (!this.channels.length) {
      fill(this.list, h('li', { class: 'settings-empty' },
        'No channel yet. Add a website widget to start talking with the visitors of your site.'));
      return;
    }
    fill(this.list, this.channels.map((c) => this.row(c)));
  }

  row(c) {
    const s = c.settings || {};
    const meta = [channelLabel(c.kind), ' · key ', h('code', { class: 'channel-key' }, c.key)];
    if (c.kind === 'telegram' && s.bot_username) meta.push(` · @${s.bot_username}`, s.mode === 'polling' ? ' · polling' : '');
    if (c.kind === 'discord') meta.push(...discordMeta(s));
    if (c.kind === 'webhook' && !s.url) meta.push(' · receives only');
    if (c.kind === 'whatsapp') meta.push(whatsappMeta(s));
    // The platform refused the channel's credentials (e.g. an expired token).
    const broken = c.broken_reason && h('span', { class: 'small warn-text row-broken', 'data-testid': 'channel-broken', role: 'status' },
      icon('alert'), `Not working: ${c.broken_reason}`);
    const toggle = h('input', {
      type: 'checkbox', role: 'switch', class: 'switch-input', 'data-testid': 'channel-distribution', checked: !!c.distribution,
      onchange: () => this.setDistribution(c, toggle),
    });
    return h('li', { class: 'channel-row', 'data-testid': 'channel-row', 'data-channel-id': c.id },
      channelIcon(c, 32),
      h('div', { class: 'row-text' },
        h('span', { class: 'row-title' }, c.name),
        h('span', { class: 'muted small row-meta' }, meta), broken),
      h('label', { class: 'switch', title: 'Off: new chats of this channel wait in the queue until someone takes them' },
        toggle, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), h('span', { class: 'small' }, 'Distribute new chats automatically')),
      h('button', {
        type: 'button', class: 'btn btn-small', 'data-testid': 'channel-edit', 'aria-label': `Edit ${c.name}`,
        onclick: () => this.openDialog(c),
      }, icon('edit'), 'Edit'));
  }

  async setDistribution(c, input) {
    input.disabled = true;
    try {
      const updated = await api.patch(`/channels/${c.id}`, { distribution: input.checked });
      this.replace(updated);
      this.ctx.flash(updated.distribution
        ? `New chats of “${updated.name}” are distributed automatically.`
        : `New chats of “${updated.name}” wait in the queue to be taken.`);
    } catch (e) {
      input.checked = !input.checked;
      this.ctx.flash(`Not changed: ${e.message}`, { kind: 'error' });
    } finally { input.disabled = false; }
  }

  replace(c) {
    const i = this.channels.findIndex((x) => x.id === c.id);
    if (i >= 0) this.channels[i] = c; else this.channels.push(c);
    this.render();
  }

  /** Adds (channel = null) or edits a channel; `created` shows the "ready" note. */
  openDialog(channel, created = false) {
    const isNew = !channel;
    const fields = {};
    const kind = isNew ? select(KINDS, 'widget', { 'data-testid': 'channel-kind' }) : null;
    const name = textInput(channel?.name, { 'data-testid': 'channel-name', maxlength: '100', placeholder: NAME_HINTS.widget, autofocus: !isNew && !created });
    const distribution = isNew ? null : h('input', { type: 'checkbox', id: `dist-${channel.id}`, checked: !!channel.distribution });
    const error = formError();
    const formId = `channel-form-${channel?.id ?? 'new'}`;
    const save = h('button', { type: 'submit', form: formId, class: 'btn btn-primary', 'data-testid': 'channel-save' }, isNew ? 'Add channel' : 'Save');
    const kindBox = h('div', { class: 'kind-settings' });
    let kindForm;
    const build = () => {
      const k = kind ? kind.value : channel.kind;
      kindForm = (FORMS[k] || otherKind)(channel?.settings || {}, channel);
      name.placeholder = NAME_HINTS[k] || '';
      for (const key of Object.keys(fields)) delete fields[key];
      // Keywords of the server's messages → the field they are about (first match wins).
      Object.assign(fields, kindForm.fields, { 'channel needs a name': name });
      fill(kindBox, kindForm.nodes);
      error.textContent = '';
    };
    build();
    kind?.addEventListener('change', build);

    const general = section('Channel',
      kind && field('Kind', kind),
      field('Name', name, 'Shown to operators next to each chat; customers never see it.'),
      distribution && h('div', {},
        h('label', { class: 'check-row', for: distribution.id }, distribution, 'Distribute new chats automatically'),
        h('p', { class: 'field-hint', id: `${distribution.id}-hint` },
          'New chats go to Online operators in turn. Off: they wait in the queue until someone takes them.')));
    distribution?.setAttribute('aria-describedby', `${distribution.id}-hint`);

    const form = h('form', { id: formId, class: 'settings-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); submit(); } },
      created && h('p', { class: 'ok-text created-note', role: 'status' }, icon('done'), createdText(channel)),
      channel && installBlock(channel, this.channels),
      general, kindBox, error);
    const dlg = openModal({
      title: isNew ? 'Add a channel' : `Edit “${channel.name}”`, testid: 'channel-dialog', className: 'modal-settings',
      body: [form],
      foot: [h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, created ? 'Done' : 'Cancel'), save],
    });
    if (created) requestAnimationFrame(() => dlg.dialog.querySelector('.copy-btn')?.focus());

    const submit = async () => {
      error.textContent = '';
      clearInvalid(fields);
      let settings;
      try { settings = kindForm.read(isNew); } catch (p) {
        if (p instanceof FormProblem) { showError(error, p, fields); return; }
        throw p;
      }
      const k = kind ? kind.value : channel.kind;
      busy(save, true, k === 'telegram' || k === 'whatsapp' || k === 'discord' ? 'Checking the token…' : 'Saving…');
      try {
        if (isNew) {
          const c = await api.post('/channels', { kind: k, name: name.value.trim(), settings });
          dlg.close();
          this.replace(c);
          this.openDialog(c, true);
        } else {
          const c = await api.patch(`/channels/${channel.id}`, { name: name.value.trim(), distribution: distribution.checked, settings });
          dlg.close();
          this.replace(c);
          this.ctx.flash(`“${c.name}” saved.`);
        }
      } catch (e) {
        busy(save, false);
        showError(error, e, fields);
      }
    };
  }
}

function createdText(c) {
  if (c.kind === 'widget') return 'The widget channel is ready. Paste the tag below into your site.';
  if (c.kind === 'webhook') return 'The webhook channel is ready. Point your system at the address below.';
  if (c.kind === 'telegram') return `Telegram accepted the token${c.settings?.bot_username ? `: @${c.settings.bot_username} is connected` : ''}.`;
  if (c.kind === 'whatsapp') return whatsappCreated(c);
  if (c.kind === 'discord') return discordCreatedText(c);
  return 'The channel is ready.';
}

/** Widget: the tag to paste and the demo page. Webhook: where to POST. */
function installBlock(c, all) {
  if (c.kind === 'widget') {
    const first = all.filter((x) => x.kind === 'widget').sort((a, b) => a.id - b.id)[0];
    const origins = c.settings?.allowed_origins || [];
    const demoBlocked = origins.length && !origins.some((o) => o.replace(/\/$/, '').toLowerCase() === location.origin.toLowerCase());
    return section('Install on your website',
      h('p', { class: 'small' }, 'Paste this tag into every page where the chat should appear, just before ', h('code', {}, '</body>'), ':'),
      codeBox(embedSnippet(c.key), { testid: 'embed-snippet', name: 'Tag for your website' }).el,
      h('p', { class: 'small' },
        h('a', { href: '/demo', target: '_blank', rel: 'noopener', 'data-testid': 'demo-link' }, 'Open the demo page'),
        first && first.id !== c.id
          ? ` — a sample shop with your first widget, “${first.name}”.`
          : ' — a sample shop with this widget: write there as a customer, answer here.'),
      demoBlocked && first?.id === c.id && h('p', { class: 'small warn-text' }, icon('alert'),
        `The demo page is on ${location.origin}, which is not among the allowed origins, so it shows no widget.`));
  }
  if (c.kind === 'webhook') {
    return section('Receiving messages',
      h('p', { class: 'small' }, 'Your system POSTs customer messages here, signed with the secret in the header ',
        h('code', {}, 'X-Parley-Signature: sha256=…'), ' (details in the README, “Generic webhook channel”):'),
      codeBox(`${location.origin}/hooks/${c.id}`, { testid: 'webhook-address', name: 'Address to POST to' }).el);
  }
  if (c.kind === 'whatsapp') return whatsappInstall(c);
  if (c.kind === 'discord') return discordInstall(c);
  if (c.kind === 'telegram' && c.settings?.bot_username) {
    const u = c.settings.bot_username;
    return section('Bot', h('p', { class: 'small' }, 'Customers write to ',
      h('a', { href: `https://t.me/${encodeURIComponent(u)}`, target: '_blank', rel: 'noopener noreferrer' }, `@${u}`),
      c.settings.mode === 'polling' ? '. Parley asks Telegram for new messages (polling).' : '. Telegram sends new messages to this server (webhook).'));
  }
  return null;
}

/** A secret field with a Generate button. */
function secretField(label, value, hint, testid) {
  const input = textInput(value, { spellcheck: 'false', 'data-testid': testid, class: 'mono' });
  const note = h('span', { class: 'sr-only', 'aria-live': 'polite' });
  const gen = h('button', {
    type: 'button', class: 'btn', onclick: () => {
      input.value = randomSecret();
      input.focus();
      input.select();
      note.textContent = 'A new secret is in the field. Copy it before saving.';
    },
  }, 'Generate');
  const f = field(label, input, hint);
  const row = h('div', { class: 'input-row' });
  input.replaceWith(row);
  row.append(input, gen);
  f.append(note);
  return { el: f, input };
}

// ---- each kind's settings: {nodes, fields, read(isNew) → settings} ---------------------------
/** A kind this page has no form for: name and distribution only (settings stay as they are). */
function otherKind(_stored, channel) {
  return {
    fields: {},
    nodes: [section('Settings', h('p', { class: 'field-hint' },
      `The settings of a ${channelLabel(channel?.kind)} channel are changed through the API: PATCH /api/v1/channels/${channel?.id}.`))],
    read: () => undefined,
  };
}

const FORMS = {
  whatsapp: whatsappForm,
  discord: discordForm,

  widget(stored) {
    const s = { ...WIDGET_DEFAULTS, ...stored, prechat: { ...WIDGET_DEFAULTS.prechat, ...(stored.prechat || {}) } };
    const title = textInput(s.title, { 'data-testid': 'widget-title', maxlength: '80' });
    const greeting = textArea(s.greeting, 2, { 'data-testid': 'widget-greeting' });
    const color = h('input', { type: 'color', value: s.color, 'data-testid': 'widget-color', class: 'color-input' });
    const hex = h('code', { class: 'color-hex', 'aria-hidden': 'true' }, s.color);
    color.addEventListener('input', () => { hex.textContent = color.value; });
    const position = select([['right', 'Bottom right'], ['left', 'Bottom left']], s.position, { 'data-testid': 'widget-position' });
    const prechat = {};
    for (const f of ['name', 'email', 'phone']) prechat[f] = select(PRECHAT_MODES, s.prechat[f], { 'data-testid': `widget-prechat-${f}` });
    const offline = textArea(s.offline_text, 2, { 'data-testid': 'widget-offline' });
    const origins = textArea((s.allowed_origins || []).join('\n'), 3, {
      'data-testid': 'widget-origins', spellcheck: 'false', placeholder: 'https://shop.example', class: 'mono',
    });
    const secret = secretField('Identity-verification secret', s.secret,
      'Optional, for visitors logged in to your site: your server signs their user id with it (see the README). '
      + 'Shown as ••••1234 once saved; leave it to keep it, clear it to turn verification off.', 'widget-secret');
    const colorField = field('Colour', color);
    colorField.append(hex);
    return {
      fields: {
        'prechat.name': prechat.name, 'prechat.email': prechat.email, 'prechat.phone': prechat.phone,
        title, greeting, color, position, offline_text: offline, origin: origins, secret: secret.input,
      },
      nodes: [
        section('Look',
          field('Title', title, 'The header of the chat window.'),
          field('Greeting', greeting, 'The first message a visitor sees.'),
          h('div', { class: 'field-grid' }, colorField, field('Position', position))),
        section('Before the first message',
          h('p', { class: 'field-hint' }, 'Ask the visitor for these; what they enter fills the contact card.'),
          h('div', { class: 'field-grid field-grid-3' },
            field('Name', prechat.name), field('Email', prechat.email), field('Phone', prechat.phone))),
        section('When nobody is online',
          field('Offline text', offline, 'Shown when no operator is Online; the widget still takes the message and asks for an email.')),
        section('Security',
          field('Allowed origins', origins, 'One per line, like https://shop.example. Pages elsewhere get no widget. Empty: any site.'),
          secret.el),
      ],
      read() {
        const list = origins.value.split('\n').map((o) => o.trim()).filter(Boolean).map((o) => {
          let u = null;
          try { u = new URL(o); } catch { /* below */ }
          if (!u || !/^https?:$/.test(u.protocol)) throw new FormProblem(`“${o}” is not an origin: write it like https://shop.example`);
          return u.origin;
        });
        return {
          title: title.value.trim(), greeting: greeting.value.trim(), color: color.value, position: position.value,
          prechat: { name: prechat.name.value, email: prechat.email.value, phone: prechat.phone.value },
          offline_text: offline.value.trim(), allowed_origins: list, secret: secret.input.value.trim(),
        };
      },
    };
  },

  webhook(stored, channel) {
    // A URL can be changed but not removed (the server refuses an empty one), hence `stored.url` below.
    const url = h('input', { type: 'url', value: stored.url || '', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://crm.example/parley', 'data-testid': 'webhook-url' });
    const secret = secretField('Secret', channel ? stored.secret : randomSecret(),
      channel ? 'Shown as ••••1234. Leave it to keep the stored secret, or generate a new one (and give it to your system).'
        : 'At least 16 characters, shared with your system. Copy it now: once saved, only its last 4 characters are shown.',
      'webhook-secret');
    return {
      fields: { url, secret: secret.input },
      nodes: [section('Webhook',
        field('Reply URL', url, 'Parley POSTs operator replies here, signed with the secret. Empty: this channel only receives.'),
        secret.el)],
      read() {
        const out = { secret: secret.input.value.trim() };
        if (url.value.trim() || stored.url) out.url = url.value.trim();
        return out;
      },
    };
  },

  telegram(stored) {
    const token = textInput(stored.token, { spellcheck: 'false', class: 'mono', 'data-testid': 'telegram-token', placeholder: '123456789:AAE…' });
    const mode = select([['webhook', 'Webhook: Telegram calls this server'], ['polling', 'Polling: this server asks Telegram']],
      stored.mode || 'webhook', { 'data-testid': 'telegram-mode' });
    const apiUrl = h('input', { type: 'url', value: stored.api_url && stored.api_url !== TELEGRAM_API ? stored.api_url : '', autocomplete: 'off', spellcheck: 'false', placeholder: TELEGRAM_API, 'data-testid': 'telegram-api-url' });
    const notify = h('input', { type: 'checkbox', checked: !!stored.notify_operators, 'data-testid': 'telegram-notify' });
    return {
      fields: { token, mode, api_url: apiUrl, 'bot api': apiUrl, notify_operators: notify },
      nodes: [section('Telegram bot',
        field('Bot token', token, 'From @BotFather. Parley checks it with Telegram when you save; once saved it is shown as ••••1234 (leave it to keep it).'),
        field('Mode', mode, 'Webhook needs an https address Telegram can reach (the public_url setting). Polling works from any machine.'),
        field('Bot API server', apiUrl, 'Empty: Telegram’s own. Set it for a self-hosted telegram-bot-api.'),
        h('label', { class: 'check-row' }, notify, 'This bot also sends operators their notifications'))],
      read(isNew) {
        const out = { token: token.value.trim(), mode: mode.value, notify_operators: notify.checked };
        if (apiUrl.value.trim() || !isNew) out.api_url = apiUrl.value.trim();
        return out;
      },
    };
  },
};
