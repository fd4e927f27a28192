import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_ROTATION_GRACE_HOURS, KEY_LIST_LIMIT, MAX_ROTATION_GRACE_HOURS, type ApiKeyRecord } from '../identity/api-key-record.js';
import { ROLES } from '../identity/roles.js';
import { AdminApiError } from './admin-client.js';
import { CliError } from './cli-error.js';
import { table } from './format.js';
import { numberIn } from './option-parsers.js';
import { checkTenantId } from './users/tenant-check.js';
import { adminTarget, profileOption } from './admin-target.js';

/** A key as the admin API shows it: the record without its hash. */
type ShownKey = Omit<ApiKeyRecord, 'keyHash'> & { id: string; object: 'tenant.api_key' };
type NewKey = ShownKey & { key: string; previous?: ShownKey };

/** Where the commands write; tests replace it. */
export type KeysOut = (text: string) => void;

/** The flag that carries each request field, for errors the admin API names by field. */
const FLAGS: Record<string, string> = {
  name: '--name', role: '--role', models: '--model', 'limits.requestsPerMinute': '--requests-per-minute', 'limits.tokensPerMinute': '--tokens-per-minute', 'limits.tokensPerDay': '--tokens-per-day',
  'limits.monthlyCostUsd': '--monthly-cost-usd', expiresInDays: '--expires-in-days', gracePeriodHours: '--grace-hours', keyId: '<keyId>', status: '--tenant', id: '--tenant',
};
const flagOf = (param: string) => FLAGS[param] ?? FLAGS[param.replace(/\[\d+\]$/, '')];

const wholeNumber = (what: string) => numberIn(1, Number.MAX_SAFE_INTEGER, what, true);
const positiveUsd = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('Expected a positive number of US dollars, e.g. 25 or 7.50.');
  return n;
};
const repeated = (value: string, previous: string[] = []) => [...previous, value];

const client = adminTarget;

/** `<keyId>` checked before any call: `key_` and 16 hex characters, as `tessera keys list` shows it. */
function checkKeyId(keyId: string): string {
  if (!/^key_[0-9a-f]{16}$/.test(keyId)) throw new CliError(`<keyId> "${keyId.slice(0, 60)}": not a key id; key ids look like key_0123456789abcdef (tessera keys list --tenant <id> shows them; never pass the tsk_ key itself)`);
  return keyId;
}

/**
 * The admin API's refusal of a request field as the flag that carried it: `limits.tokensPerDay =
 * 2000000: above …` becomes `--tokens-per-day 2000000: above …`. A 400 exits 2 (the command line
 * was wrong), anything else 1.
 */
async function asFlagError<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof AdminApiError) || !e.param) throw e;
    const flag = flagOf(e.param);
    if (!flag) throw e;
    const message = e.message.replace(/ \([a-z_]+, field [^)]+\)$/, '');
    const said = message.startsWith(`${e.param} = `) ? `${flag} ${message.slice(e.param.length + 3)}` : `${flag}: ${message}`;
    throw new CliError(`${said} (${e.code})`, e.status === 400 ? 2 : 1, undefined, e);
  }
}

const limitsText = (l: ApiKeyRecord['limits']) => {
  const parts = [l?.requestsPerMinute && `${l.requestsPerMinute} requests/minute`, l?.tokensPerMinute && `${l.tokensPerMinute} tokens/minute`, l?.tokensPerDay && `${l.tokensPerDay} tokens/day`, l?.monthlyCostUsd && `${l.monthlyCostUsd} USD/month`].filter(Boolean);
  return parts.length ? `${parts.join(', ')} (on top of the tenant's)` : 'the tenant\'s only';
};

/** The state of a key now: active, revoked, or expired. */
function state(k: Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt'>, now = Date.now()): string {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && Date.parse(k.expiresAt) <= now) return 'expired';
  return 'active';
}

