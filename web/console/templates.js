// templates.js — WhatsApp's 24-hour customer-service window in the composer: whether it is
// open (from the contact's last message on the channel), and the picker that lists the
// channel's approved templates (GET /channels/{id}/templates), asks for the values of
// their {{1}}, {{2}}… and sends one. Template texts come from Meta and are shown as text.

import { api } from './api.js';
import { h, fill } from './dom.js';
import { openModal } from './modal.js';
import { field, formError, busy } from './settings-form.js';

export const WINDOW_MS = 24 * 3600 * 1000;

/** Channel kinds that only take templates outside the window. */
export const hasWindow = (channel) => channel?.kind === 'whatsapp';

/** Whether a free-form message may go: the contact wrote on the channel in the last 24 hours. */
export function windowOpen(lastInboundIso, now = Date.now()) {
  return !!lastInboundIso && now - Date.parse(lastInboundIso) <= WINDOW_MS;
}

/** The body text of a template as Meta describes it, and how many values it asks for. */
function bodyOf(t) {
  const body = (t.components || []).find((c) => String(c.type).toUpperCase() === 'BODY');
  const text = body?.text || '';
  const numbers = [...text.matchAll(/\{\{(\d+)\}\}/g)].map((m) => Number(m[1]));
  return { text, count: numbers.length ? Math.max(...numbers) : 0 };
}

/** Opens the picker for `chat` on `channel`; `onSent(message)` gets the queued message. */
export function openTemplatePicker(chat, channel, { flash, onSent }) {
  const list = h('div', { class: 'template-list', role: 'radiogroup', 'aria-label': 'Approved templates' },
    h('p', { class: 'loading' }, 'Loading the approved templates…'));
  const params = h('div', { class: 'template-params' });
  const error = formError();
  const send = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'template-send', disabled: true }, 'Send template');
  const dlg = openModal({
    title: 'Send an approved template', testid: 'template-dialog',
    body: [h('p', { class: 'small muted' }, 'Outside the 24-hour window WhatsApp delivers only templates Meta approved.'), list, params, error],
    foot: [h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Cancel'), send],
  });
  let chosen = null;
  let inputs = [];
  const choose = (t) => {
    chosen = t;
    const { count } = bodyOf(t);
    inputs = Array.from({ length: count }, (_, i) =>
      h('input', { type: 'text', autocomplete: 'off', 'data-testid': `template-param-${i + 1}` }));
    fill(params, inputs.map((input, i) => field(`Value of {{${i + 1}}}`, input)));
    send.disabled = false;
  };
  api.get(`/channels/${channel.id}/templates`).then(({ templates }) => {
    if (!templates?.length) { fill(list, h('p', { class: 'muted' }, 'This channel has no approved template yet (WhatsApp Manager → Message templates).')); return; }
    fill(list, templates.map((t, i) => {
      const radio = h('input', { type: 'radio', name: 'template', value: String(i), onchange: () => choose(t) });
      return h('label', { class: 'template-option', 'data-testid': 'template-option' }, radio,
        h('span', { class: 'template-name' }, `${t.name} · ${t.language}`),
        h('span', { class: 'small muted template-body' }, bodyOf(t).text));
    }));
  }).catch((e) => fill(list, h('p', { class: 'error-text' }, `Cannot list the templates: ${e.message}`)));
  send.addEventListener('click', async () => {
    if (!chosen) return;
    const parameters = inputs.map((i) => i.value.trim());
    if (parameters.some((p) => !p)) { error.textContent = 'Every value of the template is needed.'; return; }
    busy(send, true, 'Sending…');
    try {
      const template = { name: chosen.name, language: chosen.language, parameters };
      const m = await api.post(`/chats/${chat.id}/messages`, { template, channel_id: channel.id });
      dlg.close();
      if (m) onSent(m);
      flash(`Template “${chosen.name}” queued.`);
    } catch (e) {
      busy(send, false);
      error.textContent = e.message;
    }
  });
}
