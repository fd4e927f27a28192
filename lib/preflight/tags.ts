/**
 * The tags a resource carries, so that tag conditions of policies (`aws:ResourceTag/<key>`,
 * `aws:RequestTag/<key>`, `aws:TagKeys`) are evaluated as AWS would.
 *
 * A resource's tags are the stack's tags (CloudFormation propagates them to every resource whose
 * type is taggable) overlaid with the tags of its template (the property the provider schema's
 * `tagging.tagProperty` names, a `[{Key, Value}]` list or a `{key: value}` map depending on the
 * type). Stack tags are those the lifecycle's *Deploy blueprint* step sets
 * (lambdas/lifecycle/deploy-blueprint.ts): tenant and namespace stacks `tessera:tenant-id`,
 * `tessera:tier`, `tessera:blueprint-version`; the account baseline `tessera:blueprint-version`,
 * `tessera:component` = `account-baseline`. CloudFormation's own `aws:cloudformation:*` tags are
 * not modelled (no policy can condition on them being absent: `aws:` tag keys are reserved).
 * Source: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-console-add-tags.html
 */
import { TENANT_ID_TAG, TIER_TAG } from '../tenant-naming.js';
import type { InstantiatedResource } from './instantiate.js';
import type { ProviderSchemas } from './provider-schemas.js';

/** `VERSION_TAG` of lambdas/lifecycle/blueprints.ts (not imported: that module loads the AWS SDK). */
export const BLUEPRINT_VERSION_TAG = 'tessera:blueprint-version';

export type Tags = Readonly<Record<string, string>>;

/** The tags *Deploy blueprint* puts on a stack of `kind`. */
export function stackTagsFor(kind: 'tenant' | 'namespace' | 'baseline', o: { tenantId?: string; tierName?: string; version: string }): Tags {
  if (kind === 'baseline') return { [BLUEPRINT_VERSION_TAG]: o.version, 'tessera:component': 'account-baseline' };
  return { [TENANT_ID_TAG]: o.tenantId ?? '', [TIER_TAG]: o.tierName ?? '', [BLUEPRINT_VERSION_TAG]: o.version };
}

/** The tags `res` has once created: stack tags (if its type is taggable) overlaid with its template tags. */
export function resourceTags(res: InstantiatedResource, schemas: ProviderSchemas, stackTags: Tags): Tags {
  const tagging = schemas.get(res.type)?.tagging;
  // Custom resources and types without a schema: CloudFormation tags what it can; model none.
  if (!tagging || tagging.taggable === false) return {};
  const property = (tagging.tagProperty ?? '/properties/Tags').replace(/^\/properties\//, '').split('/');
  const value = property.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), res.props);
  return { ...stackTags, ...tagsOf(value) };
}

/** A template tag value in either shape, as a map. */
export function tagsOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const t of value) {
      if (t && typeof t === 'object' && 'Key' in t) out[String((t as { Key: unknown }).Key)] = String((t as { Value?: unknown }).Value ?? '');
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out[k] = String(v);
  }
  return out;
}

/** `aws:ResourceTag/<key>` context entries. */
export function resourceTagContext(tags: Tags): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
}

/** `aws:RequestTag/<key>` and `aws:TagKeys` context entries of a request that applies `tags`. */
export function requestTagContext(tags: Tags): Record<string, string | string[]> {
  const keys = Object.keys(tags);
  if (keys.length === 0) return {};
  return { ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])), 'aws:TagKeys': keys };
}
