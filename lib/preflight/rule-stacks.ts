/**
 * The stacks a service rule reads, each with the label its violations carry: the tier blueprint (no label), the
 * tier's other stacks (`<blueprint>: `) and, when the rule reads it, the platform stack (`TesseraPlatform: `).
 */
import { valueAt, type InstantiatedResource, type InstantiatedTemplate } from './instantiate.js';
import type { RuleContext } from './service-rules.js';

/** One stack a rule reads, and the prefix of its violations. */
export interface LabelledStack {
  readonly label: string;
  readonly inst: InstantiatedTemplate;
}

/**
 * Every stack of the tier (the tier blueprint, then `ctx.alsoDeployed`) and, with `platform`, the platform stack
 * (`ctx.platform`, TesseraPlatform with its nested stacks), each labelled.
 * @param platform also the platform stack, when the context has one
 */
export function stacksOf(ctx: RuleContext, { platform = false }: { readonly platform?: boolean } = {}): LabelledStack[] {
  return [
    { label: '', inst: ctx.inst },
    ...(ctx.alsoDeployed ?? []).map((d) => ({ label: `${d.blueprint}: `, inst: d.inst })),
    ...(platform && ctx.platform ? [{ label: 'TesseraPlatform: ', inst: ctx.platform }] : []),
  ];
}

/** The resources of `type` of `inst`. */
export const resourcesOf = (inst: InstantiatedTemplate, type: string): InstantiatedResource[] => Object.values(inst.resources).filter((r) => r.type === type);

/**
 * The resource of `type` that the property at `path` of `resource` (dotted, `RedrivePolicy.deadLetterTargetArn`) names
 * by `Ref` or `Fn::GetAtt`, read in the template as written (so a reference elsewhere in the properties is not taken
 * for it), or undefined.
 */
export function referencedAt(inst: InstantiatedTemplate, resource: InstantiatedResource, path: string, type: string): InstantiatedResource | undefined {
  const properties = inst.template.Resources[resource.logicalId]?.Properties as Record<string, unknown> | undefined;
  const value = (properties ? valueAt(properties, path) : undefined) as Record<string, unknown> | undefined;
  if (value === null || typeof value !== 'object') return undefined;
  const getAtt = value['Fn::GetAtt'];
  const id = typeof value.Ref === 'string' ? value.Ref : Array.isArray(getAtt) ? String(getAtt[0]) : typeof getAtt === 'string' ? getAtt.split('.')[0] : undefined;
  const target = id === undefined ? undefined : inst.resources[id];
  return target?.type === type ? target : undefined;
}

/** A number property as CloudFormation takes it (a number or a numeric string, as parameters resolve), or `fallback`. */
export function numberOr(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : typeof value === 'number' ? value : Number.NaN;
}
