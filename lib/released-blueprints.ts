/**
 * What a tenant stack built from a released blueprint version keeps through an upgrade: its stateful resources
 * (lib/stateful-resources.ts), each with its type, the values of its properties a change of which replaces it (the
 * CloudFormation resource provider schema's `createOnlyProperties`, as cfn-lint ships it: lib/preflight/provider-schemas.ts)
 * and its DeletionPolicy and UpdateReplacePolicy; plus, transitively, every resource those values reference (a subnet
 * replaced gives a cluster a new `SubnetIds`, which replaces the cluster too). The values of the properties the schemas
 * miss but CloudFormation cannot update in place (lib/immutable-properties.ts: a Cognito pool's sign-in attributes, a KMS
 * key's spec and usage, a global table's key schema) are recorded beside them (`immutable`).
 *
 * test/fixtures/released-blueprints/<version>.json records them per released version (scripts/record-released-blueprints.ts,
 * run at the release commit), with a digest of each catalog template; test/infra/released-blueprints.test.ts compares
 * the checkout's blueprints with them, so a commit that would remove, rename or replace a released store, or change a
 * published version's templates in place, fails there instead of at a tenant's upgrade.
 */
import { createHash } from 'node:crypto';
import type { ProviderSchemas } from './preflight/provider-schemas.js';
import { immutableProperties } from './immutable-properties.js';
import type { ReleasedPlatformStacks } from './released-platform-stacks.js';
import { isStatefulType } from './stateful-resources.js';

/** A CloudFormation template as far as this module reads it. */
export interface TemplateJson {
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
}

/** One recorded resource of a released template. */
export interface ReleasedResource {
  /** CloudFormation type, e.g. `AWS::RDS::DBInstance`. */
  readonly type: string;
  /** JSON pointer of each replacing property the template sets (`/properties/DBInstanceIdentifier`) → its value as synthesized. */
  readonly createOnly?: Record<string, unknown>;
  /**
   * JSON pointer of each property of the supplement (lib/immutable-properties.ts) of its type → its value as synthesized,
   * `null` when the template leaves it out. Absent from a record made before the supplement (0.1.0, 0.2.0) and for a type
   * the supplement has nothing for: a pointer it does not hold is not compared.
   */
  readonly immutable?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  /** Set for a resource recorded only because replacing properties of these (stateful or themselves referenced) resources name it. */
  readonly referencedBy?: string[];
}

/** A released template: its recorded resources by logical id and, for a catalog file, the digest of its content. */
export interface ReleasedTemplate {
  /** {@link templateDigest} of the template as published (catalog files only; failover templates are not published). */
  readonly sha256?: string;
  readonly resources: Record<string, ReleasedResource>;
}

/** test/fixtures/released-blueprints/<version>.json. */
export interface ReleasedBlueprints {
  /** Blueprint version (package.json's at the release commit). */
  readonly version: string;
  /** The release commit the templates were synthesized at. */
  readonly commit: string;
  /** Config name ({@link RELEASE_CONFIGS}) → template name (catalog file name, or the failover stack id) → what it holds. */
  readonly configs: Record<string, Record<string, ReleasedTemplate>>;
  /**
   * The platform stacks `cdk deploy` updates (lib/released-platform-stacks.ts): config name → stack name → their
   * custom-named resources and exports. Absent from a record made before 2026-12-06 that was not given them since.
   */
  readonly platformStacks?: ReleasedPlatformStacks;
}

const DR = { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } as const;
/**
 * The configs a release is recorded with (config overrides merged into the embedded default, test/support/config-with.ts):
 * - `default`: every tier, no DR;
 * - `full`: the largest the infra tests synthesize (test/infra/tenant-failover.test.ts's: professional and enterprise with
 *   DR, so their DR and failover blueprints too) with budget alerts (tenant-budget-alerts.test.ts's);
 * - `budgets` (recorded since 0.3.0: 0.1.0 and 0.2.0 had no such key): tenant-infrastructure-budget.test.ts's infrastructure
 *   budgets (professional with DR, enterprise without).
 * A release records each config the checkout has; a later one compares each config its fixture holds.
 */
