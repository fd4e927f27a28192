import type { CfnTemplate } from './derive-moto-blueprint.js';

/**
 * A resource property as CloudFormation resolves it for one stack operation, where the template
 * decides it with a condition: `Fn::If` over `Conditions` built from `Fn::Equals`, `Fn::Not`,
 * `Fn::And`, `Fn::Or`, `Condition` and `Ref` to parameters (the template's defaults under the
 * operation's values). The blueprints drive the database's `DeletionProtection` this way
 * (`DatabaseDeletionProtection` parameter, condition `ProtectDatabase`), so the emulation needs
 * the evaluated value where moto's handler drops the property.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-conditions.html
 */

/** The template's parameter defaults under `given` (an operation's values). */
export function parameterValues(template: CfnTemplate, given: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, p] of Object.entries(template.Parameters ?? {})) {
    const d = (p as { Default?: unknown }).Default;
    if (d !== undefined) values[name] = String(d);
  }
  return Object.assign(values, given);
}

const NO_VALUE = Symbol('AWS::NoValue');

function evaluate(value: unknown, template: CfnTemplate, values: Record<string, string>, path: string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => evaluate(v, template, values, path));
  if (!value || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  const [key] = Object.keys(o);
  if (Object.keys(o).length !== 1) return value;
  const args = o[key];
  switch (key) {
    case 'Ref': {
      if (args === 'AWS::NoValue') return NO_VALUE;
      if (typeof args === 'string' && values[args] !== undefined) return values[args];
      throw new Error(`cannot evaluate Ref ${String(args)}: not a parameter with a value`);
    }
    case 'Condition':
      return condition(template, args as string, values, path);
    case 'Fn::If': {
      const [name, whenTrue, whenFalse] = args as [string, unknown, unknown];
      return evaluate(condition(template, name, values, path) ? whenTrue : whenFalse, template, values, path);
    }
    case 'Fn::Equals': {
      const [a, b] = (args as unknown[]).map((x) => evaluate(x, template, values, path));
      return String(a) === String(b);
    }
    case 'Fn::Not':
      return !evaluate((args as unknown[])[0], template, values, path);
    case 'Fn::And':
      return (args as unknown[]).every((x) => evaluate(x, template, values, path) === true);
    case 'Fn::Or':
      return (args as unknown[]).some((x) => evaluate(x, template, values, path) === true);
    default:
      return value;
  }
}

/** The value of the template's condition `name`. */
export function condition(template: CfnTemplate, name: string, values: Record<string, string>, path: string[] = []): boolean {
  if (path.includes(name)) throw new Error(`condition ${name} refers to itself (${[...path, name].join(' -> ')})`);
  const expression = template.Conditions?.[name];
  if (expression === undefined) throw new Error(`the template has no condition ${name}`);
  return evaluate(expression, template, values, [...path, name]) === true;
}

/**
 * `logicalId`'s `property` resolved for an operation with `values` (parameters and defaults):
 * literals as they are, `Fn::If` and the condition functions evaluated; undefined when absent or
 * `AWS::NoValue`.
 */
export function resolvedProperty(template: CfnTemplate, logicalId: string, property: string, values: Record<string, string>): unknown {
  const raw = template.Resources[logicalId]?.Properties?.[property];
  const out = evaluate(raw, template, values, []);
  return out === NO_VALUE ? undefined : out;
}

/** CloudFormation's Boolean: `true` or `"true"` (any case). */
export const isTrue = (value: unknown) => value === true || (typeof value === 'string' && value.toLowerCase() === 'true');

/** Whether the stack's database `logicalId` is deletion-protected under `values`. */
export const databaseProtected = (template: CfnTemplate, logicalId: string, values: Record<string, string>) =>
  template.Resources[logicalId]?.Type === 'AWS::RDS::DBInstance' && isTrue(resolvedProperty(template, logicalId, 'DeletionProtection', values));
