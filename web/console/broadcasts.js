// broadcasts.js — the Broadcasts page (#broadcasts, #broadcasts/ID): the list, the composer
// (admins: text, buttons, one attachment, the audience builder with a live count, a
// schedule in a time zone), and one broadcast's live progress with its figures, reasons,
// controls and recipients table (filters, CSV export). Progress arrives as
// `broadcast.updated` events (a few a second), never one per recipient.

import { api, qs } from './api.js';
import { h, fill, debounce } from './dom.js';

const FIGURES = ['sent', 'delivered', 'read', 'failed', 'blocked', 'unknown', 'skipped', 'cancelled', 'queued'];
const DONE = ['sent', 'delivered', 'read', 'failed', 'blocked', 'unknown', 'skipped', 'cancelled'];
const STATES = { draft: 'Draft', scheduled: 'Scheduled', sending: 'Sending', paused: 'Paused', done: 'Done', cancelled: 'Cancelled' };
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const words = (s) => s.split(',').map((w) => w.trim()).filter(Boolean);

export class BroadcastsPage {
  /** ctx: {me, flash} */
  constructor(ctx) {
    this.ctx = ctx;
    this.admin = ctx.me.role === 'admin';
    this.link = h('a', { href: '#broadcasts', class: 'nav-link', 'data-testid': 'nav-broadcasts' }, 'Broadcasts');
    this.list = h('div', { class: 'bc-list', 'data-testid': 'broadcast-list' });
    this.detail = h('section', { class: 'bc-detail', 'data-testid': 'broadcast-detail', hidden: true });
    this.composer = this.admin ? this.buildComposer() : null;
    this.el = h('main', { class: 'broadcasts', 'data-testid': 'broadcasts-page', hidden: true },
      h('div', { class: 'bc-inner' },
        h('div', { class: 'bc-head' }, h('h1', {}, 'Broadcasts')),
        this.composer, this.detail, h('h2', {}, 'All broadcasts'), this.list));
  }