const FULL = {
  tiers: {
    starter: { budgetAlerts: { emailTenantAdmins: true, senderEmail: 'alerts@platform.example' } },
    professional: { disasterRecovery: DR },
    enterprise: { disasterRecovery: DR, budgetAlerts: { thresholdsPercent: [90] } },
  },
  platformDisasterRecovery: { region: 'us-west-2' },
};
export const RELEASE_CONFIGS: Readonly<Record<string, Record<string, unknown>>> = {
  default: {},
  full: FULL,
  // The very overrides of test/infra/tenant-infrastructure-budget.test.ts: one synth (test/support/default-app.ts's cache) for both.
  budgets: {
    tiers: {
      professional: { infrastructureBudget: { monthlyLimitUsd: 2500, thresholdsPercent: [80, 100, 150], forecasted: true, subscriberEmails: ['platform-costs@your-company.com', 'finops@your-company.com'] }, disasterRecovery: DR },
      enterprise: { infrastructureBudget: { monthlyLimitUsd: 120000.5, subscriberEmails: ['platform-costs@your-company.com'] } },
    },
    platformDisasterRecovery: { region: 'us-west-2' },
  },
};

/**
 * What replaces a resource of `type`: the schema's createOnlyProperties; for a custom resource (no schema),
 * `ServiceToken`, which CloudFormation refuses to change ("Modifying service token is not allowed").
 */
export function replacingProperties(type: string, schemas: ProviderSchemas): string[] {
  return type.startsWith('Custom::') ? ['/properties/ServiceToken'] : schemas.createOnly(type);
}

/** The value at JSON pointer `/properties/A/B` in a resource's Properties; undefined when absent. */
export function valueAt(properties: Record<string, unknown> | undefined, pointer: string): unknown {
  let cur: unknown = properties;
  for (const part of pointer.split('/').slice(2)) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !(part in cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Logical ids of `resources` that `value` references (Ref, Fn::GetAtt, `${Id}`/`${Id.Attr}` in Fn::Sub). */
function referencedIds(value: unknown, resources: Record<string, unknown>): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) { v.forEach(walk); return; }
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'Ref' && typeof x === 'string' && x in resources) out.add(x);
      else if (k === 'Fn::GetAtt') {
        const id = Array.isArray(x) ? x[0] : typeof x === 'string' ? x.split('.')[0] : undefined;
        if (typeof id === 'string' && id in resources) out.add(id);
      } else if (k === 'Fn::Sub') {
        const text = Array.isArray(x) ? x[0] : x;
        if (typeof text === 'string') for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)) if (m[1] in resources) out.add(m[1]);
      }
      walk(x);
    }
  };
  walk(value);
  return [...out];
}

/**
 * The resources of `template` an upgrade must keep ({@link ReleasedResource}): every stateful one (isStatefulType), and
 * every resource a recorded one's replacing properties reference, transitively. Sorted by logical id.
 */