/** A new key's lines: the key once, the warning, then what it may do. */
function newKeyLines(k: NewKey, what: string): string[] {
  return [
    `${what} ${k.keyId} for tenant ${k.tenantId}`,
    '',
    `  ${k.key}`,
    '',
    'Store this key now: it cannot be shown again (Tessera keeps only its SHA-256 hash).',
    `  id        ${k.keyId}`,
    `  name      ${k.name}`,
    `  role      ${k.role}`,
    `  models    ${k.models?.join(', ') ?? 'all of the tenant\'s'}`,
    `  limits    ${limitsText(k.limits)}`,
    `  expires   ${k.expiresAt ?? 'never'}`,
  ];
}

/** A page of the admin API's key list (GET /admin/tenants/{id}/keys: OpenAI's cursor list). */
interface KeyListPage { object: 'list'; data: ShownKey[]; first_id: string | null; last_id: string | null; has_more: boolean }

/**
 * Every key of every page: `page(after)` is asked with `after` = the last page's `last_id` until a page says
 * `has_more: false` (100 keys a page, the most the route gives).
 * @throws Error when a page says has_more but names no last_id, or names the one the page before named (the loop would not end)
 */
async function allPages(page: (after: string | undefined) => Promise<KeyListPage>): Promise<ShownKey[]> {
  const keys: ShownKey[] = [];
  for (let after: string | undefined; ;) {
    const got = await page(after);
    keys.push(...got.data);
    if (!got.has_more) return keys;
    if (!got.last_id || got.last_id === after) throw new Error(`the admin API's key list said has_more after ${after ?? 'the first page'} but gave last_id ${got.last_id}: no further page can be asked`);
    after = got.last_id;
  }
}

/** Newest first (`createdAt` descending, the id breaking ties), as `tessera keys list` has always shown keys. */
const newestFirst = (keys: ShownKey[]): ShownKey[] =>
  keys.sort((a, b) => (a.createdAt === b.createdAt ? a.keyId.localeCompare(b.keyId) : a.createdAt < b.createdAt ? 1 : -1));

/**
 * `tessera keys create | list | revoke | rotate --tenant <id>`: a tenant's API keys (`tsk_…`)
 * through the admin API (POST/GET /admin/tenants/{id}/keys, DELETE …/keys/{keyId}, POST
 * …/keys/{keyId}/rotate), SigV4-signed with the operator's AWS credentials. `--json` prints the
 * admin API's JSON. create and rotate print the key once; nothing can show it again.
 */
