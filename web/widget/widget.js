/*
 * Parley website chat widget - the one script a site owner pastes into a page:
 *
 *   <script src="https://parley.example.com/widget.js" data-channel="KEY" async></script>
 *
 * It draws a chat bubble in a corner and, on click, a chat panel that talks to the Parley
 * server over a WebSocket (the protocol is docs/WIDGET.md). Everything lives in a Shadow
 * DOM root attached to one host element (#parley-widget-host) with its CSS inside, so the
 * host page's styles and ours never touch. Plain JavaScript, no build step, no
 * dependencies. The only global is `window.Parley` = {open, close, toggle}.
 *
 * Security: whatever a visitor, an operator or the server wrote is rendered with
 * textContent / createElement only. Never use HTML-string APIs in this file.
 *
 * Test hooks (inside the shadow root): data-testid = bubble, unread-badge, panel, messages,
 * message (+ data-direction, data-message-id), message-text, input, send, prechat-form,
 * prechat-submit, offline-notice, typing, error. The panel is always in the DOM and has the
 * `hidden` attribute while closed; the badge, typing line, error, offline notice and
 * pre-chat form exist only while they are shown.
 */
(function () {
  'use strict';

  if (window.Parley && window.Parley.loaded) return; // the tag was pasted twice

  // ---------------------------------------------------------------------------
  // Settings from our own <script> tag
  // ---------------------------------------------------------------------------

  const script = findOwnScript();
  const KEY = script ? (script.getAttribute('data-channel') || '').trim() : '';
  if (!KEY) {
    console.warn('[parley] widget.js needs data-channel="KEY" on its script tag');
    return;
  }
  const ORIGIN = serverOrigin(script);
  const USER_ID = script.getAttribute('data-user-id') || '';
  const USER_HASH = script.getAttribute('data-user-hash') || '';
  const TOKEN_KEY = 'parley:' + KEY + ':token';

  const MAX_TEXT = 4000;         // the server refuses longer messages
  const TYPING_EVERY_MS = 2000;  // send our typing frame at most this often
  const TYPING_SHOW_MS = 4000;   // show the operator's "typing..." this long
  const MAX_BACKOFF_MS = 30000;
  const CONFIG_TIMEOUT_MS = 5000;
  const ERROR_SHOW_MS = 8000;
  const FIELDS = ['name', 'email', 'phone'];
  const LABELS = { name: 'Name', email: 'Email', phone: 'Phone' };
  const DEFAULTS = {
    title: 'Chat with us',
    greeting: '',
    color: '#2563eb',
    position: 'right',
    prechat: { name: 'off', email: 'off', phone: 'off' },
    online: null, // unknown until the server says
    offline_text: '',
  };
  const OFFLINE_TEXT = "We're away right now. Leave a message and we'll get back to you.";
  const ERROR_TEXT = {
    rate_limited: "You're sending messages too quickly. Please wait a moment and try again.",
    too_large: 'That message is too long (' + MAX_TEXT.toLocaleString('en') + ' characters at most).',
    prechat_required: 'Please fill in the form before your first message.',
    bad_frame: 'Something went wrong sending that. Please try again.',
  };

  function findOwnScript() {
    const cur = document.currentScript;
    if (cur && cur.hasAttribute('data-channel')) return cur;
    const all = document.querySelectorAll('script[data-channel]');
    return all.length ? all[all.length - 1] : null;
  }

  function serverOrigin(el) {
    try {
      const origin = new URL(el.src, location.href).origin;
      if (origin && origin !== 'null') return origin;
    } catch (e) { /* fall through */ }
    return location.origin;
  }

  // ---------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------

  const state = {
    config: normalizeConfig({}),
    online: null,
    open: false,
    mounted: false,
    wantOpen: false,        // Parley.open() called before the UI was mounted
    token: loadToken(),
    visitor: {},
    // null = unknown (a returning visitor before hello); false/true once known.
    prechatDone: null,
    messages: new Map(),    // id -> WidgetMessage
    pending: new Map(),     // client_id -> {client_id, text, created_at, inFlight, failed}
    lastReadSent: 0,        // highest up_to we sent in a read frame
    lastReadWanted: 0,      // highest up_to the visitor has seen (sent once connected)
    queuedPrechat: null,    // a prechat frame submitted while disconnected
    unread: 0,
    savedEmail: '',         // email given through the offline notice
    // connection
    ws: null,
    ready: false,           // hello received on the current socket
    wantSocket: false,
    retries: 0,
    retryTimer: 0,
    badToken: false,
    lastTypingSent: 0,
    typingTimer: 0,
    errorTimer: 0,
  };
  state.prechatDone = state.token ? null : false;

  const ui = {};               // element references, filled by buildUI()
  const rows = new Map();      // 'id:N' or 'c:CLIENT_ID' -> row element

  function normalizeConfig(c) {
    const out = Object.assign({}, DEFAULTS, c || {});
    out.prechat = Object.assign({}, DEFAULTS.prechat, (c && c.prechat) || {});
    out.position = out.position === 'left' ? 'left' : 'right';
    return out;
  }

  // localStorage can throw (privacy modes, sandboxed frames): then the token lives in memory.
  function loadToken() {
    try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function saveToken(t) {
    state.token = t || '';
    try {
      if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* memory only */ }
  }

  // ---------------------------------------------------------------------------
  // Startup: fetch the config, then draw. Returning visitors (with a token) connect at
  // once so the unread badge works; new visitors connect when they first open the panel,
  // so a page view alone never creates a contact on the server.
  // ---------------------------------------------------------------------------

  window.Parley = { loaded: true, open: openPanel, close: closePanel, toggle: togglePanel };

  loadConfig().then(function (cfg) {
    if (cfg === 'forbidden') return; // this page may not embed the widget: draw nothing
    if (cfg) state.config = normalizeConfig(cfg);
    if (typeof state.config.online === 'boolean') state.online = state.config.online;
    whenBodyReady(function () {
      mount();
      if (state.token) ensureSocket();
      if (state.wantOpen) openPanel();
    });
  });

  function loadConfig() {
    const url = ORIGIN + '/widget/config?channel=' + encodeURIComponent(KEY);
    const ctl = window.AbortController ? new AbortController() : null;
    const timer = setTimeout(function () { if (ctl) ctl.abort(); }, CONFIG_TIMEOUT_MS);
    return fetch(url, { credentials: 'omit', signal: ctl && ctl.signal })
      .then(function (res) {
        // 403: this page's origin is not allowed for the channel. Other failures (404 from a
        // server without Parley, 5xx) draw with defaults; the socket then reports the truth.
        if (res.status === 403) {
          console.warn('[parley] widget not shown: this site is not allowed for channel ' + KEY);
          return 'forbidden';
        }
        if (!res.ok) console.warn('[parley] /widget/config answered ' + res.status);
        return res.ok ? res.json() : null;
      })
      // Unreachable server: draw with defaults anyway; the socket keeps retrying.
      .catch(function () { return null; })
      .then(function (cfg) { clearTimeout(timer); return cfg; });
  }

  function whenBodyReady(fn) {
    if (document.body) fn();
    else document.addEventListener('DOMContentLoaded', fn, { once: true });
  }

  // ---------------------------------------------------------------------------
  // DOM helpers
  // ---------------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        const v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'text') node.textContent = v;
        else if (k === 'class') node.className = v;
        else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? '' : v);
      });
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  const ICONS = {
    chat: 'M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z',
    down: 'M7.41 8.59 12 13.17l4.59-4.58L18 10l-6 6-6-6z',
    close: 'M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z',
    send: 'M2.01 21 23 12 2.01 3 2 10l15 2-15 2z',
  };

  function icon(name) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('class', 'icon icon-' + name);
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', ICONS[name]);
    path.setAttribute('fill', 'currentColor');
    svg.appendChild(path);
    return svg;
  }

  // ---------------------------------------------------------------------------
  // Building the UI
  // ---------------------------------------------------------------------------

  function mount() {
    if (state.mounted) return;
    const host = el('div', { id: 'parley-widget-host' });
    // Keep the host out of the page's layout and above it, whatever the page's CSS says.
    [['all', 'initial'], ['position', 'fixed'], ['z-index', '2147483000'], ['top', '0'],
      ['left', '0'], ['width', '0'], ['height', '0'], ['display', 'block']]
      .forEach(function (p) { host.style.setProperty(p[0], p[1], 'important'); });
    const shadow = host.attachShadow({ mode: 'open' });
    shadow.appendChild(el('style', { text: STYLES }));
    shadow.appendChild(buildUI());
    document.body.appendChild(host);
    state.mounted = true;
    applyConfig();
    renderStatus();
    renderFooter();
    document.addEventListener('visibilitychange', markReadIfSeen);
    window.addEventListener('online', reconnectNow);
  }

  function buildUI() {
    ui.badgeSlot = el('span', { class: 'badge-slot' });
    ui.bubble = el('button', {
      class: 'bubble', type: 'button', 'data-testid': 'bubble',
      'aria-label': 'Open chat', 'aria-expanded': 'false', onclick: togglePanel,
    }, [icon('chat'), icon('down'), ui.badgeSlot]);

    ui.title = el('div', { class: 'title' });
    ui.status = el('div', { class: 'status', 'data-testid': 'status' });
    const header = el('div', { class: 'header' }, [
      el('div', { class: 'heading' }, [ui.title, ui.status]),
      el('button', { class: 'close', type: 'button', 'aria-label': 'Close chat', onclick: closePanel }, [icon('close')]),
    ]);

    ui.greeting = el('div', { class: 'system greeting', 'data-testid': 'greeting' });
    ui.messages = el('div', { class: 'messages', 'data-testid': 'messages', role: 'log', 'aria-live': 'polite' }, [ui.greeting]);
    ui.typingSlot = el('div', { class: 'typing-slot' });
    ui.prechatSlot = el('div', { class: 'prechat-slot' });
    ui.body = el('div', { class: 'body' }, [ui.messages, ui.typingSlot, ui.prechatSlot]);

    ui.errorSlot = el('div', { class: 'error-slot' });
    ui.offlineSlot = el('div', { class: 'offline-slot' });
    ui.input = el('textarea', {
      'data-testid': 'input', rows: '1', maxlength: String(MAX_TEXT),
      placeholder: 'Write a message\u2026', 'aria-label': 'Message',
      onkeydown: onInputKey, oninput: onInputChange,
    });
    ui.send = el('button', { class: 'send', type: 'button', 'data-testid': 'send', 'aria-label': 'Send', onclick: submitComposer }, [icon('send')]);
    ui.composer = el('div', { class: 'composer' }, [ui.input, ui.send]);
    const footer = el('div', { class: 'footer' }, [ui.errorSlot, ui.offlineSlot, ui.composer,
      el('div', { class: 'powered', text: 'Powered by Parley' })]);

    ui.panel = el('div', { class: 'panel', 'data-testid': 'panel', role: 'dialog', hidden: true }, [header, ui.body, footer]);
    ui.panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') closePanel(); });

    ui.root = el('div', { class: 'root' }, [ui.panel, ui.bubble]);
    return ui.root;
  }

  function applyConfig() {
    if (!state.mounted) return;
    const c = state.config;
    const color = safeColor(c.color);
    ui.root.style.setProperty('--accent', color);
    ui.root.style.setProperty('--on-accent', textColorOn(color));
    ui.root.classList.toggle('left', c.position === 'left');
    ui.title.textContent = c.title || DEFAULTS.title;
    ui.panel.setAttribute('aria-label', c.title || DEFAULTS.title);
    ui.greeting.textContent = c.greeting || '';
    ui.greeting.hidden = !c.greeting;
  }

  // The colour comes from the server; only accept something the browser parses as a colour.
  function safeColor(c) {
    return typeof c === 'string' && window.CSS && CSS.supports('color', c) ? c : DEFAULTS.color;
  }

  // White text on dark accents, near-black on light ones (hex colours only; else white).
  function textColorOn(color) {
    let m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
    if (!m) return '#ffffff';
    let hex = m[1].length === 3 ? m[1].replace(/./g, '$&$&') : m[1];
    const rgb = [0, 2, 4].map(function (i) {
      const v = parseInt(hex.slice(i, i + 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    const lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    return lum > 0.45 ? '#111827' : '#ffffff';
  }

  // ---------------------------------------------------------------------------
  // Opening and closing
  // ---------------------------------------------------------------------------

  function openPanel() {
    if (!state.mounted) { state.wantOpen = true; return; }
    state.open = true;
    ui.panel.hidden = false;
    ui.root.classList.add('open');
    ui.bubble.setAttribute('aria-expanded', 'true');
    ui.bubble.setAttribute('aria-label', 'Close chat');
    ensureSocket();
    renderFooter();
    scrollToBottom();
    markReadIfSeen();
    // On phones focusing pops the keyboard over the history; let the visitor tap instead.
    if (window.innerWidth > 480) focusFirstField();
  }

  function closePanel() {
    if (!state.mounted) { state.wantOpen = false; return; }
    state.open = false;
    ui.panel.hidden = true;
    ui.root.classList.remove('open');
    ui.bubble.setAttribute('aria-expanded', 'false');
    ui.bubble.setAttribute('aria-label', 'Open chat');
  }

  function togglePanel() {
    if (state.open) closePanel(); else openPanel();
  }

  function focusFirstField() {
    const field = ui.prechatSlot.querySelector('input') || ui.input;
    try { field.focus({ preventScroll: true }); } catch (e) { field.focus(); }
  }

  // ---------------------------------------------------------------------------
  // The WebSocket
  // ---------------------------------------------------------------------------

  function socketUrl() {
    const u = new URL('/widget/ws', ORIGIN);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('channel', KEY);
    if (state.token) u.searchParams.set('token', state.token);
    const after = highestId(function () { return true; });
    if (after > 0) u.searchParams.set('after', String(after));
    if (USER_ID && USER_HASH) {
      u.searchParams.set('user_id', USER_ID);
      u.searchParams.set('user_hash', USER_HASH);
    }
    return u.href;
  }

  function ensureSocket() {
    state.wantSocket = true;
    if (!state.ws && !state.retryTimer) connect();
  }

  function reconnectNow() {
    if (!state.wantSocket || state.ws) return;
    clearTimeout(state.retryTimer);
    state.retryTimer = 0;
    connect();
  }

  function connect() {
    state.retryTimer = 0;
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    state.badToken = false;
    renderStatus();
    ws.onmessage = function (ev) {
      if (ws !== state.ws) return; // a stale socket
      let frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (frame && typeof frame.type === 'string') handleFrame(frame);
    };
    ws.onclose = function () {
      if (ws !== state.ws) return;
      onSocketClosed();
    };
  }

  function onSocketClosed() {
    state.ws = null;
    state.ready = false;
    state.pending.forEach(function (p) { p.inFlight = false; }); // resend after reconnect
    setTyping(false);
    renderStatus();
    if (state.badToken && state.token) {
      // Our token was refused: start over as a new visitor, right away.
      saveToken('');
      resetChat();
      connect();
      return;
    }
    scheduleReconnect();
  }

  // 1 s, 2 s, 4 s ... 30 s, plus a little jitter so a server restart is not hit by every
  // widget in the same millisecond.
  function scheduleReconnect() {
    const delay = Math.min(1000 * Math.pow(2, state.retries), MAX_BACKOFF_MS);
    state.retries++;
    state.retryTimer = setTimeout(connect, delay + Math.random() * 300);
  }

  function send(frame) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
    state.ws.send(JSON.stringify(frame));
    return true;
  }

  // ---------------------------------------------------------------------------
  // Frames from the server
  // ---------------------------------------------------------------------------

  function handleFrame(f) {
    switch (f.type) {
      case 'hello': onHello(f); break;
      case 'message': onMessage(f.message); break;
      case 'ack': onAck(f); break;
      case 'typing': setTyping(true); break;
      case 'status': state.online = !!f.online; renderStatus(); renderFooter(); break;
      case 'error': onError(f); break;
      default: break; // newer server, older widget: ignore what we don't know
    }
  }

  function onHello(f) {
    state.ready = true;
    state.retries = 0;
    if (f.token) saveToken(f.token);
    state.visitor = f.visitor || {};
    // A form submitted while we were disconnected counts: its frame goes out below.
    state.prechatDone = !!f.prechat_done || !!state.queuedPrechat;
    if (f.config) {
      state.config = normalizeConfig(f.config);
      applyConfig();
    }
    if (typeof state.config.online === 'boolean') state.online = state.config.online;
    const atBottom = isNearBottom();
    (f.messages || []).forEach(function (m) { storeMessage(m); });
    // What the server already knows we read needs no read frame again.
    state.lastReadSent = Math.max(state.lastReadSent, highestId(function (m) { return isOperatorMessage(m) && m.read; }));
    messagesChanged(atBottom);
    renderStatus();
    renderFooter();
    flushPending();
  }

  function onMessage(m) {
    if (!m || m.id === undefined || m.id === null) return;
    const atBottom = isNearBottom();
    storeMessage(m);
    if (m.direction === 'out') setTyping(false);
    // The visitor's own message (from this tab or another) always scrolls into view.
    messagesChanged(atBottom || m.direction === 'in');
  }

  function onAck(f) {
    if (!f.message) return;
    const m = Object.assign({}, f.message);
    if (!m.client_id) m.client_id = f.client_id;
    onMessage(m);
  }

  function onError(f) {
    if (f.code === 'bad_token') { state.badToken = true; return; } // the server closes next
    if (f.code === 'prechat_required') {
      state.prechatDone = false;
      state.pending.forEach(function (p) { p.inFlight = false; }); // resent after the form
      renderFooter();
    }
    if (f.code === 'rate_limited' || f.code === 'too_large') markFailed(f.client_id);
    showError(ERROR_TEXT[f.code] || f.message || 'Something went wrong.');
  }

  // A refused message: the one named by client_id if the server says, else the newest one
  // in flight (frames are answered in order, so that is the best guess).
  function markFailed(clientId) {
    let target = clientId && state.pending.get(clientId);
    if (!target) {
      state.pending.forEach(function (p) { if (p.inFlight) target = p; });
    }
    if (!target) return;
    target.inFlight = false;
    target.failed = true;
    renderPendingRow(target);
  }

  // ---------------------------------------------------------------------------
  // Messages: merged by id, optimistic rows keyed by client_id
  // ---------------------------------------------------------------------------

  function storeMessage(m) {
    const id = Number(m.id);
    if (!isFinite(id)) return;
    let row = rows.get('id:' + id);
    const cid = m.client_id;
    if (cid && state.pending.has(cid)) {
      // Our optimistic row becomes the stored message (unless that already has a row).
      state.pending.delete(cid);
      const optimistic = rows.get('c:' + cid);
      rows.delete('c:' + cid);
      if (optimistic && !row) row = optimistic;
      else if (optimistic) optimistic.remove();
    }
    const known = state.messages.get(id);
    // A stale copy must not undo a read we already know about.
    if (known && known.read && !m.read) m = Object.assign({}, m, { read: true });
    state.messages.set(id, m);
    if (!row) row = el('div', { 'data-testid': 'message' });
    rows.set('id:' + id, row);
    fillRow(row, m, null);
    placeRow(row, id);
  }

  function highestId(pred) {
    let max = 0;
    state.messages.forEach(function (m, id) { if (id > max && pred(m)) max = id; });
    return max;
  }

  function isOperatorMessage(m) {
    return m.direction === 'out' && m.author_kind !== 'system';
  }

  function messagesChanged(scroll) {
    updateUnread();
    if (scroll) scrollToBottom();
  }

  function resetChat() {
    state.messages.clear();
    rows.forEach(function (row, key) { if (key.slice(0, 3) === 'id:') row.remove(); });
    Array.from(rows.keys()).forEach(function (k) { if (k.slice(0, 3) === 'id:') rows.delete(k); });
    state.lastReadSent = 0;
    state.visitor = {};
    state.prechatDone = false;
    updateUnread();
    renderFooter();
  }

  // Rows are ordered by message id; optimistic rows (no id yet) stay at the end.
  function placeRow(row, sortKey) {
    row.parleySort = sortKey;
    let before = null;
    const kids = ui.messages.children;
    for (let i = kids.length - 1; i >= 0; i--) {
      const k = kids[i];
      if (k === row) continue;
      if (k.parleySort === undefined) break; // the greeting: everything goes after it
      if (k.parleySort > sortKey) before = k; else break;
    }
    if (row.nextSibling !== before || row.parentNode !== ui.messages) ui.messages.insertBefore(row, before);
    refreshAuthor(row);
    if (row.nextElementSibling) refreshAuthor(row.nextElementSibling);
  }

  // Show the operator's name above the first of consecutive messages by the same author.
  function refreshAuthor(row) {
    const label = row.querySelector('.author');
    if (!label) return;
    const prev = row.previousElementSibling;
    label.hidden = !!(prev && prev.dataset.author === row.dataset.author && prev.dataset.direction === 'out');
  }

  // m: a WidgetMessage, or null for an optimistic row described by p (a pending entry).
  function fillRow(row, m, p) {
    const direction = m ? m.direction : 'in';
    const system = m && m.author_kind === 'system';
    const author = m && direction === 'out' ? (m.author_name || '') : '';
    row.className = 'row ' + (system ? 'system-row' : direction) + (p ? ' pending' : '') + (p && p.failed ? ' failed' : '');
    row.setAttribute('data-testid', 'message');
    row.setAttribute('data-direction', direction);
    row.dataset.author = author;
    if (m) row.setAttribute('data-message-id', String(m.id)); else row.removeAttribute('data-message-id');
    if (m && m.author_kind) row.dataset.authorKind = m.author_kind;

    while (row.firstChild) row.removeChild(row.firstChild);
    if (author && !system) row.appendChild(el('div', { class: 'author', text: author }));
    const text = el('div', { class: 'text', 'data-testid': 'message-text' });
    appendLinkified(text, m ? (m.text || '') : p.text);
    const bubble = el('div', { class: system ? 'system' : 'msg' }, [text]);
    if (m) appendAttachments(bubble, m.attachments);
    row.appendChild(bubble);
    if (m && Array.isArray(m.buttons) && m.buttons.length) row.appendChild(buildButtons(m.buttons));
    row.appendChild(buildMeta(m, p));
  }

  // A bot's buttons: pressing one sends its label, as typing it would.
  function buildButtons(buttons) {
    const box = el('div', { class: 'buttons', 'data-testid': 'buttons' });
    buttons.forEach(function (b) {
      if (!b || typeof b.label !== 'string') return;
      box.appendChild(el('button', {
        class: 'choice', type: 'button', 'data-testid': 'button', text: b.label,
        onclick: function () { sendText(b.label); },
      }));
    });
    return box;
  }

  function buildMeta(m, p) {
    const meta = el('div', { class: 'meta' });
    const when = formatTime(m ? m.created_at : p.created_at);
    if (when) meta.appendChild(el('span', { text: when }));
    if (p && p.failed) {
      meta.appendChild(el('button', {
        class: 'retry', type: 'button', text: 'Not sent \u00b7 Retry',
        onclick: function () { p.failed = false; renderPendingRow(p); ensureSocket(); flushPending(); },
      }));
    } else if (p) {
      meta.appendChild(el('span', { class: 'state', 'data-testid': 'message-state', text: 'Sending\u2026' }));
    } else if (m.direction === 'in') {
      meta.appendChild(el('span', { class: 'state', 'data-testid': 'message-state', text: m.read ? 'Seen' : 'Sent' }));
    }
    return meta;
  }

  // Text with http(s) links made clickable - built from text nodes and <a> elements.
  function appendLinkified(parent, text) {
    const re = /\bhttps?:\/\/[^\s<>"']+/g;
    let last = 0;
    let match;
    while ((match = re.exec(text))) {
      const url = match[0].replace(/[.,;:!?)\]]+$/, ''); // trailing punctuation is prose
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      parent.appendChild(el('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow', text: url }));
      last = match.index + url.length;
      re.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function appendAttachments(parent, list) {
    if (!Array.isArray(list)) return;
    list.forEach(function (a) {
      if (!a) return;
      const label = a.name || a.kind || 'attachment';
      const url = safeUrl(a.url);
      parent.appendChild(url
        ? el('a', { class: 'attachment', href: url, target: '_blank', rel: 'noopener noreferrer nofollow', text: '\ud83d\udcce ' + label })
        : el('div', { class: 'attachment', text: '\ud83d\udcce ' + label }));
    });
  }

  function safeUrl(u) {
    try {
      const url = new URL(u, ORIGIN);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : '';
    } catch (e) { return ''; }
  }

  function formatTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    if (d.toDateString() === new Date().toDateString()) return time;
    return d.toLocaleDateString([], { day: 'numeric', month: 'short' }) + ', ' + time;
  }

  // ---------------------------------------------------------------------------
  // Sending
  // ---------------------------------------------------------------------------

  function onInputKey(e) {
    // Enter sends, Shift+Enter is a newline; never send mid-IME-composition.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submitComposer();
    }
  }

  function onInputChange() {
    autosize();
    const now = Date.now();
    if (ui.input.value && state.ready && now - state.lastTypingSent >= TYPING_EVERY_MS) {
      if (send({ type: 'typing' })) state.lastTypingSent = now;
    }
  }

  function autosize() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + 'px';
  }

  function submitComposer() {
    const text = ui.input.value.trim();
    if (!text) return;
    if (text.length > MAX_TEXT) { showError(ERROR_TEXT.too_large); return; }
    ui.input.value = '';
    autosize();
    sendText(text);
  }

  function sendText(text) {
    const p = { client_id: newClientId(), text: text, created_at: new Date().toISOString(), inFlight: false, failed: false };
    state.pending.set(p.client_id, p);
    renderPendingRow(p);
    scrollToBottom();
    ensureSocket();
    flushPending();
    ui.input.focus();
  }

  function renderPendingRow(p) {
    let row = rows.get('c:' + p.client_id);
    if (!row) {
      row = el('div');
      row.parleySort = Infinity; // optimistic rows have no id yet: always last
      rows.set('c:' + p.client_id, row);
      ui.messages.appendChild(row);
    }
    fillRow(row, null, p);
  }

  // Send every pending message not yet on the wire. The same client_id is reused on a
  // resend, so the server can drop a duplicate whose ack was lost with the connection.
  function flushPending() {
    if (!state.ready) return;
    if (state.queuedPrechat && send(state.queuedPrechat)) state.queuedPrechat = null;
    if (state.lastReadWanted > state.lastReadSent) sendRead();
    if (needsPrechat()) return;
    state.pending.forEach(function (p) {
      if (p.inFlight || p.failed) return;
      if (send({ type: 'message', text: p.text, client_id: p.client_id })) p.inFlight = true;
    });
  }

  function newClientId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // randomUUID needs a secure context; this does not
    return Array.from(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  // ---------------------------------------------------------------------------
  // Unread badge and read receipts
  // ---------------------------------------------------------------------------

  function updateUnread() {
    const seenUpTo = Math.max(state.lastReadSent, state.lastReadWanted);
    let n = 0;
    state.messages.forEach(function (m, id) {
      if (isOperatorMessage(m) && !m.read && id > seenUpTo) n++;
    });
    state.unread = n;
    markReadIfSeen();
    renderBadge();
  }

  // The visitor has seen everything when the panel is open in a visible tab.
  function markReadIfSeen() {
    if (!state.open || document.visibilityState === 'hidden') return;
    const upTo = highestId(isOperatorMessage);
    if (upTo > Math.max(state.lastReadSent, state.lastReadWanted)) {
      state.lastReadWanted = upTo;
      sendRead();
    }
    state.unread = 0;
    renderBadge();
  }

  function sendRead() {
    if (state.ready && send({ type: 'read', up_to: state.lastReadWanted })) {
      state.lastReadSent = state.lastReadWanted;
    }
  }

  function renderBadge() {
    if (!state.mounted) return;
    const slot = ui.badgeSlot;
    while (slot.firstChild) slot.removeChild(slot.firstChild);
    if (state.unread > 0 && !state.open) {
      slot.appendChild(el('span', {
        class: 'badge', 'data-testid': 'unread-badge',
        text: state.unread > 99 ? '99+' : String(state.unread),
        'aria-label': state.unread + ' unread',
      }));
    }
  }

  // ---------------------------------------------------------------------------
  // Status line, typing, errors
  // ---------------------------------------------------------------------------

  function renderStatus() {
    if (!state.mounted) return;
    let text;
    let cls;
    if (!state.ready && (state.wantSocket || state.ws)) { text = 'Connecting\u2026'; cls = 'connecting'; }
    else if (state.online === false) { text = 'Away \u2014 we will reply soon'; cls = 'away'; }
    else if (state.online === true) { text = "We're online"; cls = 'online'; }
    else { text = ''; cls = ''; }
    ui.status.textContent = '';
    if (text) ui.status.appendChild(el('span', { class: 'dot ' + cls }));
    ui.status.appendChild(document.createTextNode(text));
  }

  function setTyping(on) {
    clearTimeout(state.typingTimer);
    if (!state.mounted) return;
    const slot = ui.typingSlot;
    if (!on) { while (slot.firstChild) slot.removeChild(slot.firstChild); return; }
    if (!slot.firstChild) {
      const atBottom = isNearBottom();
      slot.appendChild(el('div', { class: 'typing', 'data-testid': 'typing', 'aria-live': 'polite' }, [
        el('span', { class: 'dots', 'aria-hidden': 'true' }, [el('i'), el('i'), el('i')]),
        el('span', { text: 'typing\u2026' }),
      ]));
      if (atBottom) scrollToBottom();
    }
    state.typingTimer = setTimeout(function () { setTyping(false); }, TYPING_SHOW_MS);
  }

  function showError(text) {
    if (!state.mounted) return;
    clearTimeout(state.errorTimer);
    const slot = ui.errorSlot;
    while (slot.firstChild) slot.removeChild(slot.firstChild);
    slot.appendChild(el('div', { class: 'notice error', 'data-testid': 'error', role: 'alert', text: text }));
    state.errorTimer = setTimeout(function () {
      while (slot.firstChild) slot.removeChild(slot.firstChild);
    }, ERROR_SHOW_MS);
  }

  // ---------------------------------------------------------------------------
  // Pre-chat form and the offline notice
  // ---------------------------------------------------------------------------

  function activeFields() {
    return FIELDS.filter(function (f) { return state.config.prechat[f] && state.config.prechat[f] !== 'off'; });
  }

  function needsPrechat() {
    return state.prechatDone === false && activeFields().length > 0;
  }

  function renderFooter() {
    if (!state.mounted) return;
    const showForm = needsPrechat();
    const formShown = !!ui.prechatSlot.firstChild;
    if (showForm && !formShown) {
      ui.prechatSlot.appendChild(buildPrechatForm());
      if (state.open && window.innerWidth > 480) focusFirstField();
    } else if (!showForm && formShown) {
      ui.prechatSlot.removeChild(ui.prechatSlot.firstChild);
    }
    ui.composer.hidden = showForm;
    renderOffline(showForm);
  }

  function buildPrechatForm() {
    const form = el('form', { class: 'prechat', 'data-testid': 'prechat-form', novalidate: true, onsubmit: onPrechatSubmit });
    form.appendChild(el('p', { class: 'prechat-intro', text: 'Before we start, please tell us a little about you.' }));
    activeFields().forEach(function (f) {
      const required = state.config.prechat[f] === 'required';
      const input = el('input', {
        name: f, type: f === 'email' ? 'email' : f === 'phone' ? 'tel' : 'text',
        autocomplete: f === 'phone' ? 'tel' : f, required: required, maxlength: '200',
        value: state.visitor[f] || '',
      });
      form.appendChild(el('label', { class: 'field' }, [
        el('span', { class: 'label', text: LABELS[f] + (required ? '' : ' (optional)') }),
        input,
        el('span', { class: 'field-error', 'data-error-for': f }),
      ]));
    });
    form.appendChild(el('button', { type: 'submit', class: 'primary', 'data-testid': 'prechat-submit', text: 'Start chat' }));
    return form;
  }

  function onPrechatSubmit(e) {
    e.preventDefault();
    const form = e.currentTarget;
    const values = {};
    let firstBad = null;
    activeFields().forEach(function (f) {
      const input = form.querySelector('[name=' + f + ']');
      const value = input.value.trim();
      const problem = validateField(f, value, state.config.prechat[f] === 'required');
      form.querySelector('[data-error-for=' + f + ']').textContent = problem;
      input.setAttribute('aria-invalid', problem ? 'true' : 'false');
      if (problem && !firstBad) firstBad = input;
      values[f] = value || null;
    });
    if (firstBad) { firstBad.focus(); return; }
    sendPrechat(values);
    state.prechatDone = true;
    renderFooter();
    if (state.open) ui.input.focus();
    flushPending();
  }

  function validateField(f, value, required) {
    if (!value) return required ? 'Please fill this in.' : '';
    if (f === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) return 'Please enter a valid email address.';
    if (f === 'phone' && (value.replace(/\D/g, '').length < 5 || !/^[+()\d\s./-]+$/.test(value))) return 'Please enter a valid phone number.';
    return '';
  }

  // Fields not given keep what the server already knows (it may have them from earlier).
  function sendPrechat(values) {
    const frame = { type: 'prechat' };
    FIELDS.forEach(function (f) {
      frame[f] = values[f] !== undefined && values[f] !== null ? values[f] : (state.visitor[f] || null);
    });
    state.visitor = Object.assign({}, state.visitor, frame);
    delete state.visitor.type;
    if (!send(frame)) state.queuedPrechat = frame;
    ensureSocket();
  }

  function renderOffline(formShown) {
    const show = state.online === false;
    const askEmail = show && !formShown && !state.visitor.email && !state.savedEmail;
    const sig = show ? [state.config.offline_text, askEmail, state.savedEmail].join('|') : '';
    if (sig === ui.offlineSig) return; // unchanged: keep a half-typed email intact
    ui.offlineSig = sig;
    const slot = ui.offlineSlot;
    while (slot.firstChild) slot.removeChild(slot.firstChild);
    if (!show) return;
    const notice = el('div', { class: 'notice offline', 'data-testid': 'offline-notice' }, [
      el('p', { text: state.config.offline_text || OFFLINE_TEXT }),
    ]);
    if (askEmail) notice.appendChild(buildEmailAsk());
    else if (state.savedEmail) notice.appendChild(el('p', { class: 'small', text: "Thanks \u2014 we'll reply to " + state.savedEmail + '.' }));
    slot.appendChild(notice);
  }

  function buildEmailAsk() {
    const input = el('input', { type: 'email', name: 'email', 'data-testid': 'offline-email', placeholder: 'Your email, so we can reply', autocomplete: 'email', 'aria-label': 'Email' });
    const problem = el('span', { class: 'field-error' });
    return el('form', {
      class: 'email-ask', novalidate: true,
      onsubmit: function (e) {
        e.preventDefault();
        const value = input.value.trim();
        const bad = validateField('email', value, true);
        problem.textContent = bad;
        if (bad) { input.focus(); return; }
        state.savedEmail = value;
        sendPrechat({ email: value });
        renderFooter();
      },
    }, [el('div', { class: 'email-row' }, [input,
      el('button', { type: 'submit', class: 'primary', 'data-testid': 'offline-email-save', text: 'Save' })]), problem]);
  }

  // ---------------------------------------------------------------------------
  // Scrolling
  // ---------------------------------------------------------------------------

  function isNearBottom() {
    if (!state.mounted) return true;
    const b = ui.body;
    return b.scrollHeight - b.scrollTop - b.clientHeight < 80;
  }

  function scrollToBottom() {
    if (!state.mounted || !state.open) return;
    ui.body.scrollTop = ui.body.scrollHeight;
  }

  // ---------------------------------------------------------------------------
  // Styles (inside the shadow root, so they reach nothing on the host page)
  // ---------------------------------------------------------------------------

  const STYLES = [
    ':host{all:initial}',
    '*,*::before,*::after{box-sizing:border-box}',
    '[hidden]{display:none!important}',
    '.root{--accent:#2563eb;--on-accent:#fff;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2937;-webkit-font-smoothing:antialiased}',
    'button{font:inherit;color:inherit}',
    '.bubble{position:fixed;bottom:20px;right:20px;width:60px;height:60px;border-radius:50%;border:0;padding:0;cursor:pointer;background:var(--accent);color:var(--on-accent);box-shadow:0 6px 20px rgba(0,0,0,.22);display:flex;align-items:center;justify-content:center;transition:transform .15s ease}',
    '.left .bubble{right:auto;left:20px}',
    '.bubble:hover{transform:scale(1.06)}',
    '.bubble:focus-visible,.close:focus-visible,.send:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}',
    '.icon{width:28px;height:28px;display:block}',
    '.bubble .icon-down,.open .bubble .icon-chat{display:none}',
    '.open .bubble .icon-down{display:block}',
    '.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#dc2626;color:#fff;border:2px solid #fff;font-size:12px;font-weight:700;line-height:18px;text-align:center}',
    '.panel{position:fixed;bottom:92px;right:20px;width:370px;height:600px;max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;box-shadow:0 12px 48px rgba(0,0,0,.25);animation:parley-in .16s ease-out}',
    '.left .panel{right:auto;left:20px}',
    '@keyframes parley-in{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}',
    '.header{display:flex;align-items:center;gap:12px;padding:14px 12px 14px 18px;background:var(--accent);color:var(--on-accent)}',
    '.heading{min-width:0;flex:1}',
    '.title{font-size:16px;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}',
    '.status{font-size:12px;opacity:.9;display:flex;align-items:center;gap:6px;min-height:17px}',
    '.dot{width:8px;height:8px;border-radius:50%;background:#9ca3af}',
    '.dot.online{background:#22c55e}.dot.away{background:#f59e0b}',
    '.dot.connecting{background:#d1d5db;animation:parley-blink 1s infinite}',
    '@keyframes parley-blink{50%{opacity:.3}}',
    '.close{border:0;background:transparent;color:inherit;cursor:pointer;padding:6px;border-radius:8px;display:flex}',
    '.close:hover{background:rgba(255,255,255,.18)}',
    '.close .icon{width:20px;height:20px}',
    '.body{flex:1;overflow-y:auto;padding:16px 14px;background:#f6f7f9;overscroll-behavior:contain}',
    '.messages{display:flex;flex-direction:column;gap:4px}',
    '.system{align-self:center;max-width:92%;padding:8px 12px;border-radius:10px;background:#eceef2;color:#4b5563;font-size:13px;text-align:center;white-space:pre-wrap;overflow-wrap:anywhere}',
    '.greeting{margin-bottom:8px}',
    '.row{display:flex;flex-direction:column;max-width:82%}',
    '.row.in{align-self:flex-end;align-items:flex-end}',
    '.row.out{align-self:flex-start;align-items:flex-start}',
    '.row.system-row{align-self:center;align-items:center;max-width:100%}',
    '.author{font-size:12px;color:#6b7280;margin:8px 4px 2px}',
    '.msg{padding:8px 12px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere}',
    '.in .msg{background:var(--accent);color:var(--on-accent);border-bottom-right-radius:4px}',
    '.out .msg{background:#fff;border:1px solid #e5e7eb;border-bottom-left-radius:4px}',
    '.pending .msg{opacity:.65}',
    '.failed .msg{background:#fee2e2;color:#991b1b;opacity:1}',
    '.msg a{color:inherit;text-decoration:underline}',
    '.buttons{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}',
    '.choice{border:1px solid var(--accent);color:var(--accent);background:#fff;border-radius:14px;padding:5px 12px;font:inherit;cursor:pointer}',
    '.choice:hover{background:var(--accent);color:var(--on-accent)}',
    '.attachment{display:block;margin-top:4px;color:inherit}',
    '.meta{font-size:11px;color:#9ca3af;margin:2px 4px 4px;display:flex;gap:6px}',
    '.meta:empty{display:none}',
    '.state::before{content:"\\00b7";margin-right:6px}',
    '.meta span:first-child.state::before{content:none}',
    '.retry{border:0;background:none;padding:0;color:#b91c1c;cursor:pointer;text-decoration:underline;font-size:11px}',
    '.typing{display:flex;align-items:center;gap:8px;margin-top:8px;color:#6b7280;font-size:12px}',
    '.dots{display:inline-flex;gap:3px;padding:8px 10px;background:#fff;border:1px solid #e5e7eb;border-radius:14px}',
    '.dots i{width:6px;height:6px;border-radius:50%;background:#9ca3af;animation:parley-bounce 1.2s infinite}',
    '.dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}',
    '@keyframes parley-bounce{0%,60%,100%{transform:none}30%{transform:translateY(-4px)}}',
    '.prechat{margin-top:12px;padding:14px;background:#fff;border:1px solid #e5e7eb;border-radius:12px;display:flex;flex-direction:column;gap:10px}',
    '.prechat-intro{margin:0;color:#374151}',
    '.field{display:flex;flex-direction:column;gap:4px}',
    '.label{font-size:12px;font-weight:600;color:#4b5563}',
    'input{font:inherit;color:#111827;background:#fff;border:1px solid #d1d5db;border-radius:8px;padding:8px 10px;width:100%;outline:none}',
    'input:focus,textarea:focus{border-color:var(--accent);box-shadow:0 0 0 3px rgba(0,0,0,.08);box-shadow:0 0 0 3px color-mix(in srgb,var(--accent) 20%,transparent)}',
    'input[aria-invalid=true]{border-color:#dc2626}',
    '.field-error{font-size:12px;color:#b91c1c}.field-error:empty{display:none}',
    '.primary{border:0;border-radius:8px;padding:9px 14px;background:var(--accent);color:var(--on-accent);font-weight:600;cursor:pointer}',
    '.primary:hover{filter:brightness(1.08)}',
    '.footer{border-top:1px solid #e5e7eb;background:#fff}',
    '.notice{padding:10px 14px;font-size:13px;border-bottom:1px solid #e5e7eb}',
    '.notice p{margin:0}.notice p+*{margin-top:8px}',
    '.notice .small{font-size:12px}',
    '.offline{background:#fffbeb;color:#92400e}',
    '.error{background:#fef2f2;color:#991b1b}',
    '.email-row{display:flex;gap:6px}.email-row input{padding:6px 8px}.email-row .primary{padding:6px 12px}',
    '.composer{display:flex;align-items:flex-end;gap:8px;padding:10px 12px 6px}',
    'textarea{flex:1;min-height:40px;max-height:120px;resize:none;font:inherit;color:#111827;background:#fff;border:1px solid #d1d5db;border-radius:12px;padding:9px 12px;outline:none}',
    '.send{flex:none;width:40px;height:40px;border:0;border-radius:50%;background:var(--accent);color:var(--on-accent);cursor:pointer;display:flex;align-items:center;justify-content:center}',
    '.send .icon{width:20px;height:20px}',
    '.powered{padding:0 0 8px;text-align:center;font-size:11px;color:#9ca3af}',
    // Phones: the panel takes the whole screen; the header's close button replaces the bubble.
    '@media (max-width:480px){.panel{top:0;right:0;bottom:0;left:0;width:auto;height:auto;max-height:none;border-radius:0}',
    '.left .panel{left:0;right:0}.open .bubble{display:none}textarea,input{font-size:16px}}',
    '@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}',
  ].join('\n');
})();
