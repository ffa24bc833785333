// reports.js — the Reports page (#reports/conversations, #reports/status): KPIs of the
// conversations closed in a date range per operator (table and bars) and time in status
// per operator and day (tables and stacked bars), with CSV export. The range lives in the
// hash, so a report can be bookmarked. Days are UTC, like the API. Also owns the top-bar
// navigation between Chats and Reports.

import { api, qs } from './api.js';
import { h, fill } from './dom.js';
import { barChart, statusChart, fmtDuration } from './charts.js';

const TABS = { conversations: 'Conversations', status: 'Time in status' };
const DAY = 86400000;
const utcDate = (ms) => new Date(ms).toISOString().slice(0, 10);
const count = (v) => (v == null ? '—' : String(v));

const CONVERSATION_COLUMNS = [
  ['conversations', 'Closed', count],
  ['answered', 'Answered', count],
  ['first_reply_median_seconds', 'First reply, median', fmtDuration],
  ['first_reply_mean_seconds', 'First reply, mean', fmtDuration],
  ['close_median_seconds', 'Time to close, median', fmtDuration],
  ['close_mean_seconds', 'Time to close, mean', fmtDuration],
  ['messages_per_conversation', 'Messages / conversation', (v) => (v == null ? '—' : v.toFixed(1))],
  ['reopened', 'Reopened', count],
];

export class ReportsPage {
  /** ctx: {me, flash} */
  constructor(ctx) {
    this.ctx = ctx;
    this.tab = 'conversations';
    this.seq = 0;
    this.choicesLoaded = false;
    this.links = {
      chats: h('a', { href: '#', class: 'nav-link', 'data-testid': 'nav-chats' }, 'Chats'),
      reports: h('a', { href: '#reports', class: 'nav-link', 'data-testid': 'nav-reports' }, 'Reports'),
    };
    this.nav = h('nav', { class: 'topnav', 'aria-label': 'Sections' }, this.links.chats, this.links.reports);
    this.build();
  }

  build() {
    const field = (label, input) => h('label', { class: 'report-field' }, label, input);
    this.from = h('input', { type: 'date', 'data-testid': 'report-from', required: true });
    this.to = h('input', { type: 'date', 'data-testid': 'report-to', required: true });
    this.channel = h('select', { 'data-testid': 'report-channel' }, h('option', { value: '' }, 'All channels'));
    this.operator = h('select', { 'data-testid': 'report-operator' }, h('option', { value: '' }, 'All operators'));
    this.channelField = field('Channel', this.channel);
    this.operatorField = field('Operator', this.operator);
    this.operatorField.hidden = this.ctx.me.role !== 'admin';
    this.exportLink = h('a', { class: 'btn', 'data-testid': 'export-csv', download: '' }, 'Export CSV');
    const form = h('form', { class: 'report-form', onsubmit: (e) => { e.preventDefault(); this.go(); } },
      field('From', this.from), field('To (included)', this.to), this.channelField, this.operatorField,
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'report-apply' }, 'Show'),
      this.exportLink);
    this.tabs = {};
    for (const [key, label] of Object.entries(TABS)) {
      this.tabs[key] = h('button', {
        type: 'button', role: 'tab', class: 'seg-btn', 'data-testid': `tab-report-${key}`, 'aria-selected': 'false',
        onclick: () => { this.tab = key; this.go(); },
      }, label);
    }
    this.body = h('div', { class: 'report-body', 'aria-live': 'polite', 'aria-busy': 'false' });
    this.el = h('main', { class: 'reports', 'data-testid': 'reports-page', hidden: true },
      h('div', { class: 'reports-inner' },
        h('div', { class: 'reports-head' }, h('h1', {}, 'Reports'),
          h('div', { class: 'segmented report-tabs', role: 'tablist', 'aria-label': 'Report' }, Object.values(this.tabs))),
        form,
        h('p', { class: 'muted small' }, this.ctx.me.role === 'admin'
          ? 'Days are UTC. Each formula is described in the README (Reports).'
          : 'Your own figures. Days are UTC. Each formula is described in the README (Reports).'),
        this.body));
  }

  /** Shows the page for a #reports… hash (hiding `panes`); false for any other hash. */
  route(hash, panes) {
    const m = hash.match(/^#reports(?:\/(conversations|status))?(?:\?(.*))?$/);
    this.el.hidden = !m;
    panes.hidden = !!m;
    this.links.reports.setAttribute('aria-current', m ? 'page' : 'false');
    this.links.chats.setAttribute('aria-current', m ? 'false' : 'page');
    if (!m) return false;
    this.tab = m[1] || 'conversations';
    const p = new URLSearchParams(m[2] || '');
    const today = Date.now();
    this.from.value = p.get('from') || utcDate(today - 6 * DAY);
    this.to.value = p.get('to') || utcDate(today);
    this.wanted = { channel: p.get('channel_id') || '', operator: p.get('operator_id') || '' };
    this.channel.value = this.wanted.channel;
    this.operator.value = this.wanted.operator;
    this.load();
    return true;
  }

  params() {
    const p = { from: this.from.value, to: this.to.value };
    if (this.tab === 'conversations' && this.channel.value) p.channel_id = this.channel.value;
    if (this.operator.value) p.operator_id = this.operator.value;
    return p;
  }

  /** Puts the form into the hash; the hashchange brings us back to route(). */
  go() {
    const hash = `#reports/${this.tab}${qs(this.params())}`;
    if (location.hash === hash) this.load(); else location.hash = hash;
  }

  async loadChoices() {
    if (this.choicesLoaded) return;
    this.choicesLoaded = true;
    try {
      const { channels = [] } = await api.get('/channels');
      for (const c of channels) this.channel.append(h('option', { value: c.id }, `${c.name} (${c.kind})`));
      if (this.ctx.me.role === 'admin') {
        const { operators = [] } = await api.get('/operators');
        for (const o of operators) this.operator.append(h('option', { value: o.id }, o.name));
      }
      this.channel.value = this.wanted?.channel || '';
      this.operator.value = this.wanted?.operator || '';
    } catch { this.choicesLoaded = false; }
  }

  async load() {
    await this.loadChoices();
    for (const [k, b] of Object.entries(this.tabs)) b.setAttribute('aria-selected', String(k === this.tab));
    this.channelField.hidden = this.tab !== 'conversations';
    const path = this.tab === 'status' ? '/reports/operator-status' : '/reports/conversations';
    const params = this.params();
    this.exportLink.href = `/api/v1${path}${qs({ ...params, format: 'csv' })}`;
    const seq = ++this.seq;
    this.body.setAttribute('aria-busy', 'true');
    try {
      const data = await api.get(path + qs(params));
      if (seq !== this.seq) return;
      fill(this.body, this.tab === 'status' ? renderStatus(data) : renderConversations(data));
    } catch (e) {
      if (seq === this.seq) fill(this.body, h('p', { class: 'error-text', role: 'alert' }, `Cannot load the report: ${e.message}`));
    } finally {
      if (seq === this.seq) this.body.setAttribute('aria-busy', 'false');
    }
  }
}

