// bots-sim.js — the simulator of the Bots page: a test chat in which the author plays
// the contact. It runs the flow in the editor against a throwaway run on the server
// (POST /flows/simulate: nothing is stored, nothing goes to a platform) and shows each
// step entered, what the bot says (buttons pressable), HTTP calls, the variables and the
// exit taken.

import { api } from './api.js';
import { h, fill } from './dom.js';

export class Simulator {
  /** ctx: {source: () => yaml, flash, admin} */
  constructor(ctx) {
    this.ctx = ctx;
    this.state = null;
    this.log = h('ol', { class: 'sim-log', 'data-testid': 'sim-log', 'aria-live': 'polite' });
    this.vars = h('dl', { class: 'sim-vars', 'data-testid': 'sim-vars' });
    this.input = h('input', { type: 'text', class: 'field', placeholder: 'Write as the contact…', 'data-testid': 'sim-input', disabled: !ctx.admin });
    const form = h('form', { class: 'sim-form', onsubmit: (e) => { e.preventDefault(); this.say(this.input.value); } },
      this.input,
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'sim-send', disabled: !ctx.admin }, 'Send'),
      h('button', { type: 'button', class: 'btn', 'data-testid': 'sim-start', disabled: !ctx.admin, onclick: () => this.run({ kind: 'start' }, true) }, 'Start over'),
      h('button', { type: 'button', class: 'btn', 'data-testid': 'sim-timer', disabled: !ctx.admin, onclick: () => this.run({ kind: 'timer' }) }, 'End the wait'));
    this.el = h('div', { class: 'sim' },
      ctx.admin ? null : h('p', { class: 'muted' }, 'Only admins run the simulator (its HTTP steps make real calls).'),
      h('div', { class: 'sim-body' }, this.log, h('aside', { class: 'sim-side' }, h('h3', {}, 'Variables'), this.vars)), form);
  }

  say(text) {
    text = text.trim();
    if (!text) return;
    this.input.value = '';
    this.line('contact', text);
    this.run({ kind: 'message', text });
  }

  line(kind, text, extra) {
    this.log.append(h('li', { class: `sim-line sim-${kind}`, 'data-testid': `sim-${kind}` }, extra, text));
    this.log.scrollTop = this.log.scrollHeight;
  }

  async run(input, fresh) {
    if (fresh) { this.state = null; fill(this.log); }
    let r;
    try {
      r = await api.post('/flows/simulate', { source: this.ctx.source(), state: this.state, input, contact: { first_name: 'Test' } });
    } catch (e) { this.line('error', e.message); return; }
    this.state = r.state;
    for (const e of r.events) {
      if (e.kind === 'say') {
        const buttons = e.buttons.length
          ? h('div', { class: 'sim-buttons' }, e.buttons.map((b) => h('button', { type: 'button', class: 'choice', onclick: () => this.say(b) }, b)))
          : null;
        this.log.append(h('li', { class: 'sim-line sim-say', 'data-testid': 'sim-say' }, h('span', { class: 'sim-bubble' }, e.text || ''), buttons));
      } else if (e.kind === 'step') {
        this.line('step', `→ ${e.step}`);
      } else {
        this.line(e.kind === 'contact' ? 'field' : e.kind, `${e.kind}${e.text ? ': ' + e.text : ''}`);
      }
    }
    this.log.scrollTop = this.log.scrollHeight;
    fill(this.vars, Object.entries(r.state.vars).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      h('dt', {}, 'step'), h('dd', {}, `${r.state.step} (${r.state.status}, waits for ${r.state.waiting})`));
  }
}
