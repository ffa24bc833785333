// auth.js — the two pages outside the console: Log in, and the first-admin set-up reached
// through the one-time link /setup?token=... printed by `parley serve`.

import { api } from './api.js';
import { h } from './dom.js';

function page(title, subtitle, ...content) {
  return h('main', { class: 'auth' },
    h('div', { class: 'auth-card' },
      h('div', { class: 'brand brand-lg' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'P'), 'Parley'),
      h('h1', {}, title),
      subtitle && h('p', { class: 'muted' }, subtitle),
      ...content));
}

function field(id, label, attrs) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name: id, required: true, ...attrs }));
}

/** Where to go after logging in: back to the chat the operator was on, if any. */
function home() {
  let hash = '';
  try { hash = sessionStorage.getItem('parley:after-login') || ''; sessionStorage.removeItem('parley:after-login'); } catch { /* ignore */ }
  location.assign('/' + (hash.startsWith('#') ? hash : ''));
}

export async function renderLogin(root) {
  // Already logged in? Straight to the console.
  try { await api.get('/me'); home(); return; } catch { /* not logged in: show the form */ }
  const error = h('p', { class: 'error-text', role: 'alert', id: 'login-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', id: 'login-submit', 'data-testid': 'login-submit' }, 'Log in');
  const form = h('form', { class: 'auth-form', 'aria-describedby': 'login-error' },
    field('login-email', 'Email', { type: 'email', autocomplete: 'username', autofocus: true }),
    field('login-password', 'Password', { type: 'password', autocomplete: 'current-password' }),
    error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      await api.post('/login', { email: form.elements['login-email'].value.trim(), password: form.elements['login-password'].value });
      home();
    } catch (err) {
      error.textContent = err.status === 401 ? 'Wrong email or password.'
        : err.status === 429 ? 'Too many attempts. Please wait a minute and try again.' : err.message;
      submit.disabled = false;
      form.elements['login-password'].select();
    }
  });
  root.replaceChildren(page('Log in', 'Welcome back. Log in to answer your chats.', form));
  form.elements['login-email'].focus();
}

export async function renderSetup(root) {
  const token = new URLSearchParams(location.search).get('token') || '';
  let valid = false;
  if (token) {
    try { valid = !!(await api.get(`/setup/${encodeURIComponent(token)}`))?.valid; } catch { valid = false; }
  }
  if (!valid) {
    root.replaceChildren(page('This set-up link does not work',
      'The link is incomplete, or it was already used to create the first admin. Links are printed by `parley serve` on a first start.',
      h('a', { class: 'btn btn-primary btn-block', href: '/login' }, 'Go to log in')));
    return;
  }
  const error = h('p', { class: 'error-text', role: 'alert', id: 'setup-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', id: 'setup-submit', 'data-testid': 'setup-submit' }, 'Create admin and log in');
  const form = h('form', { class: 'auth-form', 'aria-describedby': 'setup-error' },
    field('setup-name', 'Your name', { type: 'text', autocomplete: 'name', autofocus: true }),
    field('setup-email', 'Email', { type: 'email', autocomplete: 'username' }),
    field('setup-password', 'Password', { type: 'password', autocomplete: 'new-password', 'aria-describedby': 'pw-hint' }),
    h('p', { class: 'muted small', id: 'pw-hint' }, 'Use a long password; this account can change every setting.'),
    error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    const v = (n) => form.elements[n].value;
    try {
      await api.post('/setup', { token, name: v('setup-name').trim(), email: v('setup-email').trim(), password: v('setup-password') });
      location.assign('/');
    } catch (err) {
      error.textContent = err.message;
      submit.disabled = false;
    }
  });
  root.replaceChildren(page('Create the first admin', 'This account manages channels, operators and flows. The link works once.', form));
  form.elements['setup-name'].focus();
}
