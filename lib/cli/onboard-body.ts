import { requestErrorMap } from '../request-issues.js';
import { OnboardRequest } from '../tenant-record.js';
import { parseTagArgument, type TenantTags } from '../tenant-tags.js';
import { CliError } from './cli-error.js';

/** The `tessera tenants create` flag of each field of the onboarding request. */
const FLAGS: Record<keyof OnboardRequest, string> = { tenantId: '--id', name: '--name', tier: '--tier', adminEmail: '--admin-email', inviteAdmin: '--invite-admin', tags: '--tag', requestId: '--request-id' };

/**
 * `tessera tenants create`'s flags (commander's camel-cased option values). `inviteAdmin`: `--invite-admin` (true),
 * `--no-invite-admin` (false), neither (undefined: the platform's default, not sent). `tag`: each `--tag Key=Value` given,
 * in order (collectTag); none: no `tags` sent.
 */
export interface OnboardFlags { id: string; name: string; tier: string; adminEmail: string; inviteAdmin?: boolean; tag?: string[] }

/** commander's collector of a repeatable option: `--tag A=1 --tag B=2` → `['A=1', 'B=2']`. */
export const collectTag = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * The `--tag Key=Value` flags as a tenant's tags (TenantTags: checked by onboardBody with the rest of the request).
 * @throws CliError (exit 2) for a flag that is not Key=Value, or a key given twice (the second would replace the first
 *   without a word): `--tag "CostCenter=2": key "CostCenter" given twice (--tag "CostCenter=1" first)`
 */
export function tagsOfFlags(flags: readonly string[] | undefined): TenantTags | undefined {
  if (!flags || flags.length === 0) return undefined;
  const tags: TenantTags = {};
  const given = new Map<string, string>();
  for (const flag of flags) {
    let tag;
    try {
      tag = parseTagArgument(flag);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const first = given.get(tag.key);
    if (first !== undefined) throw new CliError(`--tag ${JSON.stringify(flag)}: key ${JSON.stringify(tag.key)} given twice (--tag ${JSON.stringify(first)} first); give each key once`);
    given.set(tag.key, flag);
    // An own property even for `__proto__` (an assignment would set the object's prototype, dropping the tag unsaid):
    // TenantTags then refuses it by name.
    Object.defineProperty(tags, tag.key, { value: tag.value, enumerable: true, writable: true, configurable: true });
  }
  return tags;
}

/**
 * The admin API's `POST /admin/tenants` body from `tessera tenants create`'s flags, checked with
 * the API's own schema (`OnboardRequest`, lib/tenant-record.ts) before any call: a tenant id, an
 * email or a request id the API would refuse is an exit 2 naming the flag and its value, without
 * credentials, network or an admin API (it used to be sent, and refused by the API, or by the
 * connection first).
 * A refused `--tag` is named with its key and value (`--tag "aws:x=1": key "aws:x" is reserved ...`), a rule of the
 * whole set with the count (`--tag (41 given): must have at most 40 tags ...`).
 * @throws CliError (exit 2): `--id "Acme": must be a lower-case DNS label ...`, or a list of every bad flag
 */
export function onboardBody(flags: OnboardFlags, requestId: string): OnboardRequest {
  const tags = tagsOfFlags(flags.tag);
  const body = { tenantId: flags.id, name: flags.name, tier: flags.tier, adminEmail: flags.adminEmail, ...(flags.inviteAdmin !== undefined ? { inviteAdmin: flags.inviteAdmin } : {}), ...(tags ? { tags } : {}), requestId };
  const parsed = OnboardRequest.safeParse(body, { error: requestErrorMap });
  if (parsed.success) return parsed.data;
  const lines = new Map<string, string>();
  for (const issue of parsed.error.issues) {
    const field = issue.path[0] as keyof OnboardRequest;
    const flag = FLAGS[field] ?? String(field);
    if (field === 'tags') {
      // A tag is named by its key (`--tag "aws:x=1"`), or the whole set for a rule of the set (too many tags).
      const key = issue.path[1] === undefined ? undefined : String(issue.path[1]);
      const shown = key === undefined ? `${flag} (${Object.keys(tags ?? {}).length} given)` : `${flag} ${JSON.stringify(`${key}=${tags?.[key] ?? ''}`)}`;
      const of = issue.code === 'invalid_key' || issue.message.startsWith('differs') ? `key ${JSON.stringify(key)}` : 'value';
      const what = key === undefined ? issue.message : `${of} ${issue.code === 'invalid_key' ? issue.issues[0]?.message ?? issue.message : issue.message}`;
      if (!lines.has(shown)) lines.set(shown, `${shown}: ${what}`);
      continue;
    }
    if (!lines.has(flag)) lines.set(flag, `${flag} ${JSON.stringify((body as Partial<OnboardRequest>)[field] ?? null)}: ${issue.message}`);
  }
  const each = [...lines.values()];
  throw new CliError(each.length === 1 ? each[0] : `${each.length} problems with the flags of tessera tenants create:\n${each.map((l) => `  - ${l}`).join('\n')}`);
}
