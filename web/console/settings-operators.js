// settings-operators.js — Settings → Operators: everyone who can log in, with role and
// status, and the dialog that adds one (the server validates; its message is shown).

import { api } from './api.js';
import { h, fill, icon, avatar, statusDot, STATUS_LABEL } from './dom.js';
import { openModal } from './modal.js';
import { field, select, formError, showError, clearInvalid, busy } from './settings-form.js';

const ROLE_LABEL = { admin: 'Admin', operator: 'Operator' };

export class OperatorsPanel {
  /** ctx: {me, flash, onCount(n)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.operators = [];
    this.list = h('ul', { class: 'settings-list', 'aria-label': 'Operators' });
    this.status = h('p', { class: 'muted settings-status', role: 'status' });
    this.el = h('section', { class: 'settings-card' },
      h('div', { class: 'settings-card-head' },
        h('div', { class: 'grow' }, h('h2', {}, 'Operators'),
          h('p', { class: 'muted small' }, 'Who answers. Admins also manage channels and operators.')),
        h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'add-operator', onclick: () => this.openDialog() },
          icon('plus'), 'Add operator')),
      this.status, this.list);
  }

  async load(highlight) {
    this.status.textContent = this.operators.length ? '' : 'Loading operators…';
    try {
      this.operators = (await api.get('/operators')).operators || [];
      this.status.textContent = '';
    } catch (e) {
      this.status.textContent = `Cannot load the operators: ${e.message}`;
      return;
    }
    this.ctx.onCount?.(this.operators.length);
    fill(this.list, this.operators.map((o) => this.row(o, o.id === highlight)));
  }

  row(o, fresh) {
    const you = o.id === this.ctx.me.id;
    return h('li', { class: `operator-row${fresh ? ' is-fresh' : ''}`, 'data-testid': 'operator-row', 'data-operator-id': o.id },
      avatar(o.id, o.name, 'md'),
      h('div', { class: 'row-text' },
        h('span', { class: 'row-title' }, o.name, you ? h('span', { class: 'muted' }, ' (you)') : null),
        h('span', { class: 'muted small row-meta' }, o.email)),
      h('span', { class: `pill role-pill role-${o.role}`, 'data-testid': 'operator-role-label' }, ROLE_LABEL[o.role] || o.role),
      o.active
        ? h('span', { class: 'operator-status' }, statusDot(o.status),
          h('span', { class: 'status-text' }, STATUS_LABEL[o.status] || o.status))
        : h('span', { class: 'pill', 'data-testid': 'operator-deactivated' }, 'Deactivated'),
      you ? null : h('button', {
        type: 'button', class: 'btn btn-small', 'data-testid': o.active ? 'deactivate-operator' : 'reactivate-operator',
        onclick: () => this.setActive(o, !o.active),
      }, o.active ? 'Deactivate' : 'Reactivate'));
  }

  /** Deactivating ends every session and token of theirs at once; reactivating lets them log in again. */
  async setActive(o, active) {
    if (!active && !window.confirm(`Deactivate ${o.name}? They are logged out everywhere at once and cannot log in until reactivated.`)) return;
    try {
      await api.post(`/operators/${o.id}/${active ? 'reactivate' : 'deactivate'}`, {});
      this.ctx.flash(active ? `${o.name} can log in again.` : `${o.name} is deactivated and logged out everywhere.`);
    } catch (e) {
      this.ctx.flash(`Not changed: ${e.message}`, { kind: 'error' });
    }
    await this.load(o.id);
  }

  openDialog() {
    const email = h('input', { type: 'email', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'operator-email', placeholder: 'name@company.example' });
    const name = h('input', { type: 'text', autocomplete: 'off', maxlength: '100', 'data-testid': 'operator-name' });
    const role = select([['operator', 'Operator'], ['admin', 'Admin']], 'operator', { 'data-testid': 'operator-role' });
    const password = h('input', { type: 'password', autocomplete: 'new-password', 'data-testid': 'operator-password' });
    const show = h('button', {
      type: 'button', class: 'btn', 'aria-label': 'Show password',
      onclick: () => {
        const on = password.type === 'password';
        password.type = on ? 'text' : 'password';
        show.textContent = on ? 'Hide' : 'Show';
        show.setAttribute('aria-label', on ? 'Hide password' : 'Show password');
      },
    }, 'Show');
    const error = formError();
    // Keywords of the server's messages → the field they are about.
    const fields = { email, password, name };
    const save = h('button', { type: 'submit', form: 'operator-form', class: 'btn btn-primary', 'data-testid': 'operator-save' }, 'Add operator');
    const passwordField = field('Password', password, `At least 8 characters. Give it to them in person; they log in at ${location.origin}/login.`);
    const row = h('div', { class: 'input-row' });
    password.replaceWith(row);
    row.append(password, show);
    const form = h('form', {
      id: 'operator-form', class: 'settings-form', novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = '';
        clearInvalid(fields);
        busy(save, true, 'Adding…');
        try {
          const op = await api.post('/operators', { email: email.value.trim(), name: name.value.trim(), role: role.value, password: password.value });
          dlg.close();
          this.ctx.flash(`${op.name} can log in now.`);
          await this.load(op.id);
        } catch (err) {
          busy(save, false);
          showError(error, err, fields);
        }
      },
    },
    field('Email', email, 'They log in with it.'),
    field('Name', name, 'Customers see it next to their replies.'),
    field('Role', role, 'Operators answer chats. Admins also change channels and add operators.'),
    passwordField, error);
    const dlg = openModal({
      title: 'Add an operator', testid: 'operator-dialog', className: 'modal-settings modal-settings-narrow', body: [form],
      foot: [h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Cancel'), save],
    });
  }
}
