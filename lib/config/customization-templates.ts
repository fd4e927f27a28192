import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument, type Tags } from 'yaml';
import { TENANT_DATA_ROLE_NAME } from '../tenant-naming.js';
import { customizationFileName, type AccountCustomization } from './account-customizations.js';
import { ConfigError } from './config-error.js';

/**
 * The synth side of account customizations (lib/config/account-customizations.ts): each template read, parsed and
 * checked against CloudFormation's rules and Tessera's, for the catalog. Apart from the schema so that the Lambdas,
 * which parse the config, bundle neither the file system reads nor the YAML parser.
 */

/**
 * Template body size CloudFormation takes from an S3 object (CreateStack / CreateChangeSet `TemplateURL`): 1 MB in the
 * CloudFormation User Guide's quotas ("Template body size in an Amazon S3 object"), checked as 1,000,000 bytes, the
 * smaller reading of a megabyte, on the JSON the catalog publishes.
 */
export const MAX_TEMPLATE_URL_BYTES = 1_000_000;
/** Resources a template may declare (CloudFormation quotas: 500). */
export const MAX_TEMPLATE_RESOURCES = 500;
/** Parameters a template may declare (CloudFormation quotas: 200). */
export const MAX_TEMPLATE_PARAMETERS = 200;

/** A customization template read and checked at synth, as the catalog publishes it. */
export interface CustomizationTemplate {
  readonly tier: string;
  readonly name: string;
  /** Catalog file name under `blueprints/<version>/` (customizationFileName). */
  readonly file: string;
  /** The template as JSON (YAML converted, short-form tags expanded). */
  readonly template: Record<string, unknown>;
}