export function keysCommand(out: KeysOut = (t) => void process.stdout.write(`${t}\n`)): Command {
  const keys = new Command('keys').description('a tenant\'s API keys (tsk_…, for any OpenAI SDK): create, list, revoke, rotate').addOption(profileOption());
  const tenantOption = () => new Option('--tenant <id>', 'the tenant').makeOptionMandatory();

  keys.command('create').description('mint an API key; it is printed once and cannot be shown again')
    .addOption(tenantOption())
    .requiredOption('--name <name>', 'what the key is for (1-128 characters), shown in lists and audits')
    .addOption(new Option('--role <role>', 'what the key may do (tessera roles)').choices([...ROLES]).default('member'))
    .option('--model <id>', 'a model the key may call (repeat for several; default: all of the tenant\'s)', repeated)
    .option('--requests-per-minute <n>', 'the key\'s own rate limit (at most the tenant\'s)', wholeNumber('requests a minute'))
    .option('--tokens-per-minute <n>', 'the key\'s own tokens-per-minute limit (TPM; at most the tenant\'s)', wholeNumber('tokens a minute'))
    .option('--tokens-per-day <n>', 'the key\'s own daily token limit (at most the tenant\'s)', wholeNumber('tokens a day'))
    .option('--monthly-cost-usd <usd>', 'the key\'s own monthly cost budget (at most the tenant\'s)', positiveUsd)
    .option('--expires-in-days <days>', 'the key stops working after this many days (default: never)', numberIn(1, 3650, 'days', true))
    .action(async (o, cmd: Command) => {
      const tenantId = checkTenantId(o.tenant);
      const { api, json } = client(cmd);
      const limits = { requestsPerMinute: o.requestsPerMinute, tokensPerMinute: o.tokensPerMinute, tokensPerDay: o.tokensPerDay, monthlyCostUsd: o.monthlyCostUsd };
      const hasLimits = Object.values(limits).some((v) => v !== undefined);
      const body = { name: o.name, role: o.role, models: o.model, limits: hasLimits ? limits : undefined, expiresInDays: o.expiresInDays };
      const created = await asFlagError(() => api.call<NewKey>('POST', `/admin/tenants/${encodeURIComponent(tenantId)}/keys`, body));
      out(json ? JSON.stringify(created, null, 2) : newKeyLines(created, 'created key').join('\n'));
    });

  keys.command('list').description('list all of a tenant\'s keys, newest first (revoked and expired ones too; never the keys themselves), every page of the admin API\'s list')
    .addOption(tenantOption())
    .action(async (o, cmd: Command) => {
      const tenantId = checkTenantId(o.tenant);
      const { api, json } = client(cmd);
      const data = newestFirst(await allPages((after) => asFlagError(() => api.call<KeyListPage>('GET', `/admin/tenants/${encodeURIComponent(tenantId)}/keys?limit=${KEY_LIST_LIMIT.max}${after ? `&after=${after}` : ''}`))));
      const list = { object: 'list', data, first_id: data[0]?.keyId ?? null, last_id: data.at(-1)?.keyId ?? null, has_more: false };
      if (json) return out(JSON.stringify(list, null, 2));
      if (!list.data.length) return out(`tenant ${tenantId} has no API keys (tessera keys create --tenant ${tenantId} --name <name>)`);
      out(table(list.data.map((k) => ({ ...k, state: state(k), models: k.models?.join(',') ?? 'all' })) as never, ['keyId', 'name', 'role', 'state', 'hint', 'models', 'expiresAt', 'lastUsedAt', 'createdAt']));
    });

  keys.command('revoke').description('revoke a key at once (the gateway refuses it within the authorizer\'s cache TTL); revoking twice changes nothing')
    .argument('<keyId>', 'the key\'s id (key_…), as tessera keys list shows it')
    .addOption(tenantOption())
    .action(async (keyId: string, o, cmd: Command) => {
      const tenantId = checkTenantId(o.tenant);
      const id = checkKeyId(keyId);
      const { api, json } = client(cmd);
      const revoked = await asFlagError(() => api.call<ShownKey>('DELETE', `/admin/tenants/${encodeURIComponent(tenantId)}/keys/${id}`));
      out(json ? JSON.stringify(revoked, null, 2) : `revoked key ${revoked.keyId} (${revoked.name}) of tenant ${tenantId} at ${revoked.revokedAt}`);
    });

  keys.command('rotate').description('replace a key with a new one (same name, role, models, limits, expiry); the old one keeps working for the grace period')
    .argument('<keyId>', 'the key\'s id (key_…), as tessera keys list shows it')
    .addOption(tenantOption())
    .option('--grace-hours <hours>', `how long the old key keeps working: 0 revokes it at once (0-${MAX_ROTATION_GRACE_HOURS})`, numberIn(0, MAX_ROTATION_GRACE_HOURS, 'hours', true), DEFAULT_ROTATION_GRACE_HOURS)
    .action(async (keyId: string, o, cmd: Command) => {
      const tenantId = checkTenantId(o.tenant);
      const id = checkKeyId(keyId);
      const { api, json } = client(cmd);
      const rotated = await asFlagError(() => api.call<NewKey>('POST', `/admin/tenants/${encodeURIComponent(tenantId)}/keys/${id}/rotate`, { gracePeriodHours: o.graceHours }));
      if (json) return out(JSON.stringify(rotated, null, 2));
      const previous = rotated.previous!;
      out([
        ...newKeyLines(rotated, `rotated ${previous.keyId} into`),
        previous.revokedAt ? `The old key ${previous.keyId} was revoked at once.` : `The old key ${previous.keyId} keeps working until ${previous.expiresAt}: move every client to the new key before then.`,
      ].join('\n'));
    });

  return keys;
}
