/**
 * Versions that must agree between resources of one stack, which RDS and EKS check on create and moto does not: service
 * rules (lib/preflight/service-rules.ts) over every stack of a tier (the tier blueprint and the DR, failover, namespace
 * and baseline stacks the preflight deploys with it).
 */
import type { InstantiatedResource, InstantiatedTemplate } from './instantiate.js';
import type { RuleContext, ServiceRule } from './service-rules.js';

/** Every stack of the tier, each with the label its violations carry (none for the tier blueprint). */
function stacksOf({ inst, alsoDeployed }: RuleContext): Array<{ label: string; inst: InstantiatedTemplate }> {
  return [{ label: '', inst }, ...(alsoDeployed ?? []).map((d) => ({ label: `${d.blueprint}: `, inst: d.inst }))];
}
const resourcesOf = (inst: InstantiatedTemplate, type: string): InstantiatedResource[] => Object.values(inst.resources).filter((r) => r.type === type);
/**
 * The resource of `type` that `property` of `resource` names by Ref (a resource of the same stack it refers to whose
 * physical id is the property's value), or undefined for a value from outside the stack. Not by value alone: an RDS
 * instance and an EKS cluster of a tenant share the name `tessera-<id>`.
 */
function referenced(inst: InstantiatedTemplate, resource: InstantiatedResource, property: string, type: string): InstantiatedResource | undefined {
  const value = resource.props[property];
  return inst.referencesOf(resource.logicalId).map((id) => inst.resources[id]).find((r) => r.type === type && r.physicalId === value);
}

/**
 * The DB parameter group family RDS requires for a PostgreSQL engine version: `postgres<major>` (`17` or `17.4`:
 * postgres17). A DB instance uses parameter groups of its engine version's family only; a major version upgrade with a
 * custom group names a group of the new family ("The current DB instance parameter group … is custom. You must
 * explicitly specify a new DB instance parameter group … for the engine version upgrade").
 * Sources: RDS User Guide, Parameter groups for Amazon RDS (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.html),
 * How to perform a major version upgrade for RDS for PostgreSQL (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.PostgreSQL.MajorVersion.Process.html).
 * @param engineVersion the DBInstance's EngineVersion
 * @returns the family, or undefined for a version without a major number
 */
export function postgresFamilyOf(engineVersion: string): string | undefined {
  const major = /^(\d+)(\.|$)/.exec(engineVersion.trim())?.[1];
  return major ? `postgres${major}` : undefined;
}

export const VERSION_RULES: readonly ServiceRule[] = [
  {
    id: 'rds-parameter-group-family',
    statement: 'A PostgreSQL DB instance whose DBParameterGroupName names a parameter group of the same stack uses one of its engine version\'s family (postgres<major>), in every stack of the tier.',
    source: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.html; https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.PostgreSQL.MajorVersion.Process.html',
    appliesTo: ['AWS::RDS::DBInstance'],
    check: (ctx) => stacksOf(ctx).flatMap(({ label, inst }) => resourcesOf(inst, 'AWS::RDS::DBInstance').flatMap((db) => {
      if (String(db.props.Engine ?? '').toLowerCase() !== 'postgres' || db.props.DBParameterGroupName === undefined) return [];
      const group = referenced(inst, db, 'DBParameterGroupName', 'AWS::RDS::DBParameterGroup');
      if (!group) return [];
      const want = postgresFamilyOf(String(db.props.EngineVersion ?? ''));
      const family = String(group.props.Family ?? '');
      return want && family !== want ? [`${label}${db.logicalId} (EngineVersion ${String(db.props.EngineVersion)}) uses ${group.logicalId} of family ${family}, not ${want}`] : [];
    })),
  },
  {
    id: 'eks-nodegroup-version-is-cluster-version',
    statement: 'A managed node group created with a Version (and no launch template) has its cluster\'s Kubernetes version, the cluster of the same stack, in every stack of the tier.',
    source: 'https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html ("You can only create a node group for your cluster that is equal to the current Kubernetes version for the cluster"; version: "By default, the Kubernetes version of the cluster is used, and this is the only accepted specified value")',
    appliesTo: ['AWS::EKS::Nodegroup'],
    check: (ctx) => stacksOf(ctx).flatMap(({ label, inst }) => resourcesOf(inst, 'AWS::EKS::Nodegroup').flatMap((ng) => {
      if (ng.props.Version === undefined || ng.props.LaunchTemplate !== undefined) return [];
      const cluster = referenced(inst, ng, 'ClusterName', 'AWS::EKS::Cluster');
      if (!cluster || cluster.props.Version === undefined) return [];
      return String(ng.props.Version) === String(cluster.props.Version) ? [] : [`${label}${ng.logicalId} Version ${String(ng.props.Version)} is not its cluster ${cluster.logicalId}'s ${String(cluster.props.Version)}`];
    })),
  },
];
