import type { CfnTemplate } from './derive-moto-blueprint.js';
import type { CfnResource } from './stand-ins.js';
import { databaseProtected } from './template-conditions.js';

/**
 * What CloudFormation does with each resource when a stack create fails and rolls back, decided
 * from the template as published (its own DeletionPolicy values, not moto's copy):
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
 * and the CreateStack `RetainExceptOnCreate` parameter ("When set to true, newly created resources
 * are deleted when the operation rolls back. This includes newly created resources marked with a
 * deletion policy of Retain.").
 *
 * - Created by the failed operation: every resource that neither failed nor depends (Ref,
 *   Fn::GetAtt, Fn::Sub, DependsOn; transitively) on one that failed. CloudFormation creates
 *   independent resources in parallel, so all of those exist when the rollback starts.
 * - `Retain` survives, outside the stack, unless the create set `RetainExceptOnCreate`.
 * - `RetainExceptOnCreate` is deleted: the rollback of the create is the one operation it does not retain.
 * - `Snapshot` (the default of an AWS::RDS::DBInstance without DBClusterIdentifier) leaves a
 *   snapshot, then is deleted.
 * - An AWS::RDS::DBInstance with `DeletionProtection` (as the create resolved it: a literal, or
 *   `Fn::If` on a condition of the stack's parameters, template-conditions.ts) cannot be deleted: the RDS resource
 *   provider's delete handler calls DeleteDBInstance without lifting the protection
 *   (aws-cloudformation-resource-providers-rds, aws-rds-dbinstance DeleteHandler), and RDS refuses
 *   ("Cannot delete protected DB Instance, please disable deletion protection and try again."),
 *   so the rollback fails (ROLLBACK_FAILED) with the instance still in the stack.
 * - Everything else is deleted.
 */
export interface RollbackPlan {
  /** Resources the failed operation created (AWS's view). */
  readonly created: string[];
  /** Kept outside the stack (`Retain` without the RetainExceptOnCreate parameter). */
  readonly survive: string[];
  /** Snapshotted, then deleted. */
  readonly snapshot: string[];
  /** Deletion refused (DeletionProtection): the rollback fails. */
  readonly refused: string[];
  /**
   * What the refused resources depend on (transitively) among those the operation created:
   * CloudFormation deletes in reverse dependency order, so it never reaches these; they stay in
   * the ROLLBACK_FAILED stack with the refused ones. Everything else is deleted as its policy says.
   */
  readonly held: string[];
  /** Deleted (including what moto created but AWS never would have: the failed resources and their dependants). */
  readonly deleted: string[];
}

/** Logical ids of the resources `value` references (Ref, Fn::GetAtt, Fn::Sub). */
export function referencedResources(value: unknown, resources: Record<string, CfnResource>, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => referencedResources(v, resources, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'Ref' && typeof v === 'string' && resources[v]) out.add(v);
      else if (k === 'Fn::GetAtt') {
        const target = typeof v === 'string' ? v.split('.')[0] : (v as string[])[0];
        if (resources[target]) out.add(target);
      } else if (k === 'Fn::Sub') {
        const text = typeof v === 'string' ? v : (v as [string, unknown])[0];
        for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) if (resources[m[1]]) out.add(m[1]);
        if (Array.isArray(v)) referencedResources(v[1], resources, out);
      } else referencedResources(v, resources, out);
    }
  }
  return out;
}

/** Direct dependencies of `logicalId`: the resources it references, and its DependsOn. */
export function dependencies(template: CfnTemplate, logicalId: string): Set<string> {
  const resource = template.Resources[logicalId];
  const out = referencedResources({ Properties: resource.Properties, Condition: resource.Condition }, template.Resources);
  for (const d of [resource.DependsOn ?? []].flat()) if (template.Resources[d]) out.add(d);
  return out;
}

/** `failed` and every resource that depends on one of them, transitively. */
export function dependantsOf(template: CfnTemplate, failed: ReadonlySet<string>): Set<string> {
  const out = new Set(failed);
  for (let grew = true; grew; ) {
    grew = false;
    for (const id of Object.keys(template.Resources)) {
      if (!out.has(id) && [...dependencies(template, id)].some((d) => out.has(d))) {
        out.add(id);
        grew = true;
      }
    }
  }
  return out;
}

function deletionPolicy(resource: CfnResource): string {
  if (resource.DeletionPolicy) return resource.DeletionPolicy;
  return resource.Type === 'AWS::RDS::DBInstance' && resource.Properties?.DBClusterIdentifier === undefined ? 'Snapshot' : 'Delete';
}

/**
 * The rollback of a create of `template` in which `failed` failed, moto having created
 * `createdInMoto`; `parameters` are the create's parameter values over the template's defaults.
 */
export function rollbackPlan(input: {
  template: CfnTemplate; failed: ReadonlySet<string>; createdInMoto: Iterable<string>; retainExceptOnCreate: boolean; parameters: Record<string, string>;
}): RollbackPlan {
  const { template } = input;
  const neverCreated = dependantsOf(template, input.failed);
  const plan = { created: [] as string[], survive: [] as string[], snapshot: [] as string[], refused: [] as string[], held: [] as string[], deleted: [] as string[] };
  for (const id of input.createdInMoto) {
    const resource = template.Resources[id];
    if (neverCreated.has(id)) {
      plan.deleted.push(id);
      continue;
    }
    plan.created.push(id);
    const policy = deletionPolicy(resource);
    if (policy === 'Retain' && !input.retainExceptOnCreate) plan.survive.push(id);
    else if (databaseProtected(template, id, input.parameters)) plan.refused.push(id);
    else if (policy === 'Snapshot') plan.snapshot.push(id);
    else plan.deleted.push(id);
  }
  if (plan.refused.length) plan.held = [...dependenciesOf(template, plan.refused)].filter((id) => plan.created.includes(id) && !plan.refused.includes(id));
  for (const list of Object.values(plan)) list.sort();
  return plan;
}

/** Everything `ids` depend on, transitively (not `ids` themselves, unless one depends on another). */
export function dependenciesOf(template: CfnTemplate, ids: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const todo = [...ids];
  while (todo.length) {
    for (const d of dependencies(template, todo.pop()!)) {
      if (!out.has(d)) {
        out.add(d);
        todo.push(d);
      }
    }
  }
  return out;
}