const card = (title, ...children) => h('section', { class: 'report-card' }, h('h2', {}, title), children);
const operatorName = (row) => row.operator?.name ?? 'Unassigned';

function renderConversations(data) {
  const head = h('tr', {}, h('th', { scope: 'col' }, 'Operator'), CONVERSATION_COLUMNS.map(([, label]) => h('th', { scope: 'col' }, label)));
  const cells = (row) => CONVERSATION_COLUMNS.map(([key, , fmt]) => h('td', { 'data-col': key }, fmt(row[key])));
  const rows = data.operators.map((r) => h('tr', { 'data-testid': 'conv-row', 'data-operator-id': r.operator?.id ?? 'none' },
    h('th', { scope: 'row' }, operatorName(r)), cells(r)));
  const table = h('table', { class: 'report-table', 'data-testid': 'conv-table' },
    h('thead', {}, head), h('tbody', {}, rows),
    h('tfoot', {}, h('tr', { 'data-testid': 'conv-total' }, h('th', { scope: 'row' }, 'Total'), cells(data.total))));
  const closed = barChart({
    title: 'Conversations closed per operator', testid: 'conv-chart',
    items: data.operators.map((r) => ({ label: operatorName(r), value: r.conversations, text: String(r.conversations) })),
  });
  const replies = barChart({
    title: 'Median time to first reply per operator', testid: 'reply-chart',
    items: data.operators.map((r) => ({ label: operatorName(r), value: r.first_reply_median_seconds, text: fmtDuration(r.first_reply_median_seconds) })),
  });
  return [
    card('Closed conversations', h('div', { class: 'table-scroll' }, table)),
    h('div', { class: 'report-charts' }, card('Conversations closed', closed), card('Median time to first reply', replies)),
  ];
}

function renderStatus(data) {
  if (!data.operators.length || !data.days.length) return card('Time in status', h('p', { class: 'muted' }, 'Nothing to show for this range.'));
  const totals = h('table', { class: 'report-table', 'data-testid': 'status-table' },
    h('thead', {}, h('tr', {}, ['Operator', 'Online', 'Away', 'Offline'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, data.operators.map((o) => h('tr', { 'data-testid': 'status-row', 'data-operator-id': o.operator.id },
      h('th', { scope: 'row' }, o.operator.name),
      ['online', 'away', 'offline'].map((k) => h('td', { 'data-col': k }, fmtDuration(o.total[`${k}_seconds`])))))));
  const perDay = h('table', { class: 'report-table', 'data-testid': 'status-days' },
    h('thead', {}, h('tr', {}, ['Operator', 'Day', 'Online', 'Away', 'Offline'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, data.operators.flatMap((o) => o.days.map((d) => h('tr', {},
      h('th', { scope: 'row' }, o.operator.name), h('td', {}, d.day),
      ['online', 'away', 'offline'].map((k) => h('td', {}, fmtDuration(d[`${k}_seconds`]))))))));
  return [
    card('Time in status per day', h('div', { class: 'table-scroll' }, statusChart({ report: data, testid: 'status-chart' }))),
    card('Totals', h('div', { class: 'table-scroll' }, totals)),
    h('details', { class: 'report-card' }, h('summary', {}, 'Per day'), h('div', { class: 'table-scroll' }, perDay)),
  ];
}
