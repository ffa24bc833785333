// dialogs.js — the Transfer dialog (pick an operator by status, leave a comment that shows
// as a note) and the Merge dialog (find a contact, compare side by side, "Unite": the right
// contact is merged into the left one). Merge also opens by itself for duplicates.

import { api, qs } from './api.js';
import { h, fill, icon, avatar, channelIcon, channelLabel, statusDot, debounce, STATUS_LABEL } from './dom.js';
import { openModal } from './modal.js';

const STATUS_ORDER = { online: 0, away: 1, offline: 2 };

// ---- transfer --------------------------------------------------------------------------
/** opts: {chat, me, operators: Operator[], onDone(chat), flash} */
export function openTransfer({ chat, me, operators, onDone, flash, markSelf }) {
  let picked = null;
  const sorted = [...operators].sort((a, b) => (STATUS_ORDER[a.status] ?? 3) - (STATUS_ORDER[b.status] ?? 3) || a.name.localeCompare(b.name));
  const comment = h('textarea', { id: 'transfer-comment', 'data-testid': 'transfer-comment', rows: '3', placeholder: 'What should they know? e.g. “Wants a refund, order #1042”' });
  const commentLabel = h('label', { for: 'transfer-comment' }, 'Comment (a note in the chat; the contact does not see it)');
  const error = h('p', { class: 'error-text', role: 'alert' });
  const submit = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'transfer-submit', disabled: true, onclick: send }, icon('transfer'), 'Transfer');
  const items = sorted.map((o) => {
    const current = chat.assignee?.id === o.id;
    return h('li', {}, h('button', {
      type: 'button', class: 'op-item', 'data-testid': 'transfer-operator', 'data-operator-id': o.id,
      'aria-pressed': 'false',
      onclick: (e) => pick(o, e.currentTarget),
    }, avatar(o.id, o.name, 'sm'),
    h('span', { class: 'grow' }, o.name, o.id === me.id ? ' (you)' : '', current ? ' — assigned now' : ''),
    statusDot(o.status), h('span', { class: `status-text status-${o.status}` }, STATUS_LABEL[o.status] || o.status)));
  });
  const dlg = openModal({
    title: `Transfer chat with ${chat.contact?.name || 'contact'}`, testid: 'transfer-dialog', className: 'modal-transfer',
    body: [
      h('p', { class: 'muted' }, 'Pick who takes over. New chats go only to operators who are Online.'),
      h('ul', { class: 'op-list', 'aria-label': 'Operators' }, items.length ? items : h('li', { class: 'muted' }, 'No operators found.')),
      h('div', { class: 'field' }, commentLabel, comment), error,
    ],
    foot: [h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Cancel'), submit],
  });

  function pick(o, btn) {
    picked = o;
    for (const b of dlg.body.querySelectorAll('.op-item')) b.setAttribute('aria-pressed', String(b === btn));
    commentLabel.textContent = `Comment for ${o.name} (a note in the chat; the contact does not see it)`;
    submit.disabled = false;
    comment.focus();
  }

  async function send() {
    if (!picked) return;
    submit.disabled = true;
    error.textContent = '';
    try {
      markSelf(chat.id);
      const updated = await api.post(`/chats/${chat.id}/transfer`, { operator_id: picked.id, comment: comment.value.trim() });
      dlg.close();
      flash(`Chat transferred to ${picked.name}.`);
      onDone(updated);
    } catch (e) {
      error.textContent = e.message;
      submit.disabled = false;
    }
  }
  comment.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) send(); });
  return dlg;
}

// ---- merge -----------------------------------------------------------------------------
/**
 * opts: {target: Contact (the open chat's contact, stays), duplicates?: Contact[] (auto mode),
 *        onDone(contact), flash}
 */
