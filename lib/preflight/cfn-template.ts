/**
 * The shape of a synthesized CloudFormation template, as far as the preflight and the quota
 * table read it. Plain types, no aws-cdk-lib: Lambda code (the lifecycle's quota check) may
 * import modules that use them.
 */

/** Any JSON value of a template (intrinsic functions are objects with one `Fn::*`/`Ref` key). */
export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, CfnValue>;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Condition?: string;
  readonly Metadata?: Record<string, CfnValue>;
}

export interface CfnParameter {
  readonly Type: string;
  readonly Default?: string | number;
  readonly AllowedPattern?: string;
  readonly AllowedValues?: (string | number)[];
  readonly MinValue?: number;
  readonly MaxValue?: number;
  readonly Description?: string;
}

export interface CfnTemplate {
  readonly Description?: string;
  readonly Parameters?: Record<string, CfnParameter>;
  readonly Conditions?: Record<string, CfnValue>;
  readonly Mappings?: Record<string, Record<string, Record<string, CfnValue>>>;
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: CfnValue; Export?: { Name: CfnValue } }>;
  readonly Rules?: Record<string, CfnValue>;
}

/** Resources of `template` whose type is `type`, as `[logicalId, resource]` pairs. */
export function resourcesOfType(template: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}
