import { TenantTags } from '../tenant-tags.js';
import { CliError } from './cli-error.js';
import { tagsOfFlags } from './onboard-body.js';

/**
 * A tenant's tags after `tessera tenants update`'s `--tag Key=Value` (add, or replace that key's value) and `--untag Key`
 * (remove; a key the tenant does not have is nothing to remove, as Organizations UntagResource and CloudFormation take it):
 * the whole set the admin API's PATCH `tags` takes (ChangeRequest.tags), checked with TenantTags (lib/tenant-tags.ts: AWS's
 * rules) before any change is asked for. Keys compare exactly (AWS tag keys are case-sensitive).
 * @param current the tenant's tags as `GET /admin/tenants/{id}` answered them (undefined: none)
 * @param tag each `--tag` given, in order (collectTag); @param untag each `--untag` given
 * @returns the new tags, keys sorted; undefined when neither flag was given
 * @throws CliError (exit 2): a `--tag` not Key=Value or a key given twice (tagsOfFlags), a key both tagged and untagged,
 *   an `--untag` with no key, or a set AWS refuses: `--tag "aws:x=1": key "aws:x" is reserved …`,
 *   `--tag (41 tags after the change): must have at most 40 tags …`
 */
export function editedTags(current: Record<string, string> | undefined, tag: readonly string[] | undefined, untag: readonly string[] | undefined): TenantTags | undefined {
  if (!tag?.length && !untag?.length) return undefined;
  const added = tagsOfFlags(tag) ?? {};
  for (const key of untag ?? []) {
    if (key === '') throw new CliError('--untag "": give the key of the tag to remove (--untag CostCenter)');
    if (Object.hasOwn(added, key)) throw new CliError(`--untag ${JSON.stringify(key)}: the same key is given to --tag ${JSON.stringify(`${key}=${added[key]}`)}; give one of the two`);
  }
  const next: Record<string, string> = { ...current, ...added };
  for (const key of untag ?? []) delete next[key];
  const parsed = TenantTags.safeParse(next);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path[0] === undefined ? undefined : String(issue.path[0]);
      if (key === undefined) return `--tag (${Object.keys(next).length} tags after the change): ${issue.message}`;
      const what = issue.code === 'invalid_key' || issue.message.startsWith('differs') ? `key ${JSON.stringify(key)}` : 'value';
      const message = issue.code === 'invalid_key' ? issue.issues[0]?.message ?? issue.message : issue.message;
      // A key of the tenant's own (recorded) is named as such: only a --tag can make it break a rule of the set.
      const flag = Object.hasOwn(added, key) ? `--tag ${JSON.stringify(`${key}=${next[key]}`)}` : `the tenant's tag ${JSON.stringify(`${key}=${next[key]}`)}`;
      return `${flag}: ${what} ${message}`;
    });
    throw new CliError([...new Set(lines)].join('\n'));
  }
  return Object.fromEntries(Object.keys(next).sort().map((k) => [k, next[k]]));
}

/**
 * Refuses `tessera tenants update <id> --untag Key` whose keys the tenant does not have when the edits leave its tags as
 * they are (and nothing else is asked): the admin API would answer 400 `nothing_to_change`, `tags are already {…}`, which
 * does not say that the key is not one of the tenant's. Names each such key, a recorded key it matches but for case (AWS
 * tag keys are case-sensitive, so `--untag owner` does not remove `Owner`), and the tenant's tags. An `--untag` of a
 * missing key beside a change that does change something is nothing to remove, as before.
 * @param tenantId the tenant, for the message
 * @param current the tenant's tags as read (undefined: none); @param next editedTags' answer for the same flags
 * @param untag each `--untag` given
 * @throws CliError (exit 1, as the admin API's `nothing_to_change`): `nothing to change: tenant acme has no tag "owner"
 *   to remove (did you mean "Owner"? tag keys are case-sensitive); its tags: CostCenter=4712, Owner=team-x`
 */
export function refuseUntagOfMissingKeys(tenantId: string, current: Record<string, string> | undefined, next: Record<string, string> | undefined, untag: readonly string[] | undefined): void {
  const had = current ?? {};
  const missing = (untag ?? []).filter((key) => !Object.hasOwn(had, key));
  if (!missing.length || next === undefined) return;
  const unchanged = Object.keys(next).length === Object.keys(had).length && Object.keys(next).every((key) => Object.hasOwn(had, key) && had[key] === next[key]);
  if (!unchanged) return;
  const named = missing.map((key) => {
    const near = Object.keys(had).find((k) => k.toLowerCase() === key.toLowerCase());
    return `${JSON.stringify(key)}${near ? ` (did you mean ${JSON.stringify(near)}? tag keys are case-sensitive)` : ''}`;
  });
  const tags = Object.keys(had).length ? `its tags: ${Object.keys(had).sort().map((k) => `${k}=${had[k]}`).join(', ')}` : 'it has no tags';
  throw new CliError(`nothing to change: tenant ${tenantId} has no tag ${named.join(', no tag ')} to remove; ${tags} (tessera tenants show ${tenantId})`, 1);
}
