// settings-audit.js — Settings → Audit log: who changed what and when (channels,
// operators, merges and their undoing), newest first, older pages on demand.

import { api, qs } from './api.js';
import { h, fill, relTime } from './dom.js';

const SUBJECT = { channel: 'channel', operator: 'operator', settings: 'settings', merge: 'merge', flow: 'flow', broadcast: 'broadcast' };

export class AuditPanel {
  /** ctx: {flash, onCount(n)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.entries = [];
    this.next = null;
    this.list = h('ul', { class: 'audit-list', 'aria-label': 'Audit log', 'data-testid': 'audit-list' });
    this.status = h('p', { class: 'muted settings-status', role: 'status' });
    this.more = h('button', { type: 'button', class: 'btn', hidden: true, onclick: () => this.load(true) }, 'Older entries');
    this.el = h('section', { class: 'settings-card' },
      h('div', { class: 'settings-card-head' },
        h('div', { class: 'grow' }, h('h2', {}, 'Audit log'),
          h('p', { class: 'muted small' }, 'What admins changed, by whom and when.'))),
      this.status, this.list, this.more);
  }

  async load(older = false) {
    if (!older) { this.entries = []; this.next = null; }
    this.status.textContent = this.entries.length ? '' : 'Loading the log…';
    try {
      const page = await api.get(`/audit${qs({ before: older ? this.next : undefined, limit: 50 })}`);
      this.entries = this.entries.concat(page.entries);
      this.next = page.next_before;
      this.status.textContent = this.entries.length ? '' : 'Nothing has been changed yet.';
    } catch (e) {
      this.status.textContent = `Cannot load the audit log: ${e.message}`;
      return;
    }
    this.ctx.onCount?.(this.entries.length + (this.next ? '+' : ''));
    this.more.hidden = !this.next;
    fill(this.list, this.entries.map((e) => row(e)));
  }
}

function row(e) {
  const who = e.actor ? e.actor.name : 'The command line';
  const what = `${e.action} ${SUBJECT[e.subject] || e.subject}${e.subject_id != null ? ` #${e.subject_id}` : ''}`;
  return h('li', { class: 'audit-row', 'data-testid': 'audit-row' },
    h('div', {}, h('strong', {}, who), ' ', what),
    h('div', { class: 'muted small' }, h('time', { datetime: e.at, title: e.at }, relTime(e.at))),
    h('pre', { class: 'audit-changes mono' }, changes(e.changes)));
}

/** `field: from → to` lines, or the JSON of what was recorded. */
function changes(c) {
  const lines = Object.entries(c || {}).map(([k, v]) =>
    v && typeof v === 'object' && 'from' in v && 'to' in v
      ? `${k}: ${JSON.stringify(v.from)} → ${JSON.stringify(v.to)}`
      : `${k}: ${JSON.stringify(v)}`);
  return lines.join('\n');
}
