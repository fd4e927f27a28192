import { z } from 'zod';
import { withoutProtoKey } from './proto-key.js';

/**
 * A tenant's own tags (`CostCenter=4711`, `Owner=team-x`): given at onboarding (`POST /admin/tenants` `tags`, `tessera
 * tenants create --tag`, a `tessera tenants apply` entry's `tags`), recorded on the tenant, carried by its `Tenant
 * Activated` event, and put on its AWS account (Organizations CreateAccount `Tags`, account tiers) and on each of its
 * stacks (CloudFormation stack `Tags`, which CloudFormation propagates to the stack's resources), beside Tessera's own
 * `tessera:*` tags. One schema for the admin API, the CLI, the registry and the Lambdas.
 *
 * The rules are AWS's, the stricter where one tag goes to both services:
 * - key 1-128 characters, value 0-256 for Organizations (AWS Organizations API Reference, Tag) but 1-256 for a
 *   CloudFormation stack tag (AWS CloudFormation API Reference, Tag): every tag goes to the tenant's stacks, so a value
 *   has 1-256 characters. Counted in Unicode code points ("Unicode characters", Tagging AWS resources: tag restrictions);
 * - characters: Unicode letters, digits, white space and `_ . : / = + - @` (Organizations' Tag pattern
 *   `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`, the set the tagging docs name as allowed across AWS services);
 * - keys starting `aws:` in any case are AWS's (reserved: "Do not use aws:, AWS:, or any upper or lowercase combination
 *   of such as a prefix"), keys starting `tessera:` in any case are Tessera's (TENANT_TAG_RESERVED_PREFIXES);
 * - at most MAX_TENANT_TAGS of them (see there: AWS allows 50 user tags per resource, Tessera's own take the rest);
 * - two keys differing only in case are refused: AWS calls tag keys case-sensitive (two tags), but IAM, whose roles in
 *   the tenant's stacks receive the stack tags, treats keys as unique without case (IAM User Guide, Tags for IAM
 *   resources: Case sensitivity) and refuses such a pair, so the stack's create would fail at its first role.
 */

/** The characters of a tag key or value: Organizations' Tag pattern (Unicode letters, white space, digits, `_ . : / = + - @`). */
export const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Prefixes no tenant tag key may start with, compared without case: AWS's (`aws:`) and Tessera's (`tessera:`). */
export const TENANT_TAG_RESERVED_PREFIXES = ['aws:', 'tessera:'] as const;

/**
 * The most tags a tenant can have: 40. AWS allows 50 user-created tags per resource (Tagging AWS resources: tag
 * restrictions; CloudFormation CreateStack `Tags`: "a maximum number of 50 tags"), and a stack tag reaches every
 * resource of the stack. Tessera's own stack tags take 6 (`tessera:tenant-id`, `tessera:tier`, `tessera:blueprint-version`,
 * `tessera:request-id`, `tessera:created-by`, and `tessera:component` on a customization stack) and the blueprints tag
 * some resources themselves (`Name`, and `aws-cdk:subnet-name`, `aws-cdk:subnet-type` on subnets): 40 leaves those 9
 * and one spare, so no resource of a tenant stack goes over 50.
 */
export const MAX_TENANT_TAGS = 40;

/** The length of `s` in Unicode code points, as AWS counts a tag's characters (a character outside the BMP is one). */
const codePoints = (s: string): number => [...s].length;

const CHARACTERS_RULE = 'may contain only Unicode letters, digits, white space and _ . : / = + - @ (AWS tag characters)';

/** The prefix of TENANT_TAG_RESERVED_PREFIXES that `key` starts with (any case), else undefined. */
export const reservedTagPrefix = (key: string): string | undefined =>
  TENANT_TAG_RESERVED_PREFIXES.find((p) => key.toLowerCase().startsWith(p));

/** A tenant tag key: 1-128 characters of TAG_CHARACTERS, not starting `aws:` or `tessera:` in any case. */
export const TenantTagKey = z.string()
  .refine((k) => codePoints(k) >= 1, 'must not be empty (a tag key has 1-128 characters)')
  .refine((k) => codePoints(k) <= 128, 'must be at most 128 characters (AWS tag key)')
  .refine((k) => TAG_CHARACTERS.test(k), CHARACTERS_RULE)
  .superRefine((k, ctx) => {
    const prefix = reservedTagPrefix(k);
    if (prefix === 'aws:') ctx.addIssue({ code: 'custom', message: 'is reserved: keys starting "aws:" (in any case) are AWS\'s own' });
    else if (prefix) ctx.addIssue({ code: 'custom', message: 'is reserved: keys starting "tessera:" (in any case) are Tessera\'s own tags' });
  });

