// formatted.js — a message's text with its entities (bold, italic, code, links, ...) as DOM
// nodes. Entities come from the platform (Telegram's message entities); their offsets count
// UTF-16 code units, which is what JavaScript strings index by. Every piece of the text
// stays a text node; only http(s) addresses become links.

import { h, linkify, safeUrl } from './dom.js';

const TAGS = {
  bold: 'strong', italic: 'em', underline: 'u', strikethrough: 's', code: 'code', pre: 'pre',
  spoiler: 'span', blockquote: 'blockquote', expandable_blockquote: 'blockquote',
};

/** The text as nodes, each piece wrapped in the entities that cover it. */
export function formatted(text, entities) {
  text = String(text || '');
  const usable = (entities || []).filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length)
    && e.length > 0 && e.offset >= 0 && e.offset + e.length <= text.length);
  if (!usable.length) return linkify(text);
  const cuts = new Set([0, text.length]);
  for (const e of usable) { cuts.add(e.offset); cuts.add(e.offset + e.length); }
  const points = [...cuts].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [from, to] = [points[i], points[i + 1]];
    // Outermost first, so a link inside bold becomes <strong><a>…</a></strong>.
    const covering = usable.filter((e) => e.offset <= from && e.offset + e.length >= to)
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    const piece = text.slice(from, to);
    let nodes = covering.some((e) => href(e, text)) ? [piece] : linkify(piece);
    for (const e of covering.reverse()) nodes = wrap(e, nodes, text);
    out.push(...nodes);
  }
  return out;
}

/** Where a link entity points: its own URL (`text_link`) or its text (`url`). */
function href(e, text) {
  const url = e.kind === 'text_link' ? e.url : e.kind === 'url' ? text.slice(e.offset, e.offset + e.length) : null;
  if (!url) return null;
  return safeUrl(/^https?:\/\//i.test(url) ? url : `https://${url}`);
}

function wrap(e, nodes, text) {
  const link = href(e, text);
  if (link) return [h('a', { href: link, target: '_blank', rel: 'noopener noreferrer nofollow', title: link }, nodes)];
  const tag = TAGS[e.kind];
  if (!tag) return nodes;
  return [h(tag, { class: `entity-${e.kind}`, 'data-language': e.kind === 'pre' ? e.language : null }, nodes)];
}
