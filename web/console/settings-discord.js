// settings-discord.js — the Discord channel in Settings → Channels: the bot token, the
// guild channels the bot listens to besides DMs, and the REST/gateway addresses (for a
// rate-limiting proxy or a test server). Channel ids are snowflakes: they stay strings,
// since a JavaScript number would round them.

import { h } from './dom.js';
import { field, section, FormProblem } from './settings-form.js';

const DISCORD_API = 'https://discord.com';
const SNOWFLAKE = /^[0-9]{1,20}$/;

const input = (value, attrs = {}) => h('input', { type: 'text', value: value ?? '', autocomplete: 'off', spellcheck: 'false', ...attrs });

/** The kind form: {fields, nodes, read(isNew)} as settings-channels.js expects. */
export function discordForm(stored) {
  const token = input(stored.token, { class: 'mono', 'data-testid': 'discord-token', placeholder: 'MTIz….Gh1….' });
  const guild = h('textarea', { rows: '3', value: (stored.guild_channels || []).join('\n'), class: 'mono', 'data-testid': 'discord-guild-channels', placeholder: '1234567890123456789' });
  const apiUrl = h('input', { type: 'url', value: stored.api_url && stored.api_url !== DISCORD_API ? stored.api_url : '', autocomplete: 'off', spellcheck: 'false', placeholder: DISCORD_API, 'data-testid': 'discord-api-url' });
  const notify = h('input', { type: 'checkbox', checked: !!stored.notify_operators, 'data-testid': 'discord-notify' });
  return {
    fields: { token, guild_channels: guild, api_url: apiUrl, notify_operators: notify },
    nodes: [section('Discord bot',
      field('Bot token', token, 'Developer Portal → your application → Bot → Reset Token. Parley checks it with Discord when you save; once saved it is shown as ••••1234 (leave it to keep it).'),
      field('Guild channels', guild, 'Channel ids, one per line (Developer Mode → right-click the channel → Copy Channel ID). Each author there gets a chat of their own, answered in the channel. Empty: direct messages only. Needs the Message Content intent switched on in the Developer Portal.'),
      field('API address', apiUrl, 'Empty: Discord’s own. Set it for a rate-limiting proxy in front of Discord.'),
      h('label', { class: 'check-row' }, notify, 'This bot also sends operators their notifications'))],
    read(isNew) {
      const ids = guild.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
      const bad = ids.find((s) => !SNOWFLAKE.test(s));
      if (bad) throw new FormProblem(`“${bad}” is not a Discord channel id: copy it with Developer Mode on`);
      const out = { token: token.value.trim(), guild_channels: ids, notify_operators: notify.checked };
      if (apiUrl.value.trim() || !isNew) out.api_url = apiUrl.value.trim() || DISCORD_API;
      return out;
    },
  };
}

/** What the channels list shows after the kind. */
export function discordMeta(s) {
  const n = (s.guild_channels || []).length;
  return [s.bot_name ? ` · ${s.bot_name}` : '', n ? ` · ${n} guild channel${n > 1 ? 's' : ''}` : ' · DMs'];
}

export function discordCreatedText(c) {
  return `Discord accepted the token${c.settings?.bot_name ? `: ${c.settings.bot_name} is connected` : ''}.`;
}

export function discordInstall(c) {
  if (!c.settings?.bot_name) return null;
  const n = (c.settings.guild_channels || []).length;
  return section('Bot', h('p', { class: 'small' }, 'Customers write to ', h('strong', {}, c.settings.bot_name),
    n ? ` in direct messages and in ${n} guild channel${n > 1 ? 's' : ''}; replies go back where they wrote.`
      : ' in direct messages. Add guild channel ids to answer in a server’s channels too.'));
}
