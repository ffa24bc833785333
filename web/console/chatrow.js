// chatrow.js — one row of the chat list: avatar, contact name, time, channel icon, last
// message preview, unread badge and assignee. Built fresh for a changed chat; the list
// (chatlist.js) decides where the row goes.

import { h, avatar, channelIcon, relTime, statusDot } from './dom.js';

/** The row element for `chat`; `me` is the logged-in operator. */
export function renderRow(chat, me, selected) {
  const last = chat.last_message;
  const channel = last?.channel || chat.active_channel;
  const unread = chat.unread_count > 0;
  const at = chat.last_message_at || chat.updated_at;
  return h('a', {
    class: `chat-row${unread ? ' is-unread' : ''}${selected ? ' selected' : ''}`,
    href: `#chat=${chat.id}`, 'data-testid': 'chat-row', 'data-chat-id': chat.id,
    'aria-current': selected ? 'true' : null,
  },
  avatar(chat.contact?.id ?? chat.id, chat.contact?.name),
  h('span', { class: 'row-main' },
    h('span', { class: 'row-line' },
      h('span', { class: 'row-name' }, chat.contact?.name || `Chat #${chat.id}`),
      h('time', { class: 'row-time', datetime: at }, relTime(at))),
    h('span', { class: 'row-line' },
      channel && channelIcon(channel, 14),
      h('span', { class: 'row-preview' }, preview(last, me)),
      unread && h('span', { class: 'unread-badge', 'aria-label': `${chat.unread_count} unread` },
        chat.unread_count > 99 ? '99+' : String(chat.unread_count))),
    h('span', { class: 'row-assignee' },
      chat.assignee
        ? [statusDot(chat.assignee.status), chat.assignee.id === me.id ? 'You' : chat.assignee.name]
        : (chat.handler === 'bot' ? 'Bot is handling' : 'Unassigned'))));
}

/** One line of the last message, prefixed with who wrote it when it wasn't the contact. */
export function preview(m, me) {
  if (!m) return 'No messages yet';
  let text = (m.text || '').replace(/\s+/g, ' ').trim();
  if (!text && m.attachments?.length) text = `Attachment: ${m.attachments[0].name || m.attachments[0].kind}`;
  text = text.slice(0, 140); // the row shows one line; no need to lay out a whole essay
  if (m.kind === 'note') return `Note: ${text}`;
  if (m.author_kind === 'operator') return `${m.author?.id === me.id ? 'You' : m.author?.name || 'Operator'}: ${text}`;
  if (m.author_kind === 'bot') return `Bot: ${text}`;
  if (m.author_kind === 'broadcast') return `Broadcast: ${text}`;
  return text;
}
