/**
 * Names: a blueprint instantiated for several tenants in one account and region must not produce
 * two resources with the same physical name in the same scope (IAM names are account-wide, S3
 * bucket names global, log groups, vaults, ElastiCache users… regional, security-group names per
 * VPC, node groups per cluster), and every resolved name must pass its property's schema
 * constraints (maxLength, minLength, pattern from the provider schema; where the schema gives no
 * maxLength, the limit of ./resource-types.ts). A name the schemas cannot check is a violation. Also lists the retained named
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
    const model = TYPES[r.type];
    const property = model?.nameProperty;
    if (!property || !r.name) continue;
    const schema = schemas.property(r.type, property);
    const value = property.includes('.') ? valueAt(r.props, property) : r.name;
    if (typeof value !== 'string') continue;
    const base = { tenantId: inst.tenantId, logicalId: r.logicalId, type: r.type, property, name: value };
    if (!schema) {
      out.push({ ...base, problem: `no provider schema for ${r.type} property ${property}: the name is unchecked` });
      continue;
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) out.push({ ...base, problem: `length ${value.length} > maxLength ${schema.maxLength}` });
    // Where the schema gives no maxLength, the limit AWS documents for the name (resource-types.ts).
    else if (schema.maxLength === undefined && model?.maxNameLength !== undefined && value.length > model.maxNameLength) out.push({ ...base, problem: `length ${value.length} > ${model.maxNameLength} (AWS's limit; the schema gives no maxLength)` });
    if (schema.minLength !== undefined && value.length < schema.minLength) out.push({ ...base, problem: `length ${value.length} < minLength ${schema.minLength}` });
    if (schema.pattern) {
      const compiled = compileSchemaPattern(schema.pattern);
      if ('error' in compiled) out.push({ ...base, problem: `schema pattern ${schema.pattern} cannot be compiled (${compiled.error}): the name is unchecked` });
      else if (!compiled.regex.test(value)) out.push({ ...base, problem: `does not match ${schema.pattern} (length ${value.length})` });
    }
  }
  return out;
}

const compiledPatterns = new Map<string, { regex: RegExp } | { error: string }>();

/**
 * A provider-schema `pattern` as a JavaScript RegExp with the meaning the schema gives it. The
 * schemas are written for ECMA-262 and Python `re` without Unicode mode: an escaped character
 * that is not special (`\_`, `\-` outside a class) is the character itself, which the `u` flag
 * refuses. So: Python's `\A`, `\Z`, `\z` become `^`/`$` and a leading inline `(?i)`/`(?s)`
 * becomes a flag; then the pattern is compiled with `u` (what a Unicode-aware pattern such as
 * `\p{L}` needs), else without it. A pattern that compiles neither way is an error, never a pass.
 */
export function compileSchemaPattern(pattern: string): { regex: RegExp } | { error: string } {
  const known = compiledPatterns.get(pattern);
  if (known) return known;
  let source = pattern.replace(/\\A/g, '^').replace(/\\[Zz]/g, '$');
  let flags = '';
  const inline = /^\(\?([is]+)\)/.exec(source);
  if (inline) {
    flags += inline[1];
    source = source.slice(inline[0].length);
  }
  let result: { regex: RegExp } | { error: string };
  try {
    result = { regex: new RegExp(source, `${flags}u`) };
  } catch {
    try {
      result = { regex: new RegExp(source, flags) };
    } catch (e) {
      result = { error: (e as Error).message };
    }
  }
  compiledPatterns.set(pattern, result);
  return result;
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
