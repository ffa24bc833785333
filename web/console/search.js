// search.js — the quick contact search at the top of the chat list.
// Asks GET /api/v1/contacts?q= as the operator types (debounced, stale answers dropped)
// and opens the picked contact's chat.

import { api, qs } from './api.js';
import { h, icon, avatar, channelIcon, debounce } from './dom.js';

export function createSearch({ openChat, flash }) {
  let controller = null;
  let lastQuery = '';

  const input = h('input', {
    type: 'search', id: 'contact-search', 'data-testid': 'search', class: 'search-input',
    placeholder: 'Search contacts', autocomplete: 'off', spellcheck: 'false',
    'aria-label': 'Search contacts by name, phone, email or username (shortcut: /)',
    'aria-controls': 'search-results', 'aria-expanded': 'false',
  });
  const results = h('div', { id: 'search-results', class: 'search-results', role: 'listbox', 'aria-label': 'Contacts found', hidden: true });
  const el = h('div', { class: 'search', role: 'search' },
    h('label', { class: 'search-box', for: 'contact-search' }, icon('search'), input,
      h('kbd', { class: 'kbd-hint', 'aria-hidden': 'true' }, '/')),
    results);

  function show(on) {
    results.hidden = !on;
    input.setAttribute('aria-expanded', String(on));
  }

  function clear() {
    input.value = '';
    lastQuery = '';
    if (controller) controller.abort();
    results.replaceChildren();
    show(false);
  }

  function pick(contact) {
    clear();
    if (contact.chat_id) openChat(contact.chat_id);
    else flash(`${contact.name} has no chat yet.`, { kind: 'warn' });
  }

  function render(contacts, q) {
    if (!contacts.length) {
      results.replaceChildren(h('p', { class: 'search-empty' }, `No contacts match “${q}”.`));
    } else {
      results.replaceChildren(...contacts.map((c) => {
        const secondary = [c.phone, c.email, c.username && '@' + c.username].filter(Boolean).join(' · ');
        const kinds = new Map();
        for (const idn of c.identities || []) if (idn.channel) kinds.set(idn.channel.kind, idn.channel);
        return h('button', {
          type: 'button', role: 'option', class: 'search-result',
          'data-testid': 'search-result', 'data-contact-id': c.id, onclick: () => pick(c),
        },
        avatar(c.id, c.name, 'sm'),
        h('span', { class: 'search-result-main' },
          h('span', { class: 'search-result-name' }, c.name),
          secondary && h('span', { class: 'search-result-sub' }, secondary)),
        h('span', { class: 'search-result-channels' }, [...kinds.values()].map((ch) => channelIcon(ch, 14))));
      }));
    }
    show(true);
  }

  const run = debounce(async () => {
    const q = input.value.trim();
    if (q === lastQuery) return;
    lastQuery = q;
    if (controller) controller.abort();
    if (!q) { results.replaceChildren(); show(false); return; }
    controller = new AbortController();
    try {
      const data = await api.get('/contacts' + qs({ q }), { signal: controller.signal });
      if (q === input.value.trim()) render(data.contacts || [], q);
    } catch (e) {
      if (e.name === 'AbortError') return;
      results.replaceChildren(h('p', { class: 'search-empty error-text' }, e.message));
      show(true);
    }
  }, 150);

  input.addEventListener('input', run);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && (input.value || !results.hidden)) { e.preventDefault(); e.stopPropagation(); clear(); }
    else if (e.key === 'ArrowDown' && !results.hidden) {
      e.preventDefault();
      results.querySelector('button')?.focus();
    } else if (e.key === 'Enter') {
      const first = results.querySelector('button');
      if (first && !results.hidden) { e.preventDefault(); first.click(); }
    }
  });
  // Arrow keys walk the result list; Escape goes back to the field.
  results.addEventListener('keydown', (e) => {
    const items = [...results.querySelectorAll('button')];
    const i = items.indexOf(document.activeElement);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      e.stopPropagation();
      const next = i + (e.key === 'ArrowDown' ? 1 : -1);
      if (next < 0) input.focus(); else items[Math.min(next, items.length - 1)].focus();
    } else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); clear(); input.focus(); }
  });
  // Clicking elsewhere folds the results away (the query stays).
  document.addEventListener('pointerdown', (e) => { if (!el.contains(e.target)) show(false); });
  input.addEventListener('focus', () => { if (input.value.trim() && results.childElementCount) show(true); });

  return { el, focus: () => { input.focus(); input.select(); } };
}
