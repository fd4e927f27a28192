/**
 * What `cdk deploy` of a later version must keep of the platform stacks a released version deployed (TesseraOrganization,
 * TesseraPlatform and its nested stacks, TesseraPlatformDr, and the workload account's TesseraAccountBaseline and
 * TesseraWorkloadProvisioning), which CloudFormation updates with no change-set guard:
 * - every **custom-named** resource (a replacing property, `createOnlyProperties` of cfn-lint's schemas, holding a name
 *   the template fixes: no reference to another resource of the template), with the values of all its replacing
 *   properties. A change to one of them replaces the resource, and "You can't perform an update that causes a
 *   custom-named resource to be replaced" (CloudFormation Template Reference, "Name type"; the update fails with
 *   "CloudFormation cannot update a stack when a custom-named resource requires replacing") and rolls back. Its logical id gone while a resource of the same type and name is in any platform stack of the new version
 *   (renamed, or moved into a nested stack) makes CloudFormation create the new one before it deletes the old one, and
 *   the create fails with AlreadyExists;
 * - every **export** (name → value): a changed value or a removed export that another stack imports fails the update
 *   ("You can't modify or remove an output value that is referenced by another stack", CloudFormation Template
 *   Reference, "Fn::ImportValue"). No Tessera stack imports another's today (cross-region values go through SSM), so an
 *   export of a released version is a contract with stacks outside Tessera.
 * A named resource removed for good is not a risk here (CloudFormation deletes it; the stores among them are
 * lib/released-blueprints.ts's).
 *
 * test/fixtures/released-blueprints/<version>.json holds them under `platformStacks` (since 2026-12-06, also for 0.2.0 and
 * 0.3.0: scripts/record-released-blueprints.ts `--platform-stacks-from`), and test/infra/released-blueprints.test.ts
 * compares the checkout's platform stacks with them.
 */
import { NestedStack, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { ProviderSchemas } from './preflight/provider-schemas.js';
import { valueAt, type TemplateJson } from './released-blueprints.js';

/** A template as far as this module reads it: its resources and its outputs. */
export interface PlatformTemplateJson extends TemplateJson {
  readonly Parameters?: Record<string, unknown>;
  readonly Outputs?: Record<string, { Value?: unknown; Export?: { Name?: unknown } }>;
}

/** One custom-named resource of a released platform stack. */
export interface ReleasedNamedResource {
  /** CloudFormation type, e.g. `AWS::IAM::Role`. */
  readonly type: string;
  /** JSON pointer of each replacing property the template sets (`/properties/RoleName`) → its value as synthesized. */
  readonly createOnly: Record<string, unknown>;
}

/** A released platform stack: its custom-named resources by logical id and its exports. */
export interface ReleasedPlatformStack {
  readonly named: Record<string, ReleasedNamedResource>;
  /** Export name (as synthesized, JSON of an intrinsic when not a string) → the exported value. */
  readonly exports: Record<string, unknown>;
}

/** Config name → platform stack name ({@link platformStackTemplates}) → what it holds. */
export type ReleasedPlatformStacks = Record<string, Record<string, ReleasedPlatformStack>>;

/** A replacing property that names the resource itself (`RoleName`, `DBInstanceIdentifier`, `AliasName`), not another one. */
const NAME_POINTER = /^\/properties\/[A-Za-z]*(Name|Identifier)$/;

/**
 * Whether `value` references an id for which `isId` holds (Ref, Fn::GetAtt, `${Id}` in Fn::Sub). A predicate, not an
 * object of the ids: a platform stack holds hundreds of resources, and a copy of them for each resource made
 * {@link platformUpdateRisks}'s scan of every current platform stack quadratic in their resources (~12 s of CPU of
 * test/infra/released-blueprints.test.ts's 15 s).
 */
function referencesResource(value: unknown, isId: (id: string) => boolean): boolean {
  if (Array.isArray(value)) return value.some((v) => referencesResource(v, isId));
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, x]) => {
    if (k === 'Ref') return typeof x === 'string' && isId(x);
    if (k === 'Fn::GetAtt') { const id = Array.isArray(x) ? x[0] : typeof x === 'string' ? x.split('.')[0] : undefined; return typeof id === 'string' && isId(id); }
    if (k === 'Fn::Sub') {
      const text = Array.isArray(x) ? x[0] : x;
      if (typeof text === 'string' && [...text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)].some((m) => isId(m[1]))) return true;
    }
    return referencesResource(x, isId);
  });
}

/** A name-like property that names another resource (a Lambda permission's `FunctionName`), unless the type is that resource. */
const OTHERS_NAME = /^\/properties\/(Function|Cluster|Service|EventBus)Name$/;

/**
 * The name (pointer → value) a resource gives itself: its name-like replacing properties that reference no resource or
 * parameter of its template (a nested stack's parameters carry the parent's resources).
 */
function ownNames(r: { Type: string; Properties?: Record<string, unknown> }, template: PlatformTemplateJson, schemas: ProviderSchemas): Record<string, unknown> {
  const parameters = template.Parameters ?? {};
  const resources = template.Resources ?? {};
  // `in` on both, as on one object spread from them (the ids: own keys, and what a plain object inherits).
  const isId = (id: string) => id in parameters || id in resources;
  const out: Record<string, unknown> = {};
  for (const pointer of schemas.createOnly(r.Type).filter((p) => NAME_POINTER.test(p))) {
    const other = OTHERS_NAME.exec(pointer);
    if (other && !r.Type.endsWith(`::${other[1]}`)) continue;
    const value = valueAt(r.Properties, pointer);
    if (value !== undefined && !referencesResource(value, isId)) out[pointer] = value;
  }
  return out;
}

