// operator.js — "me": the avatar, name and status in the top bar, and the details panel it
// opens: name, email, role, status (Online / Away / Offline), connecting a messenger for
// notifications, the notification sound, sessions and API tokens (sessions.js), and Log out.

import { api } from './api.js';
import { h, icon, avatar, statusDot, STATUS_LABEL, channelIcon } from './dom.js';
import { openModal } from './modal.js';
import { sessionsSection } from './sessions.js';

export class OperatorMenu {
  /** ctx: {me, notifier, onMe(operator), flash(text, opts)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.panel = null;
    this.statusText = h('span', { class: 'my-status', 'data-testid': 'my-status' });
    this.dot = h('span', { class: 'avatar-dot' });
    this.btn = h('button', {
      type: 'button', class: 'me-btn', 'data-testid': 'my-avatar', 'aria-haspopup': 'dialog',
      onclick: () => this.openPanel(),
    });
    this.name = h('span', { class: 'me-name' });
    this.el = h('div', { class: 'me' }, this.btn, h('div', { class: 'me-text' }, this.name, this.statusText));
    this.update(ctx.me);
  }

  update(me) {
    this.me = me;
    this.btn.replaceChildren(avatar(me.id, me.name, 'sm'), this.dot);
    this.dot.className = `avatar-dot status-${me.status}`;
    this.btn.setAttribute('aria-label', `${me.name}, ${STATUS_LABEL[me.status] || me.status}. Open your details`);
    this.name.textContent = me.name;
    this.statusText.textContent = STATUS_LABEL[me.status] || me.status;
    this.statusText.className = `my-status status-${me.status}`;
    if (this.panel?.open) this.syncStatusButtons();
  }

  async setStatus(status) {
    if (status === this.me.status) return;
    const prev = this.me;
    this.ctx.onMe({ ...prev, status }); // feels instant; rolled back below if refused
    try {
      const me = await api.put('/me/status', { status });
      this.ctx.onMe(me);
    } catch (e) {
      this.ctx.onMe(prev);
      this.ctx.flash(`Status not changed: ${e.message}`, { kind: 'error' });
    }
  }

  syncStatusButtons() {
    for (const b of this.panel.dialog.querySelectorAll('[role=radio]')) {
      const on = b.dataset.status === this.me.status;
      b.setAttribute('aria-checked', String(on));
      b.tabIndex = on ? 0 : -1;
    }
  }

  openPanel() {
    const me = this.me;
    const radios = ['online', 'away', 'offline'].map((s) => h('button', {
      type: 'button', role: 'radio', class: 'seg-btn status-opt', 'data-testid': `status-${s}`,
      'data-status': s, 'aria-checked': 'false', onclick: () => this.setStatus(s),
    }, statusDot(s), STATUS_LABEL[s]));
    const group = h('div', { class: 'segmented status-seg', role: 'radiogroup', 'aria-labelledby': 'status-h' }, radios);
    // Radio-group keys: arrows move and select.
    group.addEventListener('keydown', (e) => {
      const i = radios.indexOf(document.activeElement);
      if (i < 0 || !['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(e.key)) return;
      e.preventDefault();
      const n = radios[(i + (e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : 2)) % 3];
      n.focus();
      n.click();
    });
    const explain = h('div', { class: 'messenger-info', hidden: true, role: 'status' });
    const sound = h('input', { type: 'checkbox', id: 'sound-toggle', 'data-testid': 'sound-toggle', checked: this.ctx.notifier.soundOn });
    sound.addEventListener('change', () => { this.ctx.notifier.soundOn = sound.checked; });
    const linked = me.notify?.telegram ? 'Telegram' : me.notify?.discord ? 'Discord' : null;
    this.panel = openModal({
      title: 'Your details', testid: 'operator-panel', variant: 'panel', className: 'panel-right',
      body: [
        h('div', { class: 'card-who' }, avatar(me.id, me.name, 'lg'),
          h('div', {}, h('h3', {}, me.name), h('div', { class: 'muted' }, me.email),
            h('span', { class: 'pill pill-role' }, me.role === 'admin' ? 'Admin' : 'Operator'))),
        h('section', { class: 'card-section' }, h('h4', { id: 'status-h' }, 'Status'), group,
          h('p', { class: 'muted small' }, 'New chats are given to you only while you are Online.')),
        h('section', { class: 'card-section' }, h('h4', {}, 'Notifications'),
          linked
            ? h('div', {},
              h('p', { class: 'ok-text' }, icon('check'), `${linked} is connected: Parley messages you there when a chat is assigned or transferred to you.`),
              h('button', {
                type: 'button', class: 'btn btn-small', 'data-testid': 'disconnect-messenger',
                onclick: async (e) => {
                  await disconnectMessenger();
                  e.target.closest('div').replaceChildren(h('p', { class: 'muted' }, `${linked} is disconnected.`));
                },
              }, 'Disconnect'))
            : h('div', { class: 'messenger-choices' },
              h('button', { type: 'button', class: 'messenger-btn', 'data-testid': 'connect-messenger', onclick: () => connectMessenger(me, explain) },
                channelIcon({ kind: 'telegram' }), 'Connect Telegram'),
              h('button', { type: 'button', class: 'messenger-btn', 'data-testid': 'connect-discord', onclick: () => connectDiscord(explain) },
                channelIcon({ kind: 'discord' }), 'Connect Discord')),
          explain,
          h('div', { class: 'check-row' }, sound, h('label', { for: 'sound-toggle' }, 'Play a sound when a chat is assigned or transferred to me'))),
        sessionsSection(this.ctx.flash),
      ],
      foot: [h('button', { type: 'button', class: 'btn', 'data-testid': 'logout', onclick: logout }, icon('logout'), 'Log out')],
    });
    this.syncStatusButtons();
    requestAnimationFrame(() => radios.find((r) => r.dataset.status === me.status)?.focus());
  }
}

/**
 * Links Telegram for notifications: asks the server for a one-time deep link
 * (t.me/<bot>?start=<code>) and shows it; pressing Start in Telegram links this operator,
 * and the panel then shows "connected" (operator.updated arrives with notify.telegram).
 */
export async function connectMessenger(me, box) {
  box.hidden = false;
  box.replaceChildren(h('p', { class: 'muted small' }, 'Asking for a link…'));
  try {
    const { link, expires_at: expires } = await api.post('/me/notify/telegram', {});
    const until = new Date(expires).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    box.replaceChildren(
      h('strong', {}, 'Link your Telegram'),
      h('p', {}, 'Open this link on the device with your Telegram and press Start. Parley will then message you there when a chat is assigned or transferred to you.'),
      h('a', { href: link, target: '_blank', rel: 'noopener', class: 'btn btn-primary', 'data-testid': 'telegram-link' }, icon('send'), 'Open Telegram'),
      h('p', { class: 'muted small' }, `The link works once, until ${until}.`));
  } catch (e) {
    box.replaceChildren(
      h('strong', {}, 'Telegram notifications are not set up yet'),
      h('p', { class: 'muted small', 'data-testid': 'form-error' },
        e.status === 404 || e.status === 422
          ? 'An admin needs to add a Telegram channel (Settings → Channels) first; this button will then give you a link to open in Telegram.'
          : e.message));
  }
}

/**
 * Links Discord for notifications: Discord has no deep links, so the server gives a
 * one-time code and the operator sends `/start <code>` to the bot in a DM; the panel then
 * shows "connected" (operator.updated arrives with notify.discord).
 */
export async function connectDiscord(box) {
  box.hidden = false;
  box.replaceChildren(h('p', { class: 'muted small' }, 'Asking for a code…'));
  try {
    const { message, link, bot_name: bot, expires_at: expires } = await api.post('/me/notify/discord', {});
    const until = new Date(expires).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const copy = h('button', { type: 'button', class: 'btn btn-small', onclick: () => navigator.clipboard?.writeText(message) }, 'Copy');
    box.replaceChildren(
      h('strong', {}, 'Link your Discord'),
      h('p', {}, 'Send this message to ', h('strong', {}, bot || 'the bot'), ' in a direct message. Parley will then message you there when a chat is assigned or transferred to you.'),
      h('p', {}, h('code', { class: 'mono', 'data-testid': 'discord-code' }, message), ' ', copy),
      link && h('a', { href: link, target: '_blank', rel: 'noopener noreferrer', class: 'btn btn-primary', 'data-testid': 'discord-link' }, icon('send'), 'Open the bot in Discord'),
      h('p', { class: 'muted small' }, `The code works once, until ${until}.`));
  } catch (e) {
    box.replaceChildren(
      h('strong', {}, 'Discord notifications are not set up yet'),
      h('p', { class: 'muted small', 'data-testid': 'form-error' },
        e.status === 404 || e.status === 422
          ? 'An admin needs to add a Discord channel (Settings → Channels) first; this button will then give you a code to send to the bot.'
          : e.message));
  }
}

/** Stops notifications (an operator links one messenger at a time). */
export async function disconnectMessenger() {
  await api.del('/me/notify/telegram');
}

export async function logout() {
  try { await api.post('/logout'); } catch { /* leaving anyway */ }
  location.assign('/login');
}
