// charts.js — the reports' charts as inline SVG, built node by node (no chart library,
// no markup parsing): horizontal bars, and time in status as stacked bars per operator
// and day. Every shape has a <title>, so hovering (or a screen reader) gives the numbers.

const NS = 'http://www.w3.org/2000/svg';

/** svg('rect', {x: 1}, child, 'text') — an SVG element; strings become text nodes. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null && v !== false) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** 42 → "42 s", 105 → "1 min 45 s", 10800 → "3 h", null → "—". */
export function fmtDuration(s) {
  if (s == null) return '—';
  if (s < 60) return `${Math.round(s * 10) / 10} s`;
  const t = Math.round(s);
  if (t < 3600) return t % 60 ? `${Math.floor(t / 60)} min ${t % 60} s` : `${t / 60} min`;
  const m = Math.floor((t % 3600) / 60);
  return m ? `${Math.floor(t / 3600)} h ${m} min` : `${Math.floor(t / 3600)} h`;
}

/** Horizontal bars. items: [{label, value, text}]; an empty value draws no bar but keeps its row. */
export function barChart({ items, title, testid, width = 640 }) {
  const rowH = 28; const labelW = 150; const room = width - labelW - 150;
  const max = Math.max(1e-9, ...items.map((i) => i.value || 0));
  const height = Math.max(1, items.length) * rowH + 8;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, class: 'chart', role: 'img', 'aria-label': title,
    'data-testid': testid, preserveAspectRatio: 'xMinYMin meet',
  }, svg('title', {}, title));
  items.forEach((it, i) => {
    const y = 4 + i * rowH;
    const w = it.value > 0 ? Math.max(2, (it.value / max) * room) : 0;
    root.append(
      svg('text', { x: labelW - 8, y: y + 18, 'text-anchor': 'end', class: 'chart-label' }, clip(it.label, 20)),
      svg('rect', { x: labelW, y: y + 5, width: w.toFixed(1), height: rowH - 10, rx: 3, class: 'bar' },
        svg('title', {}, `${it.label}: ${it.text}`)),
      svg('text', { x: labelW + w + 6, y: y + 18, class: 'chart-value' }, it.text));
  });
  return root;
}

const SEGMENTS = [['online', 'Online'], ['away', 'Away'], ['offline', 'Offline']];

/**
 * Time in status: one row per operator, one column per day; each column stacks Online
 * (bottom), Away and Offline, its height the share of the day that was measured.
 */
export function statusChart({ report, testid }) {
  const days = report.days; const ops = report.operators;
  const labelW = 130; const barH = 54; const rowH = barH + 18; const top = 30;
  const colW = Math.max(6, Math.min(34, Math.floor(760 / Math.max(1, days.length))));
  const width = Math.max(440, labelW + days.length * colW + 10);
  const height = top + ops.length * rowH + 24;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, class: 'chart chart-status', role: 'img', 'data-testid': testid,
    'aria-label': 'Time in status per operator and day', preserveAspectRatio: 'xMinYMin meet',
  }, svg('title', {}, 'Time in status per operator and day'));
  SEGMENTS.forEach(([key, label], i) => {
    const x = labelW + i * 90;
    root.append(svg('rect', { x, y: 6, width: 12, height: 12, rx: 2, class: `legend seg-${key}` }),
      svg('text', { x: x + 17, y: 16, class: 'chart-label' }, label));
  });
  const every = Math.ceil(days.length / Math.max(1, Math.floor((days.length * colW) / 48)));
  ops.forEach((op, r) => {
    const base = top + r * rowH + barH;
    root.append(svg('text', { x: labelW - 8, y: base - barH / 2 + 4, 'text-anchor': 'end', class: 'chart-label' }, clip(op.operator.name, 18)));
    root.append(svg('line', { x1: labelW, x2: labelW + days.length * colW, y1: base + 0.5, y2: base + 0.5, class: 'chart-axis-line' }));
    op.days.forEach((d, c) => {
      const x = labelW + c * colW + 1;
      let y = base;
      const tip = `${op.operator.name}, ${d.day}: ` + SEGMENTS.map(([k, l]) => `${l} ${fmtDuration(d[`${k}_seconds`])}`).join(', ');
      for (const [key] of SEGMENTS) {
        const h = (d[`${key}_seconds`] / 86400) * barH;
        if (h <= 0) continue;
        y -= h;
        root.append(svg('rect', { x, y: y.toFixed(2), width: colW - 2, height: h.toFixed(2), class: `seg seg-${key}` }, svg('title', {}, tip)));
      }
    });
  });
  days.forEach((day, c) => {
    if (c % every) return;
    root.append(svg('text', { x: labelW + c * colW + colW / 2, y: height - 6, 'text-anchor': 'middle', class: 'chart-axis' }, day.slice(5)));
  });
  return root;
}

function clip(text, n) {
  const s = String(text ?? '');
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
