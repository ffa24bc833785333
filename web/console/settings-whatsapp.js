// settings-whatsapp.js — Settings → Channels for a WhatsApp (Cloud API) channel: its form
// (phone number id, business account id, access token, app secret, verify token), what to
// paste into Meta's webhook set-up, and the row's note (the number, or why it is broken).

import { h } from './dom.js';
import { field, section, codeBox, randomSecret } from './settings-form.js';

export const WHATSAPP_API = 'https://graph.facebook.com/v23.0';

const input = (value, attrs = {}) =>
  h('input', { type: 'text', value: value ?? '', autocomplete: 'off', spellcheck: 'false', ...attrs });

/** {nodes, fields, read(isNew)} as the other kinds' forms in settings-channels.js. */
export function whatsappForm(stored, channel) {
  const phone = input(stored.phone_number_id, { 'data-testid': 'whatsapp-phone-number-id', inputmode: 'numeric', placeholder: '1122334455667' });
  const waba = input(stored.business_account_id, { 'data-testid': 'whatsapp-business-account-id', inputmode: 'numeric' });
  const token = input(stored.access_token, { class: 'mono', 'data-testid': 'whatsapp-access-token', placeholder: 'EAAG…' });
  const secret = input(stored.app_secret, { class: 'mono', 'data-testid': 'whatsapp-app-secret' });
  const verify = input(channel ? stored.verify_token : randomSecret(), { class: 'mono', 'data-testid': 'whatsapp-verify-token' });
  const apiUrl = h('input', { type: 'url', value: stored.api_url && stored.api_url !== WHATSAPP_API ? stored.api_url : '', autocomplete: 'off', spellcheck: 'false', placeholder: WHATSAPP_API, 'data-testid': 'whatsapp-api-url' });
  const kept = channel ? ' Shown as ••••1234 once saved; leave it to keep it.' : '';
  return {
    fields: {
      phone_number_id: phone, 'phone number': phone, business_account_id: waba, 'business account': waba,
      access_token: token, 'access token': token, app_secret: secret, verify_token: verify, api_url: apiUrl,
    },
    nodes: [section('WhatsApp Cloud API',
      field('Phone number id', phone, 'WhatsApp Manager → API Setup: the id of the business number (not the number itself).'),
      field('Business account id', waba, 'The WhatsApp Business Account: where the approved message templates are listed.'),
      field('Access token', token, `A system user's permanent token with whatsapp_business_messaging. Parley checks it when you save.${kept}`),
      field('App secret', secret, `Meta app → Settings → Basic: it signs every webhook (X-Hub-Signature-256).${kept}`),
      field('Verify token', verify, `Any string; paste the same into Meta's webhook set-up.${kept}`),
      field('Graph API address', apiUrl, 'Empty: Meta’s, with the version Parley is tested against.'))],
    read(isNew) {
      const out = {
        phone_number_id: phone.value.trim(), business_account_id: waba.value.trim(), access_token: token.value.trim(),
        app_secret: secret.value.trim(), verify_token: verify.value.trim(),
      };
      if (apiUrl.value.trim() || !isNew) out.api_url = apiUrl.value.trim() || WHATSAPP_API;
      return out;
    },
  };
}

/** What to paste into Meta's App Dashboard → WhatsApp → Configuration. */
export function whatsappInstall(c) {
  return section('Webhook in Meta’s App Dashboard',
    h('p', { class: 'small' }, 'WhatsApp → Configuration → Webhook: paste this callback URL and your verify token, then subscribe to the ', h('code', {}, 'messages'), ' field.'),
    codeBox(`${location.origin}/hooks/${c.id}`, { testid: 'whatsapp-callback', name: 'Callback URL' }).el);
}

export const whatsappCreated = (c) =>
  `WhatsApp accepted the token${c.settings?.display_phone_number ? `: ${c.settings.verified_name || ''} +${c.settings.display_phone_number} is connected` : ''}. Now set up the webhook below.`;

/** The row's extra: the number. */
export const whatsappMeta = (s) => (s.display_phone_number ? ` · +${s.display_phone_number}` : '');