/** The custom-named resources ({@link ReleasedNamedResource}, sorted by logical id) and the exports of a platform stack's template. */
export function recordedPlatformStack(template: PlatformTemplateJson, schemas: ProviderSchemas): ReleasedPlatformStack {
  const resources = template.Resources ?? {};
  const named: Record<string, ReleasedNamedResource> = {};
  for (const id of Object.keys(resources).sort()) {
    const r = resources[id];
    if (r.Type.startsWith('Custom::') || !Object.keys(ownNames(r, template, schemas)).length) continue;
    const createOnly = Object.fromEntries(schemas.createOnly(r.Type).map((p) => [p, valueAt(r.Properties, p)]).filter(([, v]) => v !== undefined));
    named[id] = { type: r.Type, createOnly };
  }
  const exports = Object.fromEntries(Object.values(template.Outputs ?? {}).filter((o) => o.Export)
    .map((o) => [typeof o.Export!.Name === 'string' ? o.Export!.Name : JSON.stringify(o.Export!.Name), o.Value])
    .sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)));
  return { named, exports };
}

const json = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));

/**
 * What `cdk deploy` of `current` (platform stack name → template, every platform stack of the new version) would refuse
 * of the released platform stack `name`, one line each, empty when nothing: a custom-named resource whose type or a
 * replacing property changes (a replacement CloudFormation refuses), one whose logical id is gone while a resource of
 * its type and name is in a platform stack of `current` (AlreadyExists), an export whose value changes or that is gone.
 */
export function platformUpdateRisks(name: string, released: ReleasedPlatformStack, current: Readonly<Record<string, PlatformTemplateJson>>, schemas: ProviderSchemas): string[] {
  const template = current[name];
  if (!template) return [`${name}: the stack is gone (cdk deploy no longer updates it; its resources stay as deployed)`];
  const now = template.Resources ?? {};
  const out: string[] = [];
  const namesNow = new Map<string, string>();
  for (const [stack, t] of Object.entries(current)) {
    for (const [id, r] of Object.entries(t.Resources ?? {})) {
      for (const [pointer, value] of Object.entries(ownNames(r, t, schemas))) namesNow.set(`${r.Type} ${pointer} ${json(value)}`, `${stack} ${id}`);
    }
  }
  for (const [id, was] of Object.entries(released.named)) {
    const what = `${name} ${id} (${was.type})`;
    const r = now[id];
    if (!r) {
      const again = Object.entries(was.createOnly).filter(([p]) => NAME_POINTER.test(p)).map(([p, v]) => [p, v, namesNow.get(`${was.type} ${p} ${json(v)}`)] as const).find(([, , at]) => at);
      if (again) out.push(`${what}: its logical id is gone and ${again[2]} has its ${again[0].replace('/properties/', '')} ${json(again[1])}: CloudFormation creates that one before it deletes this one (AlreadyExists)`);
      continue;
    }
    if (r.Type !== was.type) { out.push(`${what}: its type is now ${r.Type}: a custom-named resource CloudFormation cannot replace`); continue; }
    for (const pointer of new Set([...Object.keys(was.createOnly), ...schemas.createOnly(r.Type)])) {
      const before = was.createOnly[pointer];
      const after = valueAt(r.Properties, pointer);
      if (json(before) !== json(after)) out.push(`${what}: ${pointer.replace('/properties/', '')} changes, which replaces a custom-named resource (CloudFormation refuses): ${json(before)} → ${json(after)}`);
    }
  }
  const exportsNow = recordedPlatformStack(template, schemas).exports;
  for (const [exportName, value] of Object.entries(released.exports)) {
    if (!(exportName in exportsNow)) out.push(`${name} export ${exportName}: gone (refused while another stack imports it)`);
    else if (json(exportsNow[exportName]) !== json(value)) out.push(`${name} export ${exportName}: its value changes (refused while another stack imports it): ${json(value)} → ${json(exportsNow[exportName])}`);
  }
  return out;
}

/** The stacks of a built app that `cdk deploy` updates in place, as `buildTesseraApp` returns them (any version's). */
export interface PlatformStacksOfApp {
  readonly organization: Stack;
  readonly platform: Stack;
  readonly platformDr?: Stack;
  readonly accountBaseline: Stack;
  readonly workloadProvisioning: Stack;
}

/**
 * Stack name → template of every platform stack of an app: TesseraOrganization, TesseraPlatform, each of its nested
 * stacks as `TesseraPlatform/<id>` (`Operations`, `FunctionPolicies`, `EventRules`, `NamespaceKubectl`: whichever the version has),
 * TesseraPlatformDr (with `platformDisasterRecovery`), TesseraAccountBaseline and TesseraWorkloadProvisioning.
 */
export function platformStackTemplates(app: PlatformStacksOfApp): Record<string, PlatformTemplateJson> {
  const json = (s: Stack) => Template.fromStack(s).toJSON() as PlatformTemplateJson;
  const stacks: Stack[] = [app.organization, app.platform, ...(app.platformDr ? [app.platformDr] : []), app.accountBaseline, app.workloadProvisioning];
  const nested = app.platform.node.findAll().filter((c): c is NestedStack => NestedStack.isNestedStack(c));
  return Object.fromEntries([
    ...stacks.map((s) => [s.node.id, json(s)] as const),
    ...nested.map((s) => [`${app.platform.node.id}/${s.node.id}`, json(s)] as const),
  ].sort(([a], [b]) => (a < b ? -1 : 1)));
}
