// bots.js — the Bots page (#bots, #bots/ID): the flows with their triggers and on/off
// switch, a generated diagram of the selected flow's steps with the counts per step, its
// versions with rollback, a YAML editor with inline errors (for flows written here; flows
// from files are read-only), and the simulator (bots-sim.js). Everyone may look; admins
// change things.

import { api } from './api.js';
import { h, fill } from './dom.js';
import { Simulator } from './bots-sim.js';

const NEW_FLOW = `name: My flow
triggers:
  - keyword: hello
steps:
  greet:
    send: "Hello {{contact.first_name}}!"
    goto: end
`;

export class BotsPage {
  /** ctx: {me, flash} */
  constructor(ctx) {
    this.ctx = ctx;
    this.admin = ctx.me.role === 'admin';
    this.selected = null;
    this.link = h('a', { href: '#bots', class: 'nav-link', 'data-testid': 'nav-bots' }, 'Bots');
    this.list = h('ul', { class: 'bots-list', 'data-testid': 'flows-list' });
    this.detail = h('section', { class: 'bots-detail', 'data-testid': 'flow-detail' });
    const add = this.admin
      ? h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'new-flow', onclick: () => this.create() }, 'New flow')
      : null;
    this.el = h('main', { class: 'bots', 'data-testid': 'bots-page', hidden: true },
      h('div', { class: 'bots-inner' },
        h('div', { class: 'settings-head' }, h('h1', {}, 'Bots'), h('span', { class: 'grow' }), add),
        h('div', { class: 'bots-grid' }, h('aside', { class: 'settings-card bots-aside' }, this.list), this.detail)));
  }

  /** Shows the page for #bots… (hiding `panes`); false for any other hash. */
  route(hash, panes) {
    const m = hash.match(/^#bots(?:\/([a-z0-9_-]+))?$/);
    this.el.hidden = !m;
    this.link.setAttribute('aria-current', m ? 'page' : 'false');
    if (!m) return false;
    panes.hidden = true;
    for (const a of this.link.parentElement?.querySelectorAll('[aria-current]') || []) {
      if (a !== this.link) a.setAttribute('aria-current', 'false');
    }
    this.selected = m[1] || null;
    this.load();
    return true;
  }

  async load() {
    let flows;
    try {
      flows = (await api.get('/flows')).flows;
    } catch (e) { this.ctx.flash(e.message, { error: true }); return; }
    fill(this.list, flows.length ? flows.map((f) => this.row(f)) : h('li', { class: 'settings-empty' }, 'No flows yet. A fresh install runs no bot: add one, or copy an example from config/flows/examples/ to config/flows/.'));
    const id = this.selected || flows[0]?.id;
    if (id) this.show(id); else fill(this.detail);
  }

  row(f) {
    const toggle = h('input', {
      type: 'checkbox', class: 'switch-input', role: 'switch', checked: f.enabled, disabled: !this.admin,
      'aria-label': `${f.name} on`, 'data-testid': `flow-switch-${f.id}`,
      onchange: async (e) => {
        try {
          await api.put(`/flows/${f.id}/enabled`, { enabled: e.target.checked });
          this.ctx.flash(`${f.name} is ${e.target.checked ? 'on' : 'off'}.`);
        } catch (err) { e.target.checked = !e.target.checked; this.ctx.flash(err.message, { error: true }); }
      },
    });
    return h('li', { class: 'bots-row' + (f.id === this.selected ? ' is-selected' : ''), 'data-testid': `flow-row-${f.id}` },
      h('a', { href: `#bots/${f.id}`, class: 'row-text' },
        h('span', { class: 'row-title' }, f.name),
        h('span', { class: 'row-meta muted' }, `${f.id} · v${f.version} · ${f.origin === 'file' ? 'file' : 'console'} · ${f.active_runs} running`),
        h('span', { class: 'bots-triggers' }, f.triggers.map((t) => h('span', { class: 'pill' }, t)))),
      h('label', { class: 'switch' }, toggle, h('span', { class: 'switch-track', 'aria-hidden': 'true' })));
  }

  async show(id) {
    this.selected = id;
    for (const li of this.list.children) li.classList.toggle('is-selected', li.dataset.testid === `flow-row-${id}`);
    let f; let versions;
    try {
      [f, versions] = await Promise.all([api.get(`/flows/${id}`), api.get(`/flows/${id}/versions`)]);
    } catch (e) { fill(this.detail, h('p', { class: 'empty-note' }, e.message)); return; }
    this.sim = new Simulator({ source: () => this.editor?.value ?? f.source, flash: this.ctx.flash, admin: this.admin });
    fill(this.detail,
      h('div', { class: 'settings-card bots-card' },
        h('div', { class: 'settings-card-head' },
          h('div', {}, h('h2', {}, f.name), h('p', { class: 'muted' }, `${f.origin === 'file' ? 'From a file: read-only here.' : 'Written in the console.'} Version ${f.version}, by ${f.updated_by}.`))),
        this.diagram(f)),
      h('div', { class: 'settings-card bots-card' }, h('div', { class: 'settings-card-head' }, h('h2', {}, 'Simulator')), this.sim.el),
      this.editorCard(f),
      this.versionsCard(f, versions.versions));
  }

  /** The steps as boxes in the flow's order, each with its exits and counts. */
  diagram(f) {
    return h('ol', { class: 'flow-diagram', 'data-testid': 'flow-diagram' }, f.steps.map((s, i) =>
      h('li', { class: `flow-step kind-${s.kind}`, id: `step-${s.name}`, 'data-testid': `step-${s.name}` },
        h('div', { class: 'flow-step-head' },
          h('span', { class: 'flow-kind' }, i === 0 ? `${s.kind} · start` : s.kind),
          h('strong', {}, s.name),
          h('span', { class: 'grow' }),
          h('span', { class: 'flow-counts muted', title: 'entered / finished / dropped at validation' },
            `${s.entered} in · ${s.finished} out` + (s.dropped ? ` · ${s.dropped} dropped` : ''))),
        s.text ? h('p', { class: 'flow-text' }, s.text) : null,
        h('ul', { class: 'flow-exits' }, s.exits.map((x) =>
          h('li', {}, h('span', { class: 'muted' }, x.label), ' → ',
            x.to === 'end' || x.to.startsWith('flow ') ? h('em', {}, x.to) : h('a', { href: `#bots/${f.id}`, onclick: (e) => { e.preventDefault(); document.getElementById(`step-${x.to}`)?.scrollIntoView({ block: 'nearest' }); } }, x.to)))))));
  }

  editorCard(f) {
    const readOnly = f.origin === 'file' || !this.admin;
    this.editor = h('textarea', { class: 'flow-editor', spellcheck: 'false', readonly: readOnly, 'data-testid': 'flow-editor', rows: 18 });
    this.editor.value = f.source;
    this.problems = h('ul', { class: 'flow-problems', 'data-testid': 'flow-problems' });
    this.showProblems(f.warnings);
    let timer = 0;
    this.editor.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => this.check(), 400); });
    const save = readOnly ? null : h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'flow-save', onclick: () => this.save(f.id) }, 'Save as new version');
    const del = readOnly ? null : h('button', { type: 'button', class: 'btn', 'data-testid': 'flow-delete', onclick: () => this.remove(f) }, 'Delete');
    return h('div', { class: 'settings-card bots-card' },
      h('div', { class: 'settings-card-head' }, h('h2', {}, readOnly ? 'YAML (read-only)' : 'YAML'), h('span', { class: 'grow' }), del, save),
      h('div', { class: 'flow-edit' }, this.editor, this.problems));
  }

  showProblems(list) {
    fill(this.problems, list.map((d) => h('li', { class: `flow-problem is-${d.severity}` },
      h('button', { type: 'button', class: 'link', onclick: () => this.goTo(d.line, d.column) }, `${d.line}:${d.column}`),
      ` ${d.severity}: `, d.message)));
  }

  /** Puts the caret at a line and column of the editor. */
  goTo(line, column) {
    const lines = this.editor.value.split('\n');
    const at = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
    this.editor.focus();
    this.editor.setSelectionRange(at, at);
  }

  async check() {
    try {
      const r = await api.post('/flows/check', { source: this.editor.value });
      this.showProblems(r.diagnostics);
      return r.ok;
    } catch (e) { this.ctx.flash(e.message, { error: true }); return false; }
  }

  async save(id) {
    if (!(await this.check())) { this.ctx.flash('The flow has errors: see below the editor.', { error: true }); return; }
    try {
      const r = await api.put(`/flows/${id}`, { source: this.editor.value });
      this.ctx.flash(r.changed ? `Saved as version ${r.version}.` : 'No change.');
      this.load();
    } catch (e) { this.ctx.flash(e.message, { error: true }); }
  }

  async create() {
    const id = window.prompt('An id for the new flow (lower-case letters, digits, - and _):');
    if (!id) return;
    try {
      await api.put(`/flows/${id.trim()}`, { source: NEW_FLOW });
      location.hash = `#bots/${id.trim()}`;
    } catch (e) { this.ctx.flash(e.message, { error: true }); }
  }

  async remove(f) {
    if (!window.confirm(`Delete ${f.name} with its versions and runs?`)) return;
    try { await api.del(`/flows/${f.id}`); location.hash = '#bots'; } catch (e) { this.ctx.flash(e.message, { error: true }); }
  }

  versionsCard(f, versions) {
    const canRoll = this.admin && f.origin === 'api';
    return h('div', { class: 'settings-card bots-card' },
      h('div', { class: 'settings-card-head' }, h('h2', {}, 'Versions')),
      h('table', { class: 'table flow-versions', 'data-testid': 'flow-versions' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Version'), h('th', {}, 'By'), h('th', {}, 'When'), h('th', {}, 'Running'), h('th', {}))),
        h('tbody', {}, versions.map((v) => h('tr', { class: v.current ? 'is-current' : '' },
          h('td', {}, `v${v.number}`, v.current ? h('span', { class: 'pill' }, 'current') : null),
          h('td', {}, v.author), h('td', {}, new Date(v.created_at).toLocaleString()), h('td', {}, String(v.active_runs)),
          h('td', {}, canRoll && !v.current
            ? h('button', { type: 'button', class: 'btn', 'data-testid': `rollback-${v.number}`, onclick: () => this.rollback(f.id, v.number) }, 'Make current')
            : null))))));
  }

  async rollback(id, number) {
    try {
      await api.post(`/flows/${id}/rollback`, { version: number });
      this.ctx.flash(`Version ${number} is current again. Runs under way keep their version.`);
      this.load();
    } catch (e) { this.ctx.flash(e.message, { error: true }); }
  }
}