export function openMerge({ target, duplicates, onDone, flash }) {
  const auto = !!duplicates?.length;
  const dlg = openModal({ title: auto ? 'Possible duplicate contact' : 'Merge contacts', testid: 'merge-dialog', className: 'modal-merge' });
  if (auto) compare(duplicates[0], false); else searchStep();

  function searchStep(query = '') {
    dlg.setTitle('Merge contacts');
    let picked = null;
    let ctrl = null;
    const input = h('input', { type: 'search', id: 'merge-search', 'data-testid': 'merge-search', value: query, autocomplete: 'off', placeholder: 'First or last name' });
    const results = h('ul', { class: 'merge-results', 'aria-label': 'Contacts found' });
    const next = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'merge-continue', disabled: true, onclick: () => picked && compare(picked, true, input.value) }, 'Continue');
    const run = debounce(async () => {
      const q = input.value.trim();
      if (ctrl) ctrl.abort();
      if (!q) { results.replaceChildren(); return; }
      ctrl = new AbortController();
      try {
        const data = await api.get('/contacts' + qs({ q }), { signal: ctrl.signal });
        const list = (data.contacts || []).filter((c) => c.id !== target.id);
        picked = null; next.disabled = true;
        results.replaceChildren(...(list.length ? list.map((c) => h('li', {}, h('button', {
          type: 'button', class: 'merge-result', 'data-testid': 'merge-result', 'data-contact-id': c.id, 'aria-pressed': 'false',
          onclick: (e) => {
            picked = c; next.disabled = false;
            for (const b of results.querySelectorAll('.merge-result')) b.setAttribute('aria-pressed', String(b === e.currentTarget));
          },
          ondblclick: () => compare(c, true, input.value),
        }, avatar(c.id, c.name, 'sm'), h('span', { class: 'grow' }, h('span', { class: 'strong' }, c.name),
          h('span', { class: 'muted small block' }, [c.phone, c.email].filter(Boolean).join(' · ') || 'No phone or email')),
        channels(c)))) : [h('li', { class: 'muted' }, `No other contact matches “${q}”.`)]));
      } catch (e) { if (e.name !== 'AbortError') results.replaceChildren(h('li', { class: 'error-text' }, e.message)); }
    }, 150);
    input.addEventListener('input', run);
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); if (picked) compare(picked, true, input.value); } });
    dlg.body.replaceChildren(
      h('p', {}, 'Find the other card of ', h('strong', {}, target.name), ' by first or last name. It will be merged into this one.'),
      h('div', { class: 'field' }, h('label', { for: 'merge-search' }, 'Search contacts'), input), results);
    dlg.foot.replaceChildren(h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Cancel'), next);
    input.focus();
    if (query) run();
  }

  function compare(source, canGoBack, query) {
    dlg.setTitle(auto ? 'Possible duplicate contact' : 'Check and unite');
    const error = h('p', { class: 'error-text', role: 'alert' });
    const unite = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'merge-unite', onclick: () => merge(source, unite, error) }, icon('merge'), 'Unite');
    const intro = auto
      ? h('p', {}, h('strong', {}, source.name), ` has the same ${source.reason === 'email' ? 'email' : source.reason === 'phone' ? 'phone' : 'phone or email'} as `, h('strong', {}, target.name), '. Is it the same person?')
      : h('p', {}, 'Check the data again. The contact on the right will be merged into the one on the left.');
    const others = auto && duplicates.length > 1
      ? h('div', { class: 'dup-switch', role: 'group', 'aria-label': 'Other possible duplicates' }, 'Other matches: ',
        duplicates.filter((d) => d.id !== source.id).map((d) => h('button', { type: 'button', class: 'chip', onclick: () => compare(d, false) }, d.name)))
      : null;
    fill(dlg.body, intro, others,
      h('div', { class: 'merge-compare' },
        card(target, source, 'merge-left', 'Keeps everything'),
        h('div', { class: 'merge-arrow', 'aria-hidden': 'true' }, icon('back')),
        card(source, target, 'merge-right', 'Merged into the left')),
      h('p', { class: 'muted small' }, `Channels, whole history, tags and attributes of ${source.name} move to ${target.name}. An admin can undo a merge.`),
      error);
    dlg.foot.replaceChildren(
      canGoBack ? h('button', { type: 'button', class: 'btn', onclick: () => searchStep(query) }, 'Back')
        : h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, auto ? 'Not now' : 'Cancel'),
      unite);
    unite.focus();
  }

  async function merge(source, btn, error) {
    btn.disabled = true;
    error.textContent = '';
    try {
      const res = await api.post(`/contacts/${target.id}/merge`, { source_id: source.id });
      dlg.close();
      flash(`${source.name} was merged into ${target.name}.`);
      onDone(res?.contact || target, source);
    } catch (e) { error.textContent = e.message; btn.disabled = false; }
  }
  return dlg;
}

function channels(c) {
  const seen = new Map();
  for (const i of c.identities || []) if (i.channel) seen.set(i.channel.id, i.channel);
  return h('span', { class: 'channel-icons' }, [...seen.values()].map((ch) => channelIcon(ch, 14)));
}

/** One side of the comparison; values equal to the other side are marked. */
function card(c, other, testid, caption) {
  const same = (k) => c[k] && other[k] && String(c[k]).toLowerCase() === String(other[k]).toLowerCase();
  const line = (label, k) => h('div', { class: `kv${same(k) ? ' same' : ''}` }, h('dt', {}, label),
    h('dd', {}, c[k] || h('span', { class: 'muted' }, '—'), same(k) ? h('span', { class: 'same-badge' }, 'same') : null));
  return h('section', { class: 'merge-card', 'data-testid': testid, 'data-contact-id': c.id, 'aria-label': `${caption}: ${c.name}` },
    h('div', { class: 'merge-caption' }, caption),
    h('div', { class: 'card-who' }, avatar(c.id, c.name, 'md'), h('h3', {}, c.name)),
    h('dl', { class: 'kv-list' }, line('Phone', 'phone'), line('Email', 'email'), line('Username', 'username'),
      h('div', { class: 'kv' }, h('dt', {}, 'Tags'), h('dd', {}, (c.tags || []).join(', ') || h('span', { class: 'muted' }, '—'))),
      h('div', { class: 'kv' }, h('dt', {}, 'Channels'), h('dd', {}, (c.identities || []).length
        ? (c.identities || []).map((i) => h('span', { class: 'ident' }, channelIcon(i.channel, 14), i.channel?.name || channelLabel(i.channel?.kind)))
        : h('span', { class: 'muted' }, '—')))));
}