  /** Shows the page for a #broadcasts… hash (hiding `panes`); false for any other hash. */
  route(hash, panes) {
    const m = hash.match(/^#broadcasts(?:\/(\d+))?$/);
    this.el.hidden = !m;
    this.link.setAttribute('aria-current', m ? 'page' : 'false');
    if (!m) { this.shown = null; return false; }
    panes.hidden = true;
    for (const a of this.link.parentElement?.querySelectorAll('[aria-current]') || []) {
      if (a !== this.link) a.setAttribute('aria-current', 'false');
    }
    this.shown = m[1] ? Number(m[1]) : null;
    this.loadList();
    if (this.composer) { this.composer.hidden = this.shown != null; this.refreshCount(); this.loadChannels(); }
    this.detail.hidden = this.shown == null;
    if (this.shown != null) this.loadDetail(this.shown);
    return true;
  }

  /** A live `broadcast.updated`: the list row and, when shown, the progress move. */
  onEvent(ev) {
    if (ev.kind !== 'broadcast.updated' || this.el.hidden) return;
    if (!this.table) this.buildRecipients();
    const b = ev.data?.broadcast;
    if (!b) return;
    this.loadList();
    if (this.shown !== b.id) return;
    this.renderDetail({ ...this.current, ...b, reasons: b.reasons?.length ? b.reasons : this.current?.reasons || [] });
    this.refreshRecipients();
  }

  async loadList() {
    try {
      const { broadcasts = [] } = await api.get('/broadcasts');
      fill(this.list, broadcasts.length ? h('table', { class: 'bc-table' },
        h('thead', {}, h('tr', {}, ['Name', 'State', 'Progress', 'Sent', 'Failed', 'Created'].map((t) => h('th', {}, t)))),
        h('tbody', {}, broadcasts.map((b) => h('tr', { 'data-testid': `broadcast-row-${b.id}` },
          h('td', {}, h('a', { href: `#broadcasts/${b.id}` }, b.name)),
          h('td', {}, badge(b.state)),
          h('td', {}, progressBar(b.figures, true)),
          h('td', { class: 'num' }, String(b.figures.sent + b.figures.delivered + b.figures.read)),
          h('td', { class: 'num' }, String(b.figures.failed + b.figures.blocked)),
          h('td', {}, fmtTime(b.created_at)))))) : h('p', { class: 'muted' }, 'No broadcasts yet.'));
    } catch (e) { fill(this.list, h('p', { class: 'error-text', role: 'alert' }, `Cannot load broadcasts: ${e.message}`)); }
  }

  // ---- the composer ----------------------------------------------------------------------
  buildComposer() {
    const field = (label, input, hint) => h('label', { class: 'bc-field' }, h('span', {}, label), input, hint ? h('small', { class: 'muted' }, hint) : null);
    this.name = h('input', { type: 'text', maxlength: 200, required: true, 'data-testid': 'bc-name', placeholder: 'Spring sale' });
    this.text = h('textarea', { rows: 4, maxlength: 4096, 'data-testid': 'bc-text', placeholder: 'What your contacts will read' });
    this.buttons = h('div', { class: 'bc-buttons' });
    this.attachKind = h('select', { 'data-testid': 'bc-attach-kind' }, ['photo', 'document', 'video'].map((k) => h('option', { value: k }, k)));
    this.attachUrl = h('input', { type: 'url', placeholder: 'https://… (optional)', 'data-testid': 'bc-attach-url' });
    this.channels = h('div', { class: 'bc-channels', 'data-testid': 'bc-channels' });
    this.tagsAny = h('input', { type: 'text', placeholder: 'vip, berlin', 'data-testid': 'bc-tags-any' });
    this.tagsAll = h('input', { type: 'text', 'data-testid': 'bc-tags-all' });
    this.tagsNone = h('input', { type: 'text', 'data-testid': 'bc-tags-none' });
    this.activeAfter = h('input', { type: 'date', 'data-testid': 'bc-active-after' });
    this.seenAfter = h('input', { type: 'date', 'data-testid': 'bc-seen-after' });
    this.idsFile = h('input', { type: 'file', accept: '.csv,text/csv', 'data-testid': 'bc-ids-file', onchange: () => this.readIds() });
    this.idsNote = h('small', { class: 'muted' });
    this.count = h('div', { class: 'bc-count', 'aria-live': 'polite', 'data-testid': 'bc-count' }, '…');
    this.sendAt = h('input', { type: 'datetime-local', 'data-testid': 'bc-send-at' });
    const here = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    if (!zones.includes(here)) zones.unshift(here); // "UTC" is not in the browser's list
    this.zone = h('select', { 'data-testid': 'bc-zone' }, zones.map((z) => h('option', { value: z, selected: z === here }, z)));
    const recount = debounce(() => this.refreshCount(), 300);
    for (const el of [this.tagsAny, this.tagsAll, this.tagsNone, this.activeAfter, this.seenAfter]) el.addEventListener('input', recount);
    this.channels.addEventListener('change', recount);
    const addButton = h('button', { type: 'button', class: 'btn', 'data-testid': 'bc-add-button', onclick: () => this.addButtonRow() }, 'Add a button');
    const submit = (start) => (e) => { e.preventDefault(); this.submit(start); };
    return h('form', { class: 'bc-composer', 'data-testid': 'bc-composer', onsubmit: submit(true) },
      h('h2', {}, 'New broadcast'),
      h('div', { class: 'bc-grid' },
        h('fieldset', {}, h('legend', {}, 'Message'),
          field('Name', this.name), field('Text', this.text),
          h('div', { class: 'bc-field' }, h('span', {}, 'Buttons'), this.buttons, addButton),
          h('div', { class: 'bc-row' }, field('Attachment', this.attachKind), field('URL', this.attachUrl))),
        h('fieldset', {}, h('legend', {}, 'Audience'),
          h('div', { class: 'bc-field' }, h('span', {}, 'Channels (none ticked: all)'), this.channels),
          h('div', { class: 'bc-row' }, field('Tags, any of', this.tagsAny), field('all of', this.tagsAll), field('none of', this.tagsNone)),
          h('div', { class: 'bc-row' }, field('Active since', this.activeAfter), field('First seen since', this.seenAfter)),
          field('Only these contacts (CSV of ids)', this.idsFile), this.idsNote,
          this.count)),
      h('div', { class: 'bc-row bc-actions' },
        field('Send at (optional)', this.sendAt), field('Time zone', this.zone),
        h('span', { class: 'grow' }),
        h('button', { type: 'button', class: 'btn', 'data-testid': 'bc-save', onclick: submit(false) }, 'Save draft'),
        h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'bc-send' }, 'Send')));
  }

  addButtonRow() {
    const label = h('input', { type: 'text', placeholder: 'Label', maxlength: 64, 'data-testid': 'bc-button-label' });
    const kind = h('select', { 'data-testid': 'bc-button-kind' },
      h('option', { value: 'data' }, 'Reply with'), h('option', { value: 'flow' }, 'Start flow'), h('option', { value: 'unsubscribe' }, 'Unsubscribe'));
    const value = h('input', { type: 'text', placeholder: 'data or flow id', 'data-testid': 'bc-button-value' });
    kind.addEventListener('change', () => { value.hidden = kind.value === 'unsubscribe'; });
    const row = h('div', { class: 'bc-button-row' }, label, kind, value,
      h('button', { type: 'button', class: 'btn btn-ghost', 'aria-label': 'Remove the button', onclick: () => row.remove() }, '×'));
    row.read = () => {
      const b = { label: label.value.trim() };
      if (kind.value === 'unsubscribe') b.unsubscribe = true;
      else if (value.value.trim()) b[kind.value] = value.value.trim();
      return b;
    };
    this.buttons.append(row);
  }

  async loadChannels() {
    if (this.channelsLoaded) return;
    this.channelsLoaded = true;
    try {
      const { channels = [] } = await api.get('/channels');
      fill(this.channels, channels.map((c) => h('label', { class: 'bc-check' },
        h('input', { type: 'checkbox', value: c.id, 'data-testid': `bc-channel-${c.id}` }), `${c.name} (${c.kind})`)));
    } catch { this.channelsLoaded = false; }
  }

  async readIds() {
    const file = this.idsFile.files?.[0];
    this.ids = null;
    if (file) {
      const text = await file.text();
      this.ids = [...new Set((text.match(/\d+/g) || []).map(Number))];
      this.idsNote.textContent = `${this.ids.length} contact ids from ${file.name}`;
    } else this.idsNote.textContent = '';
    this.refreshCount();
  }

  audience() {
    const a = {};
    const channels = [...this.channels.querySelectorAll('input:checked')].map((i) => Number(i.value));
    if (channels.length) a.channels = channels;
    const tags = { any: words(this.tagsAny.value), all: words(this.tagsAll.value), none: words(this.tagsNone.value) };
    for (const k of Object.keys(tags)) if (!tags[k].length) delete tags[k];
    if (Object.keys(tags).length) a.tags = tags;
    if (this.activeAfter.value) a.last_active = { after: `${this.activeAfter.value}T00:00:00Z` };
    if (this.seenAfter.value) a.first_seen = { after: `${this.seenAfter.value}T00:00:00Z` };
    if (this.ids) a.contact_ids = this.ids;
    return a;
  }

  async refreshCount() {
    if (!this.composer) return;
    const seq = (this.countSeq = (this.countSeq || 0) + 1);
    try {
      const p = await api.post('/broadcasts/preview', { audience: this.audience() });
      if (seq !== this.countSeq) return;
      const skipped = Object.entries(p.skipped || {}).map(([why, n]) => `${n} ${why}`).join(', ');
      fill(this.count, h('strong', { 'data-testid': 'bc-count-n' }, `${p.count} contacts`),
        h('span', { class: 'muted' }, ` · ${p.by_channel.map((c) => `${c.name}: ${c.count}`).join(' · ') || 'no channel'}`),
        skipped ? h('div', { class: 'muted small' }, `Left out: ${skipped}`) : null);
    } catch (e) { if (seq === this.countSeq) fill(this.count, h('span', { class: 'error-text' }, e.message)); }
  }

  async submit(start) {
    const content = { text: this.text.value.trim() || null, buttons: [...this.buttons.children].map((r) => r.read()) };
    if (this.attachUrl.value.trim()) content.attachments = [{ kind: this.attachKind.value, url: this.attachUrl.value.trim() }];
    const body = { name: this.name.value.trim(), content, audience: this.audience() };
    if (this.sendAt.value) { body.send_at = this.sendAt.value; body.time_zone = this.zone.value; }
    try {
      let b = await api.post('/broadcasts', body);
      if (start && b.state === 'draft') b = await api.post(`/broadcasts/${b.id}/start`);
      this.ctx.flash(b.state === 'scheduled' ? `Scheduled for ${fmtTime(b.send_at)}` : start ? 'Sending' : 'Saved as a draft');
      location.hash = `#broadcasts/${b.id}`;
    } catch (e) { this.ctx.flash(e.message, { kind: 'error' }); }
  }

  // ---- one broadcast -------------------------------------------------------------------
  async loadDetail(id) {
    try {
      const b = await api.get(`/broadcasts/${id}`);
      if (this.shown === id) this.renderDetail(b);
    } catch (e) { fill(this.detail, h('p', { class: 'error-text', role: 'alert' }, e.message)); }
  }

  renderDetail(b) {
    this.current = b;
    const f = b.figures;
    const control = (action, label, when) => (this.admin && when.includes(b.state)
      ? h('button', { type: 'button', class: `btn${action === 'cancel' ? ' bc-danger' : ''}`, 'data-testid': `bc-${action}`,
        onclick: () => this.act(b.id, action) }, label) : null);
    if (!this.table) this.buildRecipients();
    fill(this.detail,
      h('div', { class: 'bc-detail-head' }, h('h2', { 'data-testid': 'bc-detail-name' }, b.name), badge(b.state),
        h('span', { class: 'grow' }),
        control('start', 'Send now', ['draft', 'scheduled']), control('pause', 'Pause', ['sending']),
        control('resume', 'Resume', ['paused']), control('resend-unknown', 'Resend unknown', f.unknown ? ['sending', 'paused', 'done'] : []),
        control('cancel', 'Cancel', ['draft', 'scheduled', 'sending', 'paused'])),
      h('p', { class: 'bc-text' }, b.content.text || ''),
      h('p', { class: 'muted small' }, b.send_at ? `Send at ${fmtTime(b.send_at)}${b.time_zone ? ` (${b.time_zone})` : ''} · ` : '',
        `Started ${fmtTime(b.started_at)} · Finished ${fmtTime(b.finished_at)}`),
      progressBar(f, false),
      h('dl', { class: 'bc-figures', 'data-testid': 'bc-figures' },
        [['total', 'Total'], ...FIGURES.map((k) => [k, k[0].toUpperCase() + k.slice(1)])].map(([k, label]) =>
          h('div', { class: `bc-fig bc-${k}` }, h('dt', {}, label), h('dd', { 'data-testid': `bc-fig-${k}` }, String(f[k] ?? 0))))),
      b.reasons?.length ? h('div', { class: 'bc-reasons' }, h('h3', {}, 'Reasons'),
        h('ul', { 'data-testid': 'bc-reasons' }, b.reasons.map((r) => h('li', {}, badge(r.state), ` ${r.count} × `, r.reason)))) : null,
      this.recipientsEl);
    this.exportLink.href = `/api/v1/broadcasts/${b.id}/recipients?format=csv`;
    if (this.recipientsFor !== b.id) { this.recipientsFor = b.id; this.loadRecipients(true); }
  }

  async act(id, action) {
    if (action === 'cancel' && !confirm('Cancel this broadcast? Recipients not sent yet will never get it.')) return;
    try { this.renderDetail(await api.post(`/broadcasts/${id}/${action}`)); this.loadList(); } catch (e) { this.ctx.flash(e.message, { kind: 'error' }); }
  }

  buildRecipients() {
    this.stateFilter = h('select', { 'data-testid': 'bc-recipient-state', onchange: () => this.loadRecipients(true) },
      h('option', { value: '' }, 'Every state'), FIGURES.map((s) => h('option', { value: s }, s)));
    this.exportLink = h('a', { class: 'btn', 'data-testid': 'bc-export', download: '' }, 'Export CSV');
    this.table = h('tbody', {});
    this.more = h('button', { type: 'button', class: 'btn', hidden: true, onclick: () => this.loadRecipients(false) }, 'More');
    // The table's first page follows the progress, at most twice a second.
    this.refreshRecipients = debounce(() => this.loadRecipients(true), 500);
    this.recipientsEl = h('div', { class: 'bc-recipients' },
      h('div', { class: 'bc-row' }, h('h3', {}, 'Recipients'), this.stateFilter, h('span', { class: 'grow' }), this.exportLink),
      h('table', { class: 'bc-table', 'data-testid': 'bc-recipients' },
        h('thead', {}, h('tr', {}, ['Contact', 'State', 'Reason', 'Updated'].map((t) => h('th', {}, t)))), this.table),
      this.more);
  }

  async loadRecipients(fresh) {
    const id = this.recipientsFor;
    if (fresh) { this.after = 0; this.table.replaceChildren(); }
    try {
      const page = await api.get(`/broadcasts/${id}/recipients${qs({ state: this.stateFilter.value || undefined, after: this.after, limit: 50 })}`);
      if (id !== this.recipientsFor) return;
      for (const r of page.recipients) {
        this.table.append(h('tr', {},
          h('td', {}, r.chat_id ? h('a', { href: `#chat=${r.chat_id}` }, r.contact_name) : r.contact_name),
          h('td', {}, badge(r.state)), h('td', {}, r.reason || ''), h('td', {}, fmtTime(r.updated_at))));
      }
      this.after = page.next;
      this.more.hidden = page.next == null;
    } catch (e) { this.ctx.flash(e.message, { kind: 'error' }); }
  }
}

function badge(state) {
  return h('span', { class: `bc-badge bc-${state}` }, STATES[state] || state);
}

/** A bar of what has ended, by state, over the total. */
function progressBar(f, small) {
  const total = f.total || 0;
  const ended = DONE.reduce((n, k) => n + (f[k] || 0), 0);
  const pct = total ? Math.round((ended * 100) / total) : 0;
  const bar = h('div', { class: `bc-progress${small ? ' small' : ''}`, role: 'progressbar', 'aria-valuemin': '0',
    'aria-valuemax': String(total), 'aria-valuenow': String(ended), 'aria-label': `${ended} of ${total} done`, 'data-testid': 'bc-progress' },
  DONE.filter((k) => f[k]).map((k) => h('span', { class: `bc-seg bc-${k}`, style: { width: `${(f[k] * 100) / total}%` }, title: `${k}: ${f[k]}` })));
  return small ? bar : h('div', { class: 'bc-progress-wrap' }, bar, h('span', { class: 'muted small' }, `${pct}% · ${ended} of ${total}`));
}
