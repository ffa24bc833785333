// settings.js — the admin Settings page (#settings, #settings/operators, #settings/audit):
// channels, operators and the audit log, so Parley can be set up without curl. Only admins get the page and its entry
// in the top-bar navigation; for operators route() never matches.

import { h } from './dom.js';
import { ChannelsPanel } from './settings-channels.js';
import { OperatorsPanel } from './settings-operators.js';
import { AuditPanel } from './settings-audit.js';

const TABS = { channels: 'Channels', operators: 'Operators', audit: 'Audit log' };

export class SettingsPage {
  /** ctx: {me, flash} */
  constructor(ctx) {
    this.ctx = ctx;
    this.admin = ctx.me.role === 'admin';
    this.tab = 'channels';
    /** The top-bar entry (null for operators): app.js puts it into the navigation. */
    this.link = this.admin ? h('a', { href: '#settings', class: 'nav-link', 'data-testid': 'nav-settings' }, 'Settings') : null;
    this.el = h('main', { class: 'settings', 'data-testid': 'settings-page', hidden: true });
    if (!this.admin) return;
    this.counts = {};
    this.tabs = {};
    this.panels = {
      channels: new ChannelsPanel({ flash: ctx.flash, onCount: (n) => this.setCount('channels', n) }),
      operators: new OperatorsPanel({ me: ctx.me, flash: ctx.flash, onCount: (n) => this.setCount('operators', n) }),
      audit: new AuditPanel({ flash: ctx.flash, onCount: (n) => this.setCount('audit', n) }),
    };
    const keys = Object.keys(TABS);
    for (const key of keys) {
      this.counts[key] = h('span', { class: 'count' });
      this.tabs[key] = h('button', {
        type: 'button', role: 'tab', class: 'seg-btn', id: `settings-tab-${key}`, 'aria-controls': `settings-panel-${key}`,
        'data-testid': `tab-settings-${key}`, 'aria-selected': 'false', tabindex: '-1',
        onclick: () => { location.hash = key === 'channels' ? '#settings' : `#settings/${key}`; },
        // Arrow keys move between tabs (the tab pattern: one Tab stop for the whole list).
        onkeydown: (e) => {
          const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
          if (!step) return;
          e.preventDefault();
          const next = keys[(keys.indexOf(key) + step + keys.length) % keys.length];
          this.tabs[next].focus();
          this.tabs[next].click();
        },
      }, TABS[key], this.counts[key]);
      const panel = this.panels[key].el;
      panel.id = `settings-panel-${key}`;
      panel.setAttribute('role', 'tabpanel');
      panel.setAttribute('aria-labelledby', `settings-tab-${key}`);
    }
    this.el.append(h('div', { class: 'settings-inner' },
      h('div', { class: 'settings-head' }, h('h1', {}, 'Settings'),
        h('div', { class: 'segmented settings-tabs', role: 'tablist', 'aria-label': 'Settings' }, Object.values(this.tabs))),
      Object.values(this.panels).map((p) => p.el)));
  }

  setCount(key, n) { this.counts[key].textContent = String(n); }

  /**
   * Shows the page for a #settings… hash (hiding `panes`) and returns true; for any other
   * hash hides it (leaving `panes` to the caller) and returns false.
   */
  route(hash, panes) {
    const m = this.admin && hash.match(/^#settings(?:\/(channels|operators|audit))?$/);
    this.el.hidden = !m;
    if (this.link) this.link.setAttribute('aria-current', m ? 'page' : 'false');
    if (!m) return false;
    panes.hidden = true;
    // The other entries of the navigation are not the current page now.
    for (const a of this.link.parentElement?.querySelectorAll('[aria-current]') || []) {
      if (a !== this.link) a.setAttribute('aria-current', 'false');
    }
    this.tab = m[1] || 'channels';
    for (const [k, b] of Object.entries(this.tabs)) {
      const on = k === this.tab;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      this.panels[k].el.hidden = !on;
    }
    this.panels[this.tab].load();
    // The counts of the other tabs too, so every number shows from the start.
    for (const [k, p] of Object.entries(this.panels)) if (k !== this.tab && this.counts[k].textContent === '') p.load();
    return true;
  }
}