/** A tenant tag value: 1-256 characters of TAG_CHARACTERS (CloudFormation's stack tag takes no empty value). */
export const TenantTagValue = z.string()
  .refine((v) => codePoints(v) >= 1, 'must not be empty: a CloudFormation stack tag value has 1-256 characters, and every tenant tag goes to the tenant\'s stacks')
  .refine((v) => codePoints(v) <= 256, 'must be at most 256 characters (AWS tag value)')
  .refine((v) => TAG_CHARACTERS.test(v), CHARACTERS_RULE);

/**
 * What `tags` of another shape is told: AWS's own list form (`[{ "Key": …, "Value": … }]`, CreateAccount's and
 * CloudFormation's `Tags`), which a platform engineer sends first, is named and the object form shown; any other type
 * keeps zod's message (undefined). Before, the list was `Invalid input: expected record, received array`.
 */
const tagsShapeError = (issue: { code?: string; input?: unknown }): string | undefined =>
  issue.code === 'invalid_type' && Array.isArray(issue.input)
    ? 'must be an object of keys to values, {"CostCenter": "4711", "Owner": "team-x"} (AFT\'s account_tags), not AWS\'s list of {Key, Value}'
    : undefined;

/**
 * A tenant's tags, key to value (`{ "CostCenter": "4711", "Owner": "team-x" }`, as AFT's `account_tags`): each key
 * TenantTagKey, each value TenantTagValue, at most MAX_TENANT_TAGS, no two keys differing only in case, no key `__proto__`
 * (AWS would take it, but JSON.parse keeps it as an own key that zod's record drops unchecked: the tenant was onboarded
 * without it, unsaid). An array (AWS's `[{Key, Value}]`) is refused saying the object form.
 */
export const TenantTags = withoutProtoKey(z.record(TenantTagKey, TenantTagValue, { error: tagsShapeError }).superRefine((tags, ctx) => {
  const keys = Object.keys(tags);
  if (keys.length > MAX_TENANT_TAGS) {
    ctx.addIssue({ code: 'custom', message: `must have at most ${MAX_TENANT_TAGS} tags, has ${keys.length} (AWS allows 50 per resource; Tessera's own tags and the blueprints' take the other 10)` });
  }
  const seen = new Map<string, string>();
  for (const key of keys) {
    const first = seen.get(key.toLowerCase());
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: [key], message: `differs from key "${first}" only in case: AWS takes them for two tags, but IAM (whose roles in the tenant's stacks get the stack tags) refuses two keys differing only in case, so the tenant's stacks could not be created; keep one` });
    } else seen.set(key.toLowerCase(), key);
  }
}), 'cannot be kept under the key __proto__ (Tessera\'s registry and events are JSON objects, where it is no key); use another key');
export type TenantTags = z.infer<typeof TenantTags>;

/** `tags` as AWS SDK Tag lists take them (`[{ Key, Value }]`), in key order; none for undefined. */
export function awsTags(tags: TenantTags | undefined): { Key: string; Value: string }[] {
  return Object.keys(tags ?? {}).sort().map((Key) => ({ Key, Value: tags![Key] }));
}

/** `tags` as one string that is the same for the same tags in any key order (`{}` for none): to compare two sets. */
export const canonicalTags = (tags: TenantTags | undefined): string =>
  JSON.stringify(Object.fromEntries(Object.keys(tags ?? {}).sort().map((k) => [k, tags![k]])));

/**
 * `Key=Value` of the CLI's `--tag` as a key and a value, split at the first `=`: `--tag CostCenter=4711`, `--tag Note=a=b`
 * (value `a=b`). A key that contains `=` (AWS allows it) is given in a `tenants apply` file or the admin API instead.
 * @throws Error when there is no `=` or the key before it is empty: `--tag "CostCenter": must be Key=Value`
 */
export function parseTagArgument(arg: string): { key: string; value: string } {
  const at = arg.indexOf('=');
  if (at <= 0) throw new Error(`--tag ${JSON.stringify(arg)}: must be Key=Value (e.g. --tag CostCenter=4711)`);
  return { key: arg.slice(0, at), value: arg.slice(at + 1) };
}

