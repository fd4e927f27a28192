/**
 * What EKS refuses in a managed node group that names a launch template, which moto (the integration tests' fake)
 * takes as given: a service rule (lib/preflight/service-rules.ts) over every stack of a tier (a dedicated tier's
 * system and GPU node groups) and the platform stack (the shared cluster's node groups, which have launch templates:
 * constructs/node-launch-template.ts).
 */
import type { InstantiatedResource, InstantiatedTemplate } from './instantiate.js';
import { referencedAt, resourcesOf, stacksOf } from './rule-stacks.js';
import type { ServiceRule } from './service-rules.js';

const NODEGROUP = 'AWS::EKS::Nodegroup';
const LAUNCH_TEMPLATE = 'AWS::EC2::LaunchTemplate';

/**
 * The launch template data EKS refuses in a node group's launch template, by the EC2 request element it is in
 * CloudFormation's LaunchTemplateData: "The launch template can't include SubnetId, IamInstanceProfile,
 * RequestSpotInstances, HibernationOptions, or TerminateInstances" (EKS API Reference, LaunchTemplateSpecification).
 */
const REFUSED_LAUNCH_TEMPLATE_DATA: ReadonlyArray<{ readonly key: string; readonly what: string }> = [
  { key: 'IamInstanceProfile', what: 'IamInstanceProfile (EKS passes the node role)' },
  { key: 'InstanceMarketOptions', what: 'InstanceMarketOptions (Spot is the node group\'s CapacityType)' },
  { key: 'HibernationOptions', what: 'HibernationOptions' },
];

/**
 * Why EKS refuses node group `ng` of `inst` with its launch template, or nothing: the node group sets DiskSize or
 * RemoteAccess beside a launch template, names InstanceTypes its launch template's InstanceType also sets, or the
 * launch template (a template of the same stack) holds data a node group's launch template cannot.
 * Sources: EKS API Reference, CreateNodegroup, launchTemplate ("When using this object, don't directly specify
 * instanceTypes, diskSize, or remoteAccess", https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html)
 * and diskSize / remoteAccess ("If you specify launchTemplate, then don't specify diskSize, or the node group
 * deployment will fail"); LaunchTemplateSpecification (the data it can't include,
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_LaunchTemplateSpecification.html). Instance types go in the
 * launch template or in the node group, not both (EKS User Guide, "Customize managed nodes with launch templates",
 * https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html): a node group's InstanceTypes beside a
 * launch template without an InstanceType (the shared cluster's) is taken.
 */
export function launchTemplateNodegroupProblems(inst: InstantiatedTemplate, ng: InstantiatedResource): string[] {
  if (ng.props.LaunchTemplate === undefined) return [];
  const out: string[] = [];
  if (ng.props.DiskSize !== undefined) out.push(`${ng.logicalId}: DiskSize ${String(ng.props.DiskSize)} beside a LaunchTemplate (set the volume size in the launch template's BlockDeviceMappings)`);
  if (ng.props.RemoteAccess !== undefined) out.push(`${ng.logicalId}: RemoteAccess beside a LaunchTemplate`);
  const lt = referencedAt(inst, ng, 'LaunchTemplate.Id', LAUNCH_TEMPLATE) ?? referencedAt(inst, ng, 'LaunchTemplate.Name', LAUNCH_TEMPLATE);
  const data = (lt?.props.LaunchTemplateData ?? {}) as Record<string, unknown>;
  if (data.InstanceType !== undefined && ng.props.InstanceTypes !== undefined) out.push(`${ng.logicalId}: InstanceTypes beside launch template ${lt!.logicalId}'s InstanceType ${String(data.InstanceType)} (one or the other)`);
  for (const { key, what } of REFUSED_LAUNCH_TEMPLATE_DATA) if (data[key] !== undefined) out.push(`${ng.logicalId}: launch template ${lt!.logicalId} sets ${what}`);
  const subnets = ((data.NetworkInterfaces as Array<Record<string, unknown>> | undefined) ?? []).filter((n) => n.SubnetId !== undefined);
  if (subnets.length) out.push(`${ng.logicalId}: launch template ${lt!.logicalId} sets a network interface's SubnetId (the node group's Subnets place the nodes)`);
  return out;
}

export const NODEGROUP_LAUNCH_TEMPLATE_RULES: readonly ServiceRule[] = [
  {
    id: 'eks-nodegroup-launch-template',
    statement: 'A managed node group with a launch template sets no DiskSize or RemoteAccess, does not name instance types its launch template also sets, and its launch template holds no IamInstanceProfile, InstanceMarketOptions, HibernationOptions or network interface SubnetId, in every stack of the tier and in the platform stack.',
    source: 'https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html (launchTemplate, diskSize, remoteAccess); https://docs.aws.amazon.com/eks/latest/APIReference/API_LaunchTemplateSpecification.html',
    appliesTo: [NODEGROUP],
    readsEveryStack: true,
    check: (ctx) => stacksOf(ctx, { platform: true }).flatMap(({ label, inst }) => resourcesOf(inst, NODEGROUP).flatMap((ng) => launchTemplateNodegroupProblems(inst, ng).map((v) => `${label}${v}`))),
  },
];
