import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument, type Tags, YAMLMap } from 'yaml';
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
// is `{ "Fn::GetAtt": ["a", "b"] }` (`a.b.c`: `["a", "b.c"]`, the attribute `b.c`), every other `!Name v` is
// `{ "Fn::Name": v }`, in scalar, sequence or mapping form. A sequence or mapping stays a YAML node under the function's
// key, so the document's conversion resolves the aliases in it (and counts them against maxAliasCount) as anywhere else.
const INTRINSICS = ['Base64', 'Cidr', 'FindInMap', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub', 'Transform', 'And', 'Equals', 'If', 'Not', 'Or', 'Condition', 'GetAtt', 'Ref', 'ToJsonString', 'Length'];
function cfnTags(): Tags {
  const key = (name: string) => (name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`);
  return INTRINSICS.flatMap((name) => (['scalar', 'seq', 'map'] as const).map((nodeClass) => ({
    tag: `!${name}`,
    ...(nodeClass === 'scalar' ? {} : { collection: nodeClass }),
    resolve: (value: unknown, onError: (message: string) => void) => {
      if (nodeClass !== 'scalar') {
        const map = new YAMLMap();
        map.set(key(name), value);
        return map;
      }
      if (name !== 'GetAtt' || typeof value !== 'string') return { [key(name)]: value };
      const dot = value.indexOf('.');
      if (dot <= 0 || dot === value.length - 1) onError(`!GetAtt ${value} is not <resource>.<attribute> (CloudFormation's short form of Fn::GetAtt)`);
      return { [key(name)]: [value.slice(0, dot), value.slice(dot + 1)] };
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
 * CloudFormation's pseudo parameters (User Guide, "Pseudo parameters reference"): a `Ref` (or an `Fn::Sub` `${…}`) of
 * one needs no declaration.
 */
export const PSEUDO_PARAMETERS: ReadonlySet<string> = new Set(['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix']);

/**
 * A reference to a name the template does not declare: where it is (`Resources.Topic.Properties.Tags[0].Value`), how
 * (`Ref`, `Fn::GetAtt`, `Fn::Sub`, a resource's `DependsOn`; a condition's: `Fn::If`, `Condition`), and the name.
 */
export interface UnresolvedReference {
  readonly path: string;
  readonly via: 'Ref' | 'Fn::GetAtt' | 'Fn::Sub' | 'DependsOn' | 'Fn::If' | 'Condition';
  readonly name: string;
}

/**
 * The references of a template to names it does not declare, which CloudFormation refuses at CreateStack and
 * CreateChangeSet ("Template format error: Unresolved resource dependencies [X] in the Resources block of the
 * template"): a `Ref` of neither a parameter, a resource nor a pseudo parameter (PSEUDO_PARAMETERS); an `Fn::GetAtt` of
 * a resource not in `Resources` (list or `"A.B"` form); an `Fn::Sub` `${X}` or `${X.Attr}` of neither those nor one of
 * its own variables (`${!X}` is a literal); a resource's `DependsOn` (a name or a list) of a resource not in
 * `Resources`. Read in Resources, Outputs and Conditions; in Conditions a `Ref` of a
 * resource too ("Template format error: Unresolved dependencies [X]. Cannot reference resources in the Conditions block
 * of the template"). And a condition not under `Conditions` named by a resource's or an output's `Condition`, an
 * `Fn::If`, or a `{ Condition: X }` in Conditions ("Template format error: Condition X is not defined."). None for a
 * template with a `Transform` (AWS::Serverless and macros make resources and names of their own, known only after the
 * transform).
 */
export function unresolvedReferences(template: Record<string, unknown>): UnresolvedReference[] {
  if (template.Transform !== undefined) return [];
  const resources = isObject(template.Resources) ? template.Resources : {};
  const parameters = isObject(template.Parameters) ? template.Parameters : {};
  const conditions = isObject(template.Conditions) ? template.Conditions : {};
  let inConditions = false;
  const refable = (name: string) => (!inConditions && name in resources) || name in parameters || PSEUDO_PARAMETERS.has(name);
  const out: UnresolvedReference[] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`));
      return;
    }
    if (!isObject(value)) return;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof value.Ref === 'string') {
      if (!refable(value.Ref)) out.push({ path, via: 'Ref', name: value.Ref });
      return;
    }
    if (keys.length === 1 && keys[0] === 'Condition' && inConditions && typeof value.Condition === 'string') {
      if (!(value.Condition in conditions)) out.push({ path, via: 'Condition', name: value.Condition });
      return;
    }
    if (keys.length === 1 && keys[0] === 'Fn::If' && Array.isArray(value['Fn::If'])) {
      const [condition, ...rest] = value['Fn::If'] as unknown[];
      if (typeof condition === 'string' && !(condition in conditions)) out.push({ path, via: 'Fn::If', name: condition });
      rest.forEach((v, i) => walk(v, `${path}.Fn::If[${i + 1}]`));
      return;
    }
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const arg = value['Fn::GetAtt'];
      const target = Array.isArray(arg) ? arg[0] : typeof arg === 'string' ? arg.split('.')[0] : undefined;
      if (typeof target === 'string' && !(target in resources)) out.push({ path, via: 'Fn::GetAtt', name: target });
      if (Array.isArray(arg)) arg.slice(1).forEach((v, i) => walk(v, `${path}.Fn::GetAtt[${i + 1}]`));
      return;
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const arg = value['Fn::Sub'];
      const text = typeof arg === 'string' ? arg : Array.isArray(arg) && typeof arg[0] === 'string' ? arg[0] : undefined;
      const variables = Array.isArray(arg) && isObject(arg[1]) ? arg[1] : {};
      for (const [, inner] of (text ?? '').matchAll(/\$\{([^}]*)\}/g)) {
        if (inner.startsWith('!')) continue;
        const name = inner.trim();
        if (name in variables || refable(name)) continue;
        const dot = name.indexOf('.');
        if (dot > 0 && name.slice(0, dot) in resources) continue;
        out.push({ path, via: 'Fn::Sub', name });
      }
      if (Array.isArray(arg) && isObject(arg[1])) for (const [k, v] of Object.entries(arg[1])) walk(v, `${path}.Fn::Sub[1].${k}`);
      return;
    }
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
  };
  for (const section of ['Conditions', 'Resources', 'Outputs']) {
    inConditions = section === 'Conditions';
    if (isObject(template[section])) walk(template[section], section);
  }
  for (const [id, resource] of Object.entries(resources)) {
    const dependsOn = isObject(resource) ? resource.DependsOn : undefined;
    const path = `Resources.${id}.DependsOn`;
    if (typeof dependsOn === 'string' && !(dependsOn in resources)) out.push({ path, via: 'DependsOn', name: dependsOn });
    if (Array.isArray(dependsOn)) dependsOn.forEach((name, i) => { if (typeof name === 'string' && !(name in resources)) out.push({ path: `${path}[${i}]`, via: 'DependsOn', name }); });
  }
  for (const section of ['Resources', 'Outputs']) {
    for (const [id, item] of Object.entries(isObject(template[section]) ? template[section] : {})) {
      if (isObject(item) && typeof item.Condition === 'string' && !(item.Condition in conditions)) out.push({ path: `${section}.${id}.Condition`, via: 'Condition', name: item.Condition });
    }
  }
  return out;
}

/** A problem of a customization: its text (without the key path), and the key under the customization it is about (`templateFile` unless said). */
export interface CustomizationProblem {
  readonly text: string;
  /** Key under `tiers.<tier>.accountCustomizations[<i>]`: `templateFile`, `parameters`, `parameters.<name>`. @default templateFile */
  readonly key?: string;
}

/** `word` for one, `word`+s for several: `parameter Colour is`, `parameters Colour, Size are`. */
const names = (list: readonly string[], singular: string, plural: string) => `${list.length === 1 ? singular : plural} ${list.join(', ')}`;

/**
 * Problems of one customization's template (each a line, without the key path): not a mapping with `Resources`, over
 * CloudFormation's size, resource or parameter quotas, a nested stack (the catalog publishes no template of its own
 * for it), an `AWS::IAM::Role` named like Tessera's roles (reservedRoleNameProblem), a reference to a name the
 * template does not declare (unresolvedReferences: CloudFormation's "Unresolved resource dependencies"), config
 * parameters the template does not declare (CloudFormation: "Parameters: [X] do not exist in the template"; about
 * `parameters.<name>`), and declared parameters without a `Default` that the config does not give ("Parameters: [X]
 * must have values"; about `parameters`).
 */
export function customizationTemplateProblems(template: unknown, entry: AccountCustomization, roles: Parameters<typeof reservedRoleNameProblem>[1]): CustomizationProblem[] {
  if (!isObject(template)) return [{ text: 'is not a CloudFormation template: its top is not a mapping' }];
  const resources = template.Resources;
  if (!isObject(resources) || Object.keys(resources).length === 0) return [{ text: 'is not a CloudFormation template: it has no Resources (CloudFormation requires at least one)' }];
  const problems: CustomizationProblem[] = [];
  const add = (text: string, key?: string) => problems.push(key ? { text, key } : { text });
  const bytes = Buffer.byteLength(JSON.stringify(template));
  if (bytes > MAX_TEMPLATE_URL_BYTES) add(`is ${bytes.toLocaleString('en-US')} bytes as published JSON, over CloudFormation's template body size from S3 (1 MB, checked as ${MAX_TEMPLATE_URL_BYTES.toLocaleString('en-US')} bytes): split it into several customizations`);
  const count = Object.keys(resources).length;
  if (count > MAX_TEMPLATE_RESOURCES) add(`declares ${count} resources, over CloudFormation's ${MAX_TEMPLATE_RESOURCES} per template: split it into several customizations`);
  const declared = isObject(template.Parameters) ? template.Parameters : {};
  if (Object.keys(declared).length > MAX_TEMPLATE_PARAMETERS) add(`declares ${Object.keys(declared).length} parameters, over CloudFormation's ${MAX_TEMPLATE_PARAMETERS} per template`);
  for (const [id, resource] of Object.entries(resources)) {
    const type = isObject(resource) ? resource.Type : undefined;
    if (typeof type !== 'string') {
      add(`resource ${id} has no Type`);
      continue;
    }
    if (type === 'AWS::CloudFormation::Stack') add(`resource ${id} is a nested stack (AWS::CloudFormation::Stack): its template would not be published with the catalog, and the change-set guard does not read nested change sets; make it a customization of its own`);
    if (type === 'AWS::IAM::Role') {
      const name = literalName(isObject(resource) && isObject(resource.Properties) ? resource.Properties.RoleName : undefined);
      const why = name !== undefined ? reservedRoleNameProblem(name, roles) : undefined;
      if (why) add(`resource ${id} (AWS::IAM::Role) has RoleName "${name}", which ${why}: Tessera relies on those names being its roles'; choose another name`);
    }
  }
  for (const r of unresolvedReferences(template)) {
    const block = r.path.split('.')[0];
    if (r.via === 'Fn::If' || r.via === 'Condition') {
      add(`refers to condition ${r.name} at ${r.path} (${r.via}), which is not a condition of the template (under Conditions): CloudFormation refuses it at CreateStack ("Template format error: Condition ${r.name} is not defined.")`);
    } else if (block === 'Conditions' && r.via === 'Ref' && r.name in resources) {
      add(`refers to resource ${r.name} at ${r.path} (Ref): a condition can refer to parameters only, not resources: CloudFormation refuses it at CreateStack ("Template format error: Unresolved dependencies [${r.name}]. Cannot reference resources in the Conditions block of the template")`);
    } else {
      const what = r.via === 'Fn::GetAtt' || r.via === 'DependsOn' ? 'a resource' : 'a parameter, a resource or a pseudo parameter (AWS::Region, AWS::AccountId, …)';
      add(`refers to ${r.name} at ${r.path} (${r.via}), which is not ${what} of the template: CloudFormation refuses it at CreateStack ("Template format error: Unresolved resource dependencies [${r.name}] in the ${block} block of the template")`);
    }
  }
  const given = entry.parameters ?? {};
  const declaredList = Object.keys(declared).join(', ') || 'none';
  for (const p of Object.keys(given).filter((n) => !(n in declared))) {
    add(`parameter ${p} is not declared in the template (CloudFormation refuses an undeclared parameter); it declares ${declaredList}`, `parameters.${p}`);
  }
  const missing = Object.entries(declared).filter(([p, d]) => !(p in given) && !(isObject(d) && 'Default' in d)).map(([p]) => p);
  if (missing.length) add(`${names(missing, 'parameter', 'parameters')} ${missing.length === 1 ? 'has' : 'have'} no Default in the template and no value under parameters (CloudFormation: "must have values")`, 'parameters');
  return problems;
}

/**
 * Reads and checks every account customization of `config` (synth: lib/tessera-app.ts publishes what this returns in
 * the blueprint catalog). `templateFile` resolves against `baseDir`.
 * @param baseDir @default process.cwd() - the directory `cdk synth` runs in
 * @param source the config file (or sources) the customizations come from, named in the error as other config errors
 *   name theirs (`Invalid Tessera config (tessera.config.yaml; account customizations)`) @default - none named
 * @throws ConfigError naming each problem with its key path (`tiers.<tier>.accountCustomizations[<i>].templateFile`,
 *   or `….parameters.<name>` / `….parameters` for a parameter the template does not declare or needs) and the template
 *   file: a file that cannot be read or parsed, and customizationTemplateProblems
 */
export function readAccountCustomizations(
  config: { tiers: Record<string, { accountCustomizations?: readonly AccountCustomization[] }>; roles: Parameters<typeof reservedRoleNameProblem>[1] },
  baseDir = process.cwd(),
  source?: string,
): CustomizationTemplate[] {
  const out: CustomizationTemplate[] = [];
  const problems: string[] = [];
  for (const [tier, t] of Object.entries(config.tiers)) {
    (t.accountCustomizations ?? []).forEach((entry, i) => {
      const base = `tiers.${tier}.accountCustomizations[${i}]`;
      const at = `${base}.templateFile`;
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
        problems.push(...found.map((p) => (p.key && p.key !== 'templateFile' ? `${base}.${p.key}: ${p.text} (template "${entry.templateFile}")` : `${at}: "${entry.templateFile}" ${p.text}`)));
        return;
      }
      out.push({ tier, name: entry.name, file: customizationFileName(tier, entry.name), template: template as Record<string, unknown> });
    });
  }
  if (problems.length) throw new ConfigError(source ? `${source}; account customizations` : 'account customizations', problems);
  return out;
}
