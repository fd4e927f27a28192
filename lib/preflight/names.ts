/**
 * Names: a blueprint instantiated for several tenants in one account and region must not produce
 * two resources with the same physical name in the same scope (IAM names are account-wide, S3
 * bucket names global, log groups, vaults, ElastiCache users… regional, security-group names per
 * VPC, node groups per cluster), and every resolved name must pass its property's schema
 * constraints (maxLength, pattern from the provider schema). Also lists the retained named
 * resources: they outlive their stack, so a second create with the same names meets them.
 */
import { valueAt, type InstantiatedTemplate } from './instantiate.js';
import type { ProviderSchemas } from './provider-schemas.js';
import { TYPES } from './resource-types.js';

export interface NameCollision {
  readonly type: string;
  readonly scope: string;
  readonly name: string;
  /** `<tenant>/<logicalId>` of each resource holding the name. */
  readonly holders: string[];
}

export interface NameViolation {
  readonly tenantId: string;
  readonly logicalId: string;
  readonly type: string;
  readonly property: string;
  readonly name: string;
  readonly problem: string;
}

export interface RetainedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly deletionPolicy: string;
  /** The name with the tenant id replaced by `<tenant>` (explicit names) or `(generated)`. */
  readonly namePattern: string;
}

/** Resources of all instances that share type, scope and name. */
export function findCollisions(instances: InstantiatedTemplate[]): NameCollision[] {
  const seen = new Map<string, { type: string; scope: string; name: string; holders: string[] }>();
  for (const inst of instances) {
    for (const r of Object.values(inst.resources)) {
      const model = TYPES[r.type];
      if (!model?.nameScope || !r.name) continue;
      const scope = model.nameScope(r, inst.env);
      // IAM, S3 and ElastiCache user names compare case-insensitively.
      const name = /IAM|S3|ElastiCache/.test(r.type) ? r.name.toLowerCase() : r.name;
      const key = `${r.type}|${scope}|${name}`;
      const entry = seen.get(key) ?? { type: r.type, scope, name: r.name, holders: [] };
      entry.holders.push(`${inst.tenantId}/${r.logicalId}`);
      seen.set(key, entry);
    }
  }
  return [...seen.values()].filter((e) => e.holders.length > 1);
}

/** Resolved names that break their property's maxLength or pattern. */
export function checkNameConstraints(inst: InstantiatedTemplate, schemas: ProviderSchemas): NameViolation[] {
  const out: NameViolation[] = [];
  for (const r of Object.values(inst.resources)) {
    const property = TYPES[r.type]?.nameProperty;
    if (!property || !r.name) continue;
    const schema = property.includes('.') ? undefined : schemas.property(r.type, property);
    const value = property.includes('.') ? valueAt(r.props, property) : r.name;
    if (typeof value !== 'string') continue;
    const base = { tenantId: inst.tenantId, logicalId: r.logicalId, type: r.type, property, name: value };
    if (schema?.maxLength !== undefined && value.length > schema.maxLength) out.push({ ...base, problem: `length ${value.length} > maxLength ${schema.maxLength}` });
    if (schema?.minLength !== undefined && value.length < schema.minLength) out.push({ ...base, problem: `length ${value.length} < minLength ${schema.minLength}` });
    if (schema?.pattern && !patternMatches(schema.pattern, value)) out.push({ ...base, problem: `does not match ${schema.pattern}` });
  }
  return out;
}

/** Provider-schema patterns are ECMA-262-ish; the ones that are not valid JS regexes are skipped. */
function patternMatches(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern.replace(/\\Z$/, '$'), 'u').test(value);
  } catch {
    return true;
  }
}

const RETAINING = new Set(['Retain', 'RetainExceptOnCreate', 'Snapshot']);

/** Resources kept when the stack is deleted (DeletionPolicy Retain, RetainExceptOnCreate or Snapshot). */
export function retainedResources(inst: InstantiatedTemplate): RetainedResource[] {
  return Object.values(inst.resources)
    .filter((r) => r.deletionPolicy && RETAINING.has(r.deletionPolicy))
    .map((r) => ({
      logicalId: r.logicalId,
      type: r.type,
      deletionPolicy: r.deletionPolicy!,
      namePattern: r.name === undefined ? '(no name: id)' : r.nameIsExplicit ? r.name.split(inst.tenantId).join('<tenant>') : '(generated)',
    }));
}
