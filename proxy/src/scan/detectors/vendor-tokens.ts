import { isDocumentedExample } from './documented.js';
import { isLiteralPassword } from './password-literal.js';
import { isPlaceholder, isReference, looksMadeUp } from './placeholders.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector, Span } from './types.js';
import { shannonEntropy } from './validators.js';

/**
 * Provider tokens in the formats their vendors document, for providers the gitleaks set lacks or
 * knows only beside the provider's name: a prefix or a structure that no other text has makes the
 * token recognisable on its own. Each must also be random enough and not made up (`xxxx`, `a1b2c3`).
 */

/** The token is group 1 if there is one, else the whole match. */
function tokenSpan(m: RegExpExecArray): { value: string; span: Span } {
  const value = m[1] ?? m[0];
  const start = m.index + m[0].lastIndexOf(value);
  return { value, span: { start, end: start + value.length } };
}

const token = (minEntropy: number) => (m: RegExpExecArray) => {
  const { value, span } = tokenSpan(m);
  return shannonEntropy(value) > minEntropy && !looksMadeUp(value) && !isDocumentedExample(value) ? span : null;
};

/** Mixed case and a digit, as a random base62 string has and words, hex digests and numbers do not. */
const mixed = (minEntropy: number) => (m: RegExpExecArray) => {
  const { value } = tokenSpan(m);
  return /[a-z]/.test(value) && /[A-Z]/.test(value) && /\d/.test(value) ? token(minEntropy)(m) : null;
};

