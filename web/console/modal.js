// modal.js — accessible dialogs shared by transfer, merge, operator details and the bell.
// role=dialog + aria-modal, the rest of the app made inert, Tab kept inside, Escape and
// a click outside close the top dialog, and focus returns to where it was.

import { h, icon } from './dom.js';

const stack = [];
let seq = 0;

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

function focusables(root) {
  return [...root.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement);
}

function setInert(on) {
  const app = document.getElementById('app');
  if (app) app.inert = on;
}

document.addEventListener('keydown', (e) => {
  const top = stack[stack.length - 1];
  if (!top) return;
  if (e.key === 'Escape') {
    e.preventDefault();
    e.stopPropagation();
    top.close();
  } else if (e.key === 'Tab') {
    const els = focusables(top.dialog);
    if (!els.length) { e.preventDefault(); top.dialog.focus(); return; }
    const first = els[0];
    const last = els[els.length - 1];
    if (!top.dialog.contains(document.activeElement)) { e.preventDefault(); first.focus(); }
    else if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  }
}, true);

/**
 * Opens a dialog. `variant: 'panel'` docks it under the top bar instead of centring it.
 * Returns {dialog, body, foot, close, setTitle}.
 */
export function openModal({ title, testid, className = '', variant = 'center', onClose, body = [], foot = [], describedBy }) {
  const id = `dlg-${++seq}`;
  const returnFocus = document.activeElement;
  const heading = h('h2', { id: `${id}-title`, class: 'modal-title' }, title);
  const bodyEl = h('div', { class: 'modal-body' }, body);
  const footEl = h('div', { class: 'modal-foot' }, foot);
  const dialog = h('div', {
    class: `modal ${className}`, role: 'dialog', 'aria-modal': 'true',
    'aria-labelledby': `${id}-title`, 'aria-describedby': describedBy, tabindex: '-1',
    'data-testid': testid,
  },
  h('div', { class: 'modal-head' }, heading,
    h('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Close dialog', onclick: () => handle.close() }, icon('close'))),
  bodyEl, footEl);
  const backdrop = h('div', { class: `modal-backdrop modal-${variant}` }, dialog);
  // Only a press that starts and ends on the backdrop closes (not a text selection drag).
  let downOnBackdrop = false;
  backdrop.addEventListener('mousedown', (e) => { downOnBackdrop = e.target === backdrop; });
  backdrop.addEventListener('click', (e) => { if (downOnBackdrop && e.target === backdrop) handle.close(); });

  let closed = false;
  const handle = {
    dialog, body: bodyEl, foot: footEl,
    get open() { return !closed; },
    setTitle(t) { heading.textContent = t; },
    close() {
      if (closed) return;
      closed = true;
      const i = stack.indexOf(handle);
      if (i >= 0) stack.splice(i, 1);
      backdrop.remove();
      if (!stack.length) setInert(false);
      if (onClose) onClose();
      if (returnFocus && document.contains(returnFocus) && typeof returnFocus.focus === 'function') returnFocus.focus();
    },
    /** Moves focus to the first field/button in the dialog (or the given element). */
    focus(el) {
      const target = el || dialog.querySelector('[autofocus]') || focusables(bodyEl)[0] || dialog;
      target.focus();
    },
  };
  stack.push(handle);
  document.body.append(backdrop);
  setInert(true);
  requestAnimationFrame(() => { if (!closed) handle.focus(); });
  return handle;
}

export const anyModalOpen = () => stack.length > 0;
export function closeAllModals() { while (stack.length) stack[stack.length - 1].close(); }
