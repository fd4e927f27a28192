import type { MotoCloudFormation } from './moto-cloudformation.js';
import { TRANSFORMATIONS } from './moto-transformations.js';
import { getAttStandIn, refStandIn, type CfnResource, type CfnValue } from './stand-ins.js';

/**
 * The moto stand-in of a real blueprint, derived from its synthesized template (never written by
 * hand): the resources whose type moto's CloudFormation cannot create are removed, and nothing
 * else is. Every reference to a removed resource (`Ref`, `Fn::GetAtt`) and every attribute moto
 * does not implement is replaced by a stand-in value of the shape AWS would return
 * (stand-ins.ts), so the resources and outputs that depend on them stay in the template;
 * `DependsOn` entries naming a removed resource are dropped. The few properties moto reads
 * differently from CloudFormation are rewritten, each listed with its reason in moto-transformations.ts.
 * The report says exactly what was done, so a change in the real blueprint shows up in a test.
 */

export interface CfnTemplate {
  Description?: string;
  Parameters?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: CfnValue; [key: string]: unknown }>;
  [key: string]: unknown;
}

export interface DerivationReport {
  /** Resources moto cannot create, removed: `logicalId (Type)`. */
  removed: string[];
  /** References replaced by stand-ins: `where: reference (why)`, where = the referring resource or `Outputs.<name>`. */
  substituted: string[];
  /** `DependsOn` entries dropped: `resource -> removed resource`. */
  dependsOnDropped: string[];
  /** Properties rewritten for moto (moto-transformations.ts): `logicalId.what`. */
  transformed: string[];
}

/** Every `[Type, Attribute]` a template reads with `Fn::GetAtt` (the question to ask moto). */
export function attributesRead(template: CfnTemplate): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if ('Fn::GetAtt' in o) {
      const [target, attribute] = getAttParts(o['Fn::GetAtt']);
      const resource = template.Resources[target];
      if (resource) pairs.push([resource.Type, attribute]);
    }
    Object.values(o).forEach(visit);
  };
  visit(template.Resources);
  visit(template.Outputs ?? {});
  return pairs;
}

function getAttParts(v: unknown): [string, string] {
  if (typeof v === 'string') {
    const dot = v.indexOf('.');
    return [v.slice(0, dot), v.slice(dot + 1)];
  }
  const [target, attribute] = v as [string, unknown];
  if (typeof attribute !== 'string') throw new Error(`Fn::GetAtt ${target} with a computed attribute name is not supported by the derivation`);
  return [target, attribute];
}

/** Derives the moto stand-in of `template`; the input is not modified. */
export function deriveMotoBlueprint(template: CfnTemplate, moto: MotoCloudFormation): { template: CfnTemplate; report: DerivationReport } {
  const source = structuredClone(template);
  const removedIds = new Set(Object.entries(source.Resources).filter(([, r]) => !moto.creates(r.Type)).map(([id]) => id));
  const substituted = new Set<string>();
  const dependsOnDropped: string[] = [];
  const transformed: string[] = [];

  const rewrite = (value: CfnValue, where: string): CfnValue => {
    if (Array.isArray(value)) return value.map((v) => rewrite(v, where));
    if (!value || typeof value !== 'object') return value;
    const o = value as Record<string, CfnValue>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof o.Ref === 'string' && removedIds.has(o.Ref)) {
      substituted.add(`${where}: Ref ${o.Ref} (removed ${source.Resources[o.Ref].Type})`);
      return refStandIn(source.Resources[o.Ref], o.Ref, source.Resources);
    }
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [target, attribute] = getAttParts(o['Fn::GetAtt']);
      const resource = source.Resources[target];
      if (resource && removedIds.has(target)) {
        substituted.add(`${where}: ${target}.${attribute} (removed ${resource.Type})`);
        return getAttStandIn(resource, target, attribute, source.Resources);
      }
      if (resource && !moto.hasAttribute(resource.Type, attribute)) {
        substituted.add(`${where}: ${target}.${attribute} (attribute moto lacks on ${resource.Type})`);
        return getAttStandIn(resource, target, attribute, source.Resources);
      }
      return value;
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const text = JSON.stringify(o['Fn::Sub']);
      for (const id of removedIds) {
        if (text.includes(`\${${id}}`) || text.includes(`\${${id}.`)) throw new Error(`${where}: Fn::Sub names removed resource ${id}; the derivation has no rewrite for it`);
      }
    }
    return Object.fromEntries(keys.map((k) => [k, rewrite(o[k], where)]));
  };

  const resources: Record<string, CfnResource> = {};
  for (const [id, resource] of Object.entries(source.Resources)) {
    if (removedIds.has(id)) continue;
    const out = rewrite(resource, id) as CfnResource;
    if (out.DependsOn !== undefined) {
      const deps = [out.DependsOn].flat();
      const kept = deps.filter((d) => !removedIds.has(d));
      deps.filter((d) => removedIds.has(d)).forEach((d) => dependsOnDropped.push(`${id} -> ${d}`));
      if (kept.length) out.DependsOn = kept;
      else delete out.DependsOn;
    }
    for (const t of TRANSFORMATIONS) {
      if (out.Type === t.type && t.apply(out, id)) transformed.push(`${id}.${t.what}`);
    }
    resources[id] = out;
  }
  const outputs = source.Outputs
    ? Object.fromEntries(Object.entries(source.Outputs).map(([name, o]) => [name, rewrite(o, `Outputs.${name}`) as { Value: CfnValue }]))
    : undefined;

  return {
    template: { ...source, Resources: resources, ...(outputs ? { Outputs: outputs } : {}) },
    report: {
      removed: [...removedIds].map((id) => `${id} (${source.Resources[id].Type})`).sort(),
      substituted: [...substituted].sort(),
      dependsOnDropped: dependsOnDropped.sort(),
      transformed: transformed.sort(),
    },
  };
}
