// settings-form.js — small form pieces shared by the Settings dialogs: labelled fields with
// hints, selects, the error line that shows the server's message (and marks the field it
// is about), copy-to-clipboard code boxes, and random secrets.

import { h } from './dom.js';

let seq = 0;
export const uid = (prefix) => `${prefix}-${++seq}`;

/** A labelled field: {label, input, hint?}. The input gets an id and aria-describedby. */
export function field(label, input, hint, attrs = {}) {
  if (!input.id) input.id = uid('f');
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'field-hint', id: `${input.id}-hint` }, hint);
    input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), hintEl.id].filter(Boolean).join(' '));
  }
  return h('div', { class: 'field', ...attrs }, h('label', { for: input.id }, label), input, hintEl);
}

/** <select> from [[value, label], ...]. */
export function select(options, value, attrs = {}) {
  const el = h('select', attrs, options.map(([v, label]) => h('option', { value: v }, label)));
  el.value = value ?? options[0][0];
  return el;
}

/** A fieldset with a legend, for one group of settings. */
export const section = (legend, ...children) =>
  h('fieldset', { class: 'form-section' }, h('legend', {}, legend), children);

/** The line under a form where the server's refusal is shown. */
export const formError = () => h('p', { class: 'error-text form-error', role: 'alert', 'data-testid': 'form-error' });

/** "the password needs…" → "The password needs…". */
export const sentence = (s) => (s ? s.charAt(0).toUpperCase() + s.slice(1) : s);

/**
 * Shows an error: the message in `errorEl`, and the field it is about (found by a keyword of
 * `fields`, {keyword: input}) marked invalid and focused.
 */
export function showError(errorEl, err, fields = {}) {
  const message = err.status === 403 ? 'Only admins can change this.' : sentence(err.message || String(err));
  errorEl.textContent = message;
  clearInvalid(fields);
  const lower = message.toLowerCase();
  const hit = Object.entries(fields).find(([word]) => lower.includes(word));
  if (hit) {
    hit[1].setAttribute('aria-invalid', 'true');
    hit[1].setAttribute('aria-errormessage', ensureId(errorEl));
    hit[1].focus();
  }
}

export function clearInvalid(fields) {
  for (const el of Object.values(fields)) { el.removeAttribute('aria-invalid'); el.removeAttribute('aria-errormessage'); }
}

function ensureId(el) {
  if (!el.id) el.id = uid('err');
  return el.id;
}

/** An error found before asking the server (shown the same way). */
export class FormProblem extends Error {}

/** Copies text; falls back to a selection + execCommand where the Clipboard API is absent (plain http). */
export async function copyText(text, fallbackEl) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!fallbackEl) return false;
    const range = document.createRange();
    range.selectNodeContents(fallbackEl);
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { return document.execCommand('copy'); } catch { return false; }
  }
}

/** A read-only code box (focusable, selected whole on click) with a Copy button: {el, code}. */
export function codeBox(text, { testid, name, label = 'Copy' } = {}) {
  const code = h('pre', {
    class: 'code-box', 'data-testid': testid, tabindex: '0',
    role: 'textbox', 'aria-readonly': 'true', 'aria-multiline': 'true', 'aria-label': name,
  }, h('code', {}, text));
  const status = h('span', { class: 'sr-only', 'aria-live': 'polite' });
  const btn = h('button', {
    type: 'button', class: 'btn btn-small copy-btn', 'data-testid': testid ? `${testid}-copy` : null,
    onclick: async () => {
      const ok = await copyText(text, code);
      btn.textContent = ok ? 'Copied' : 'Selected: press Ctrl+C';
      status.textContent = ok ? 'Copied to the clipboard.' : 'Could not copy by itself: the text is selected, press Ctrl+C.';
      clearTimeout(btn.timer);
      btn.timer = setTimeout(() => { btn.textContent = label; }, 2500);
    },
  }, label);
  return { el: h('div', { class: 'code-wrap' }, code, btn, status), code };
}

/** 32 random characters of A-Za-z0-9 (fits every kind's secret rules). */
export function randomSecret() {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  while (out.length < 32) {
    // 248 = 4 × 62: bytes above it are dropped so every character is equally likely.
    for (const b of crypto.getRandomValues(new Uint8Array(48))) if (b < 248 && out.length < 32) out += abc[b % 62];
  }
  return out;
}

/** Busy state for a submit button: disabled, aria-busy, another label meanwhile. */
export function busy(btn, on, text) {
  btn.disabled = on;
  btn.setAttribute('aria-busy', String(on));
  if (on) { btn.dataset.label = btn.textContent; if (text) btn.textContent = text; }
  else if (btn.dataset.label) btn.textContent = btn.dataset.label;
}
