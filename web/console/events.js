// events.js — the live event stream (GET /api/v1/events, a WebSocket).
// Remembers the id of the last stored event it saw and reconnects with ?after=ID, with
// growing back-off, so nothing is missed across network hiccups or server restarts.

import { api } from './api.js';

export class EventStream {
  /**
   * @param {(ev: object) => void} onEvent   every parsed frame, stored or ephemeral
   * @param {(state: 'connecting'|'live'|'offline') => void} onState
   */
  constructor(onEvent, onState) {
    this.onEvent = onEvent;
    this.onState = onState || (() => {});
    this.lastId = null;   // null until the first stored event: connect without `after`
    this.ws = null;
    this.failures = 0;
    this.timer = null;
    this.stopped = false;
    // Reconnect at once when the network or the tab comes back instead of waiting.
    window.addEventListener('online', () => this.kick());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.kick();
    });
  }

  /** `after`: the last event id already reflected in what the page loaded, if known. */
  start(after = null) { this.lastId = after; this.stopped = false; this.connect(); }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }

  kick() {
    if (this.stopped || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    clearTimeout(this.timer);
    this.connect();
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const after = this.lastId != null ? `?after=${encodeURIComponent(this.lastId)}` : '';
    return `${proto}//${location.host}/api/v1/events${after}`;
  }

  connect() {
    this.onState('connecting');
    let ws;
    try { ws = new WebSocket(this.url()); } catch { this.retry(); return; }
    this.ws = ws;
    this.fresh = true;
    ws.onopen = () => { this.failures = 0; this.onState('live'); };
    ws.onmessage = (msg) => {
      let ev;
      try { ev = JSON.parse(msg.data); } catch { return; }
      if (!ev || typeof ev !== 'object') return;
      if (ev.id != null) {
        const fresh = this.fresh;
        this.fresh = false;
        // With ?after=ID the server only sends ids above ID; a lower first id means the
        // server started a new sequence (fresh database): follow it instead of ignoring it.
        if (this.lastId != null && Number(ev.id) <= Number(this.lastId) && !fresh) return;
        this.lastId = ev.id;
      }
      try { this.onEvent(ev); } catch (e) { console.error('event handler failed', ev, e); }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!this.stopped) this.retry();
    };
    ws.onerror = () => { /* onclose follows and schedules the retry */ };
  }

  retry() {
    this.onState('offline');
    this.failures += 1;
    // 0.5 s, 1 s, 2 s … capped at 15 s, with jitter so a restarted server isn't stampeded.
    const base = Math.min(15000, 500 * 2 ** Math.min(this.failures - 1, 5));
    const delay = base / 2 + Math.random() * base / 2;
    // A handshake refused because the session expired looks like any failure to a
    // WebSocket; asking /me lets api.js send us to the login page in that case.
    if (this.failures % 3 === 0) api.get('/me').catch(() => {});
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