function basicCredentialPassword(b64: string): string | null {
  let decoded: string;
  try {
    decoded = Buffer.from(b64, 'base64').toString('utf8');
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  if (colon < 1 || /[\x00-\x1f\ufffd]/.test(decoded)) return null;
  return decoded.slice(colon + 1);
}

const END = String.raw`(?![\w-])`;

export function vendorTokenDetectors(): Detector[] {
  const rule = (id: string, keywords: string[], re: RegExp, check: (m: RegExpExecArray) => Span | null) =>
    new RegexDetector(id, 'secret', 'secrets', keywords, re, check);
  return [
    // GitHub App installation and user-to-server tokens that carry a JWT: `ghs_<app id>_eyJ….eyJ….sig`.
    rule('github-app-token-jwt', ['ghs_', 'ghu_'], /\bgh[su]_\d{1,20}_eyJ[\w-]{10,2000}\.eyJ[\w-]{10,4000}\.[\w-]{16,1000}/g, token(4)),
    // crates.io API tokens: `cio` and 32 alphanumerics.
    rule('cratesio-api-token', ['cio'], new RegExp(String.raw`\bcio[A-Za-z0-9]{32}${END}`, 'g'), mixed(4)),
    // Dependency-Track API keys: `odt_` and 32 alphanumerics (v4.10 and later).
    rule('dependency-track-api-key', ['odt_'], new RegExp(String.raw`\bodt_[A-Za-z0-9]{32}${END}`, 'g'), token(3.8)),
    // Doppler tokens other than personal ones (gitleaks has `dp.pt.`): CLI, service (with its environment), service account, SCIM, audit.
    rule('doppler-token', ['dp.ct.', 'dp.st.', 'dp.sa.', 'dp.scim.', 'dp.audit.'], new RegExp(String.raw`\bdp\.(?:ct|st(?:\.[\w-]{1,64})?|sa|scim|audit)\.[A-Za-z0-9]{40,44}${END}`, 'g'), token(4)),
    // Salesforce session and access tokens: the 15-character org id (`00D…`), `!`, and the session part.
    rule('salesforce-access-token', ['00d'], /\b00D[A-Za-z0-9]{12}![A-Za-z0-9._]{80,200}/g, token(4)),
    // Tavily API keys: `tvly-` (or `tvly-dev-`) and 32 alphanumerics.
    rule('tavily-api-key', ['tvly-'], new RegExp(String.raw`\btvly-(?:dev-|prod-)?[A-Za-z0-9]{32}${END}`, 'g'), token(4)),
    // Twitch stream keys: `live_`, the channel id, `_`, 30 alphanumerics.
    rule('twitch-stream-key', ['live_'], new RegExp(String.raw`\blive_\d{6,12}_[A-Za-z0-9]{30}${END}`, 'g'), token(4)),
    // NuGet API keys: `oy2` and 43 lower-case alphanumerics.
    rule('nuget-api-key', ['oy2'], new RegExp(String.raw`\boy2[a-z0-9]{43}${END}`, 'g'), token(4)),
    // New Relic license (ingest) keys: 40 characters ending `NRAL`, often a region prefix (`eu01xx`).
    rule('new-relic-license-key', ['nral'], /\b[a-z0-9]{36}NRAL\b/g, token(3.5)),
    // Notion's integration tokens before `ntn_` (gitleaks has the new form): `secret_` and 43 alphanumerics.
    rule('notion-legacy-token', ['secret_'], new RegExp(String.raw`\bsecret_[A-Za-z0-9]{43}${END}`, 'g'), mixed(4.5)),
    // TestPyPI upload tokens: a macaroon whose location is test.pypi.org (gitleaks has pypi.org's).
    rule('testpypi-upload-token', ['pypi-agendgvzdc5wexbplm9yzw'], /\bpypi-AgENdGVzdC5weXBpLm9yZw[\w-]{50,1000}/g, token(3)),
    // Square OAuth application secrets.
    rule('square-oauth-secret', ['sq0csp-'], new RegExp(String.raw`\bsq0csp-[\w-]{43}${END}`, 'g'), token(4)),
    // Mailgun private API keys (`key-` and 32 hex) and Mailchimp API keys (32 hex, `-us` and the datacentre), without their names beside them.
    rule('mailgun-api-key-bare', ['key-'], new RegExp(String.raw`(?<![\w-])key-[0-9a-f]{32}${END}`, 'g'), token(3.2)),
    rule('mailchimp-api-key-bare', ['-us'], /\b[0-9a-f]{32}-us\d{1,2}\b/g, token(3.2)),
    // Okta API tokens (`00` and 40 characters) in a text that names Okta, not necessarily beside the token.
    rule('okta-api-token-nearby', ['okta'], new RegExp(String.raw`(?<![\w-])00[A-Za-z0-9_-]{40}${END}`, 'g'), mixed(4)),
    // TrueNAS API keys: the key id, `-`, 64 alphanumerics; passed to `auth.login_with_api_key` or as a bearer token.
    rule('truenas-api-key', ['api_key', 'apikey', 'truenas'], new RegExp(String.raw`(?<![\w-])\d{1,6}-[A-Za-z0-9]{64}${END}`, 'g'), mixed(4.5)),
    // ThingsBoard device access tokens, in the device API's path.
    rule('thingsboard-access-token', ['/api/v1/'], /\/api\/v1\/([A-Za-z0-9]{20})\/(?:telemetry|attributes|rpc|claim)\b/g, (m) => (/\d/.test(m[1]!) && /[a-z]/i.test(m[1]!) ? token(3.5)(m) : null)),
    // Microsoft Teams incoming webhooks on the legacy host (gitleaks has webhook.office.com).
    rule(
      'microsoft-teams-webhook-legacy',
      ['outlook.office'],
      /https:\/\/outlook\.office(?:365)?\.com\/webhook(?:b2)?\/[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}@[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}\/\w{1,40}\/[0-9a-f]{32}\/[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}/gi,
      token(3),
    ),
    // Slack's older user, bot and workspace tokens: numeric team, user and token ids, then a hex secret (gitleaks wants today's lengths).
    rule('slack-legacy-token', ['xoxp-', 'xoxb-', 'xoxa-', 'xoxo-', 'xoxr-', 'xoxs-'], new RegExp(String.raw`\bxox[abposr]-\d{6,14}-\d{6,14}(?:-\d{6,14})?-[0-9a-f]{16,64}${END}`, 'g'), token(3.2)),
    // Slack tokens in any other shape of dashed parts (workspace tokens whose secret is base36, app-level ones): the
    // prefix says what they are, the length and randomness that they are not a placeholder (`xoxb-your-bot-token`).
    rule('slack-token-any-shape', ['xoxp-', 'xoxb-', 'xoxa-', 'xoxo-', 'xoxr-', 'xoxs-', 'xoxe-'], new RegExp(String.raw`\bxox[abeposr]-[A-Za-z0-9]{1,20}(?:-[A-Za-z0-9]{4,64}){1,4}${END}`, 'g'), (m) =>
      m[0].length >= 40 && /\d/.test(m[0]) ? token(3.5)(m) : null,
    ),
    // GitHub fine-grained personal access tokens in any length (gitleaks wants exactly 82 characters after the prefix).
    rule('github-fine-grained-pat-any-length', ['github_pat_'], new RegExp(String.raw`\bgithub_pat_[A-Za-z0-9_]{30,120}${END}`, 'g'), mixed(4)),
    // Square production access tokens: `EAAA` and 60 base64url characters.
    rule('square-access-token', ['eaaa'], /\bEAAA[A-Za-z0-9_+=-]{56,64}(?![\w+=-])/g, mixed(4)),
    // Signed URLs: Azure SAS, Logic Apps and Power Automate triggers carry their HMAC as `sig=`; the URL alone grants the access.
    rule('signed-url-signature', ['sig='], /[?&]sig=([A-Za-z0-9%_+\/=-]{40,140})(?![\w%+\/=-])/g, (m) => {
      const url = m.input.slice(Math.max(0, m.index - 1500), m.index);
      const from = Math.max(url.lastIndexOf(' '), url.lastIndexOf('\n'), url.lastIndexOf('"'), url.lastIndexOf("'"));
      if (!/[?&](?:sv|sp|se|sr|skoid|api-version)=/.test(url.slice(from + 1))) return null;
      const { value, span } = tokenSpan(m);
      const decoded = value.replace(/%[0-9A-Fa-f]{2}/g, 'x');
      return shannonEntropy(decoded) > 4 && /\d/.test(decoded) && !looksMadeUp(value) && !isDocumentedExample(value) ? span : null;
    }),
    // Webhook URLs whose path is the credential: Discord (`/api/webhooks/<id>/<token>`), Tines (`/webhook/<path>/<secret>`).
    rule('discord-webhook-url', ['discord.com/api/', 'discordapp.com/api/'], /(?:https?:\/\/)?(?:(?:ptb|canary|www)\.)?discord(?:app)?\.com\/api\/(?:v\d{1,2}\/)?webhooks\/\d{17,20}\/([\w-]{60,80})(?![\w-])/gi, mixed(4)),
    rule('tines-webhook', ['tines.com/webhook/'], /https:\/\/[\w-]{1,63}\.tines\.com\/webhook\/[a-z0-9]{32}\/[a-z0-9]{32}(?![\w-])/gi, token(3.5)),
    // AI and developer platforms' prefixed keys, as their docs print them.
    rule('stripe-webhook-secret', ['whsec_'], new RegExp(String.raw`\bwhsec_[A-Za-z0-9+/=]{32,88}${END}`, 'g'), token(4)),
    rule('tailscale-key', ['tskey-'], new RegExp(String.raw`\btskey-(?:api|auth|client|scim|webhook)-[A-Za-z0-9]{6,20}-[A-Za-z0-9]{20,64}${END}`, 'g'), token(3.5)),
    rule('openrouter-api-key', ['sk-or-v1-'], new RegExp(String.raw`\bsk-or-v1-[0-9a-f]{64}${END}`, 'g'), token(3.5)),
    rule('groq-api-key', ['gsk_'], new RegExp(String.raw`\bgsk_[A-Za-z0-9]{52}${END}`, 'g'), token(4)),
    rule('xai-api-key', ['xai-'], new RegExp(String.raw`\bxai-(?:token-)?[A-Za-z0-9]{80}${END}`, 'g'), token(4)),
    // Deno Deploy personal and organisation tokens (`ddp_`, `ddo_` and 36 alphanumerics).
    rule('deno-deploy-token', ['ddp_', 'ddo_'], new RegExp(String.raw`\bdd[po]_[A-Za-z0-9]{36}${END}`, 'g'), mixed(4)),
    // Packagist API and update tokens (`packagist_ack_`, `packagist_uut_`, … and hex).
    rule('packagist-token', ['packagist_'], /\bpackagist_[a-z]{3}_([a-f0-9]{24,128})(?![a-f0-9])/g, token(3)),
    // A PyPI-style upload token on any index: `pypi-` and a macaroon (version 2 serialisation: base64 `AgE…`). gitleaks and
    // the rule above know pypi.org's and test.pypi.org's by their location; a private index's has another.
    rule('pypi-macaroon-token', ['pypi-age'], /\bpypi-AgE[A-Za-z0-9_-]{70,1000}(?![\w-])/g, token(4)),
    // Elastic Cloud serverless API keys: `essu_` and the base64 of the key's id and secret.
    rule('elastic-serverless-api-key', ['essu_'], /\bessu_[A-Za-z0-9+/]{40,400}={0,2}[A-Za-z0-9+/]{0,12}={0,2}(?![\w+/=])/g, token(4)),
    // An Azure storage account key (64 bytes: 86 base64 characters and `==`) under its name: `AccountKey=`, `account_key:`,
    // `storage_key =`, the CLI's `--account-key`, PowerShell's `-StorageAccountKey`.
    rule('azure-storage-account-key', ['accountkey', 'account_key', 'account-key', 'storage_key', 'storagekey', 'storage-key'], /(?:(?:account|storage)[_-]?key["']?[ \t]*[:=][ \t]*|(?:--account-key|-StorageAccountKey)[ \t=]+)["']?([A-Za-z0-9+/]{86}==)/gi, mixed(4.5)),
    rule('replicate-api-token', ['r8_'], new RegExp(String.raw`\br8_[A-Za-z0-9]{37}${END}`, 'g'), mixed(4)),
    rule('supabase-secret', ['sbp_', 'sb_secret_'], new RegExp(String.raw`\b(?:sbp_[0-9a-f]{40}|sb_secret_[A-Za-z0-9_-]{31,64})${END}`, 'g'), token(3.5)),
    rule('langsmith-api-key', ['lsv2_'], new RegExp(String.raw`\blsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}${END}`, 'g'), token(3.5)),
    rule('circleci-token', ['ccipat_', 'cciprj_'], new RegExp(String.raw`\bCCI(?:PAT|PRJ)_[A-Za-z0-9]{20,26}_[0-9a-z]{40}${END}`, 'g'), token(4)),
    // Dropbox short-lived access tokens (`sl.` and 130-odd characters) and Teamwork API tokens (`tkn.v1_`).
    rule('dropbox-short-lived-token', ['sl.'], new RegExp(String.raw`(?<![\w.])sl\.[A-Za-z0-9_-]{130,160}${END}`, 'g'), mixed(4.5)),
    rule('teamwork-api-token', ['tkn.v1_'], /\btkn\.v1_[A-Za-z0-9+\/_-]{40,100}={0,2}(?![\w+\/=-])/g, mixed(4.5)),
    // SonarQube user, global and project analysis tokens (`squ_`, `sqa_`, `sqp_` and 40 hex) and SonarQube Cloud's scoped organisation tokens.
    rule('sonarqube-token', ['squ_', 'sqa_', 'sqp_', 'sqco_'], new RegExp(String.raw`\b(?:sq[uap]_[0-9a-f]{40}|sqco_[A-Za-z0-9]{40,80})${END}`, 'g'), token(3.5)),
    // Django's generated SECRET_KEY as `startproject` writes it (`django-insecure-` and 50 characters): meant for development, used in production.
    rule('django-insecure-secret-key', ['django-insecure-'], /\bdjango-insecure-([^\s'"\x60]{40,64})(?=["'\x60\s]|$)/g, (m) => (/\d/.test(m[1]!) ? token(4)(m) : null)),
    // Docker Swarm join tokens: who holds one joins the swarm (`SWMTKN-1-` with the CA digest and the secret).
    rule('docker-swarm-join-token', ['swmtkn-1-'], new RegExp(String.raw`\bSWMTKN-1-[a-z0-9]{50}-[a-z0-9]{25}${END}`, 'g'), token(4)),
    // Infura project ids in the endpoint URL: the id is the API key.
    rule('infura-endpoint-key', ['infura.io/'], /\binfura\.io\/(?:ws\/)?v3\/([0-9a-f]{32})(?![\w-])/g, token(3.2)),
    rule('figma-access-token', ['figd_'], new RegExp(String.raw`\bfigd_[\w-]{40,64}${END}`, 'g'), token(4)),
    rule('google-oauth-access-token', ['ya29.'], new RegExp(String.raw`\bya29\.[\w-]{30,2048}${END}`, 'g'), mixed(4)),
    rule('posthog-personal-api-key', ['phx_'], new RegExp(String.raw`\bphx_[A-Za-z0-9_]{43}${END}`, 'g'), mixed(4)),
    rule('nvidia-api-key', ['nvapi-'], new RegExp(String.raw`\bnvapi-[\w-]{64}${END}`, 'g'), token(4)),
    // Discord bot tokens: the bot's id in base64, a timestamp, an HMAC. Without the word "discord" only ids
    // beginning with 1 (every id since 2022) are looked for, by the base64 their first two digits give.
    rule(
      'discord-bot-token-bare',
      ['discord', 'mta', 'mte', 'mti', 'mtm', 'mtq', 'mtu', 'mty', 'mtc', 'mtg', 'mtk'],
      new RegExp(String.raw`(?<![\w-])[MNO][A-Za-z0-9_-]{23,26}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}${END}`, 'g'),
      (m) => {
        const id = Buffer.from(m[0].slice(0, m[0].indexOf('.')), 'base64url').toString('latin1');
        return /^[1-9]\d{16,19}$/.test(id) ? token(4)(m) : null;
      },
    ),
    // Amazon MWS auth tokens: `amzn.mws.` and a UUID.
    rule('amazon-mws-auth-token', ['amzn.mws.'], /\bamzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-])/g, token(3)),
    // AWS AppSync GraphQL API keys: `da2-` and 26 lower-case alphanumerics.
    rule('aws-appsync-api-key', ['da2-'], new RegExp(String.raw`\bda2-[a-z0-9]{26}${END}`, 'g'), token(3.5)),
    // Kolide API keys: `k2sk_v1_` and 24 alphanumerics.
    rule('kolide-api-key', ['k2sk_v1_'], new RegExp(String.raw`\bk2sk_v1_[A-Za-z0-9]{24}${END}`, 'g'), token(3.5)),
    // PayPal Braintree access tokens: `access_token$<environment>$<merchant id>$<32 hex>`.
    rule('braintree-access-token', ['access_token$'], /\baccess_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-z]{32}(?![\w$])/g, token(3)),
    // `.npmrc`'s legacy `_auth`: base64 of `user:password`.
    rule('npmrc-auth-basic', ['_auth'], /(?:^|[\s:])_auth[ \t]*=[ \t]*["']?([A-Za-z0-9+/]{8,1024}={0,2})(?![\w+/=])/g, (m) => {
      const password = basicCredentialPassword(m[1]!);
      return password !== null && isLiteralPassword(password, true) ? tokenSpan(m).span : null;
    }),
    // A URL query parameter named a secret (`?client_secret=…`, `&access_token=…`): the URL carries the credential.
    rule('url-query-secret', ['secret=', 'token=', 'api_key=', 'apikey=', 'api-key='], /[?&](?:amp;)?(?:client_secret|secret|access_token|auth_token|private_token|refresh_token|token|api_key|apikey|api-key)=([^&\s"'#<>]{16,512})/gi, (m) => {
      const value = m[1]!.replace(/%[0-9A-Fa-f]{2}/g, 'x');
      if (!/\d/.test(value) || !/[A-Za-z]/.test(value) || isPlaceholder(value) || isReference(value)) return null;
      return token(3.5)(m);
    }),
    // An npm registry token in `.npmrc`, whatever its form (`npm_…`, a UUID, another registry's token).
    rule('npmrc-auth-token', ['_authtoken'], /:_authToken[ \t]*=[ \t]*["']?([^\s"'#]{1,512})/gi, (m) => {
      const value = m[1]!;
      if (value.length < 16 || isPlaceholder(value) || isReference(value) || looksMadeUp(value)) return null;
      return token(3)(m);
    }),
    // `Authorization: Basic <base64 of user:password>`, `Authorization: Bearer <token>`, or the token alone.
    rule(
      'authorization-header',
      ['authorization'],
      /\bauthorization["']?[ \t]*[:=][ \t]*["']?(?:(basic)[ \t]+([A-Za-z0-9+/]{8,1024}={0,2})|(?:bearer|token)[ \t]+([\w~+/.=-]{16,4096})|([\w~+/.=-]{20,4096}))(?![\w~+/.=-])/gi,
      (m) => {
        const value = m[2] ?? m[3] ?? m[4]!;
        const start = m.index + m[0].length - value.length;
        const span = { start, end: start + value.length };
        if (isPlaceholder(value) || isReference(value) || looksMadeUp(value) || isDocumentedExample(value)) return null;
        if (m[1]) {
          const password = basicCredentialPassword(value);
          return password !== null && isLiteralPassword(password, true) ? span : null;
        }
        return /\d/.test(value) && shannonEntropy(value) > (m[3] ? 3.5 : 3.3) ? span : null;
      },
    ),
  ];
}
