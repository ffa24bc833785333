// sessions.js — "Your details" → Sessions and tokens: where you are logged in, the API
// tokens you made, and a button to end each one (another browser is logged out at once;
// a revoked token stops working at once).

import { api } from './api.js';
import { h, fill, relTime } from './dom.js';

/** The section for the operator panel; it loads itself. */
export function sessionsSection(flash) {
  const sessions = h('ul', { class: 'session-list', 'aria-label': 'Sessions', 'data-testid': 'session-list' });
  const tokens = h('ul', { class: 'session-list', 'aria-label': 'API tokens', 'data-testid': 'token-list' });
  const status = h('p', { class: 'muted small', role: 'status' }, 'Loading…');
  const load = async () => {
    try {
      const [s, t] = await Promise.all([api.get('/me/sessions'), api.get('/me/tokens')]);
      status.textContent = '';
      fill(sessions, s.sessions.map((x) => row(x, 'sessions', load, flash)));
      fill(tokens, t.sessions.length ? t.sessions.map((x) => row(x, 'tokens', load, flash))
        : h('li', { class: 'muted small' }, 'No API tokens.'));
    } catch (e) {
      status.textContent = `Cannot load your sessions: ${e.message}`;
    }
  };
  load();
  return h('section', { class: 'card-section', 'data-testid': 'sessions-section' },
    h('h4', {}, 'Sessions'), status, sessions,
    h('h4', {}, 'API tokens'), tokens);
}

function row(s, kind, reload, flash) {
  const what = kind === 'tokens' ? (s.name || 'API token') : (s.current ? 'This browser' : 'Another browser');
  const meta = [`since ${relTime(s.created_at)}`, s.created_from && `from ${s.created_from}`].filter(Boolean).join(' · ');
  const end = s.current ? null : h('button', {
    type: 'button', class: 'btn btn-small', 'data-testid': `revoke-${kind}`,
    onclick: async (e) => {
      e.target.disabled = true;
      try {
        await api.del(`/me/${kind}/${encodeURIComponent(s.id)}`);
        flash(kind === 'tokens' ? 'The token no longer works.' : 'That browser is logged out.');
      } catch (err) {
        flash(`Not ended: ${err.message}`, { kind: 'error' });
      }
      reload();
    },
  }, kind === 'tokens' ? 'Revoke' : 'Log out');
  return h('li', { class: 'session-row', 'data-testid': 'session-row' },
    h('div', { class: 'grow' }, h('div', {}, what), h('div', { class: 'muted small' }, meta)), end);
}