// CloudFormation's YAML short forms (User Guide, "Intrinsic function reference"): `!Ref x` is `{ Ref: x }`, `!GetAtt a.b`
// is `{ "Fn::GetAtt": ["a", "b"] }`, every other `!Name v` is `{ "Fn::Name": v }`, in scalar, sequence or mapping form.
const INTRINSICS = ['Base64', 'Cidr', 'FindInMap', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub', 'Transform', 'And', 'Equals', 'If', 'Not', 'Or', 'Condition', 'GetAtt', 'Ref', 'ToJsonString', 'Length'];
function cfnTags(): Tags {
  const key = (name: string) => (name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`);
  return INTRINSICS.flatMap((name) => (['scalar', 'seq', 'map'] as const).map((nodeClass) => ({
    tag: `!${name}`,
    ...(nodeClass === 'scalar' ? {} : { collection: nodeClass }),
    resolve: (value: unknown) => {
      const v = value && typeof value === 'object' && 'toJSON' in value ? (value as { toJSON(): unknown }).toJSON() : value;
      return { [key(name)]: name === 'GetAtt' && typeof v === 'string' ? [v.slice(0, v.indexOf('.')), v.slice(v.indexOf('.') + 1)] : v };
    },
  }))) as unknown as Tags;
}

/**
 * The YAML 1.1 tags CloudFormation does not support (User Guide, "CloudFormation template format", Specifications: "The
 * binary, omap, pairs, set, and timestamp tags", "Hash merges"): left out, so that a date stays the string it is to
 * CloudFormation.
 */
const UNSUPPORTED_YAML_TAGS = new Set(['binary', 'omap', 'pairs', 'set', 'timestamp', 'merge'].map((t) => `tag:yaml.org,2002:${t}`));

/**
 * Parses a template's text (JSON is YAML) as CloudFormation reads it: YAML 1.1 ("CloudFormation supports the YAML
 * Version 1.1 specification", with the exceptions of UNSUPPORTED_YAML_TAGS), so `yes`/`no`/`on`/`off` are booleans and
 * `0755` is octal (493), as CloudFormation would deploy them (YAML 1.2 read them as the strings "yes" and the number
 * 755, published so in the catalog's JSON), and its short-form tags.
 * @throws Error with the parser's message
 */
export function parseTemplateText(text: string): unknown {
  const doc = parseDocument(text, {
    version: '1.1', uniqueKeys: true,
    customTags: (tags) => [...tags.filter((t) => !UNSUPPORTED_YAML_TAGS.has((t as { tag: string }).tag)), ...cfnTags()],
  });
  if (doc.errors.length) throw new Error(doc.errors[0].message);
  return doc.toJS({ maxAliasCount: 100 });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Role names a customization may not give an `AWS::IAM::Role` (a literal `RoleName`, or the literal start of an
 * `Fn::Sub`): Tessera's own, whose names it relies on being its (lib/tenant-naming.ts, config `roles`): every
 * `tessera-…` role (the tenant roles `tessera-<tenant>-<purpose>`, the DR service roles, `tessera-tenant-data`), the
 * provisioning, break-glass and blueprint execution roles. A second role of that name fails the stack at best; in an
 * account where the first is gone it would stand in for Tessera's.
 */
export function reservedRoleNameProblem(roleName: string, roles: { provisioningRoleName: string; breakGlassRoleName: string; blueprintExecutionRoleName: string }): string | undefined {
  if (/^tessera-/i.test(roleName)) return `starts with "tessera-", the prefix of Tessera's tenant roles (tessera-<tenant>-<purpose>, ${TENANT_DATA_ROLE_NAME})`;
  const own = { provisioningRoleName: roles.provisioningRoleName, breakGlassRoleName: roles.breakGlassRoleName, blueprintExecutionRoleName: roles.blueprintExecutionRoleName };
  const named = Object.entries(own).find(([, n]) => n.toLowerCase() === roleName.toLowerCase());
  return named ? `is the platform's roles.${named[0]} (IAM role names are case-insensitive)` : undefined;
}

/** The literal name a RoleName value gives (a string, or the text of an Fn::Sub before its first `${`); undefined when it is computed. */
function literalName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const sub = isObject(value) ? value['Fn::Sub'] : undefined;
  const text = typeof sub === 'string' ? sub : Array.isArray(sub) && typeof sub[0] === 'string' ? sub[0] : undefined;
  return text?.split('${')[0];
}

/**
 * Problems of one customization's template (each a line, without the key path): not a mapping with `Resources`, over
 * CloudFormation's size, resource or parameter quotas, a nested stack (the catalog publishes no template of its own
 * for it), an `AWS::IAM::Role` named like Tessera's roles (reservedRoleNameProblem), config parameters the template
 * does not declare (CloudFormation: "Parameters: [X] do not exist in the template"), and declared parameters without
 * a `Default` that the config does not give ("Parameters: [X] must have values").
 */
export function customizationTemplateProblems(template: unknown, entry: AccountCustomization, roles: Parameters<typeof reservedRoleNameProblem>[1]): string[] {
  if (!isObject(template)) return ['is not a CloudFormation template: its top is not a mapping'];
  const resources = template.Resources;
  if (!isObject(resources) || Object.keys(resources).length === 0) return ['is not a CloudFormation template: it has no Resources (CloudFormation requires at least one)'];
  const problems: string[] = [];
  const bytes = Buffer.byteLength(JSON.stringify(template));
  if (bytes > MAX_TEMPLATE_URL_BYTES) problems.push(`is ${bytes.toLocaleString('en-US')} bytes as published JSON, over CloudFormation's template body size from S3 (1 MB, checked as ${MAX_TEMPLATE_URL_BYTES.toLocaleString('en-US')} bytes): split it into several customizations`);
  const count = Object.keys(resources).length;
  if (count > MAX_TEMPLATE_RESOURCES) problems.push(`declares ${count} resources, over CloudFormation's ${MAX_TEMPLATE_RESOURCES} per template: split it into several customizations`);
  const declared = isObject(template.Parameters) ? template.Parameters : {};
  if (Object.keys(declared).length > MAX_TEMPLATE_PARAMETERS) problems.push(`declares ${Object.keys(declared).length} parameters, over CloudFormation's ${MAX_TEMPLATE_PARAMETERS} per template`);
  for (const [id, resource] of Object.entries(resources)) {
    const type = isObject(resource) ? resource.Type : undefined;
    if (typeof type !== 'string') {
      problems.push(`resource ${id} has no Type`);
      continue;
    }
    if (type === 'AWS::CloudFormation::Stack') problems.push(`resource ${id} is a nested stack (AWS::CloudFormation::Stack): its template would not be published with the catalog, and the change-set guard does not read nested change sets; make it a customization of its own`);
    if (type === 'AWS::IAM::Role') {
      const name = literalName(isObject(resource) && isObject(resource.Properties) ? resource.Properties.RoleName : undefined);
      const why = name !== undefined ? reservedRoleNameProblem(name, roles) : undefined;
      if (why) problems.push(`resource ${id} (AWS::IAM::Role) has RoleName "${name}", which ${why}: Tessera relies on those names being its roles'; choose another name`);
    }
  }
  const given = entry.parameters ?? {};
  const unknown = Object.keys(given).filter((p) => !(p in declared));
  if (unknown.length) problems.push(`parameters ${unknown.join(', ')} are not declared in the template (CloudFormation refuses an undeclared parameter); it declares ${Object.keys(declared).join(', ') || 'none'}`);
  const missing = Object.entries(declared).filter(([p, d]) => !(p in given) && !(isObject(d) && 'Default' in d)).map(([p]) => p);
  if (missing.length) problems.push(`parameters ${missing.join(', ')} have no Default in the template and no value under parameters (CloudFormation: "must have values")`);
  return problems;
}

/**
 * Reads and checks every account customization of `config` (synth: lib/tessera-app.ts publishes what this returns in
 * the blueprint catalog). `templateFile` resolves against `baseDir`.
 * @param baseDir @default process.cwd() - the directory `cdk synth` runs in
 * @throws ConfigError naming each problem with its key path (`tiers.<tier>.accountCustomizations[<i>].templateFile`):
 *   a file that cannot be read or parsed, and customizationTemplateProblems
 */
export function readAccountCustomizations(
  config: { tiers: Record<string, { accountCustomizations?: readonly AccountCustomization[] }>; roles: Parameters<typeof reservedRoleNameProblem>[1] },
  baseDir = process.cwd(),
): CustomizationTemplate[] {
  const out: CustomizationTemplate[] = [];
  const problems: string[] = [];
  for (const [tier, t] of Object.entries(config.tiers)) {
    (t.accountCustomizations ?? []).forEach((entry, i) => {
      const at = `tiers.${tier}.accountCustomizations[${i}].templateFile`;
      const path = resolve(baseDir, entry.templateFile);
      let text: string;
      try {
        // A quick refusal of a file far over the quota before it is read (a YAML file grows little as JSON).
        if (statSync(path).size > 4 * MAX_TEMPLATE_URL_BYTES) throw new Error(`${statSync(path).size} bytes, far over CloudFormation's 1 MB template body`);
        text = readFileSync(path, 'utf8');
      } catch (e) {
        problems.push(`${at}: "${entry.templateFile}" cannot be read (${path}): ${(e as Error).message}`);
        return;
      }
      let template: unknown;
      try {
        template = parseTemplateText(text);
      } catch (e) {
        problems.push(`${at}: "${entry.templateFile}" is not valid JSON or YAML: ${(e as Error).message}`);
        return;
      }
      const found = customizationTemplateProblems(template, entry, config.roles);
      if (found.length) {
        problems.push(...found.map((p) => `${at}: "${entry.templateFile}" ${p}`));
        return;
      }
      out.push({ tier, name: entry.name, file: customizationFileName(tier, entry.name), template: template as Record<string, unknown> });
    });
  }
  if (problems.length) throw new ConfigError('account customizations', problems);
  return out;
}