export function recordedResources(template: TemplateJson, schemas: ProviderSchemas): Record<string, ReleasedResource> {
  const resources = template.Resources ?? {};
  const referencedBy = new Map<string, Set<string>>();
  const queue = Object.keys(resources).filter((id) => isStatefulType(resources[id].Type));
  const seen = new Set(queue);
  const out: Record<string, ReleasedResource> = {};
  while (queue.length) {
    const id = queue.shift()!;
    const r = resources[id];
    const createOnly: Record<string, unknown> = {};
    for (const pointer of replacingProperties(r.Type, schemas)) {
      const value = valueAt(r.Properties, pointer);
      if (value === undefined) continue;
      createOnly[pointer] = value;
      for (const ref of referencedIds(value, resources)) {
        if (!referencedBy.has(ref)) referencedBy.set(ref, new Set());
        referencedBy.get(ref)!.add(id);
        if (!seen.has(ref)) { seen.add(ref); queue.push(ref); }
      }
    }
    const replacing = replacingProperties(r.Type, schemas);
    const supplement = immutableProperties(r.Type).filter((p) => !replacing.includes(p.pointer));
    out[id] = {
      type: r.Type,
      ...(Object.keys(createOnly).length ? { createOnly } : {}),
      ...(supplement.length ? { immutable: Object.fromEntries(supplement.map((p) => [p.pointer, valueAt(r.Properties, p.pointer) ?? null])) } : {}),
      ...(r.DeletionPolicy ? { DeletionPolicy: r.DeletionPolicy } : {}),
      ...(r.UpdateReplacePolicy ? { UpdateReplacePolicy: r.UpdateReplacePolicy } : {}),
    };
  }
  for (const [id, by] of referencedBy) if (!isStatefulType(resources[id].Type)) out[id] = { ...out[id], referencedBy: [...by].sort() };
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const json = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));

/**
 * What an upgrade from the released template to `current` would do to the released one's recorded resources, one line
 * each, empty when it keeps them all: a logical id gone (a removal, or a rename: CloudFormation removes the old one), a
 * type changed, a replacing property changed (its pointer, released and current values), a property of the supplement
 * changed (lib/immutable-properties.ts: one that replaces it, or one CloudFormation refuses to update, so the upgrade
 * fails and rolls back; compared when the record holds it), a DeletionPolicy or UpdateReplacePolicy changed. `name`
 * prefixes each line (`professional.template.json`).
 */
export function upgradeRisks(name: string, released: ReleasedTemplate, current: TemplateJson | undefined, schemas: ProviderSchemas): string[] {
  if (!current) return [`${name}: the template is gone, with ${Object.keys(released.resources).join(', ')}`];
  const now = current.Resources ?? {};
  const out: string[] = [];
  for (const [id, was] of Object.entries(released.resources)) {
    const r = now[id];
    const what = `${name} ${id} (${was.type})`;
    if (!r) { out.push(`${what}: its logical id is gone (removed, or renamed: CloudFormation removes the old resource)`); continue; }
    if (r.Type !== was.type) { out.push(`${what}: its type is now ${r.Type} (a replacement)`); continue; }
    const pointers = new Set([...Object.keys(was.createOnly ?? {}), ...replacingProperties(r.Type, schemas)]);
    for (const pointer of pointers) {
      const before = was.createOnly?.[pointer];
      const after = valueAt(r.Properties, pointer);
      if (json(before) !== json(after)) out.push(`${what}: ${pointer.replace('/properties/', '')} changes, which replaces it: ${json(before)} → ${json(after)}`);
    }
    for (const { pointer, effect } of immutableProperties(r.Type)) {
      if (pointers.has(pointer) || !was.immutable || !(pointer in was.immutable)) continue;
      const before = was.immutable[pointer] ?? undefined;
      const after = valueAt(r.Properties, pointer);
      if (json(before) === json(after)) continue;
      const does = effect === 'replaces' ? 'which replaces it' : 'which CloudFormation cannot update (the upgrade fails and rolls back)';
      out.push(`${what}: ${pointer.replace('/properties/', '')} changes, ${does}: ${json(before)} → ${json(after)}`);
    }
    for (const policy of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
      if (was[policy] !== r[policy]) out.push(`${what}: ${policy} changes: ${was[policy] ?? '(absent: Delete)'} → ${r[policy] ?? '(absent: Delete)'}`);
    }
  }
  return out;
}

/**
 * SHA-256 (hex) of a template's JSON with its blueprint version (in its Description and its `BlueprintVersion`
 * output) written as `<version>`: the same digest for the same content synthesized at any version.
 */
export function templateDigest(template: unknown, version: string): string {
  return createHash('sha256').update(JSON.stringify(template).split(version).join('<version>')).digest('hex');
}
