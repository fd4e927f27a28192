/**
 * The cross-tenant isolation check: every principal of tenant A (each role of its blueprints, as a
 * session with the tags its trust policy gives it, and each AWS service acting for one of A's
 * resources) against every sensitive request on tenant B's resources (./attempts.ts), through the
 * IAM policy simulator (../iam-eval.ts: identity policies, resource policies, SCPs, same-account
 * versus cross-account semantics). Zero may be allowed. Then the positive controls (./controls.ts):
 * every principal does on its own tenant what it exists for, and every one must be allowed.
 */
import { IDENTITY_CENTER_TENANT_ADMIN_EXAMPLES, IDENTITY_CENTER_TENANT_ADMIN_ROLES, TENANT_ID_TAG } from '../../tenant-naming.js';
import { evaluate, type PolicyJson } from '../iam-eval.js';
import { TYPES } from '../resource-types.js';
import { attemptsOn, type Attempt } from './attempts.js';
import { controlsOf } from './controls.js';
import type { TenantEstate, TenantPrincipal } from './estate.js';

export interface IsolationFinding {
  readonly principal: string;
  readonly attempt: string;
  readonly result: string;
}

export interface IsolationReport {
  readonly attacker: string;
  readonly victim: string;
  readonly principals: number;
  /** Cross-tenant requests evaluated. */
  readonly attempts: number;
  /** Cross-tenant requests the evaluator allowed: failures. */
  readonly allowed: IsolationFinding[];
  /** Requests the evaluator could not evaluate: failures (the check did not run). */
  readonly errors: IsolationFinding[];
  /**
   * A service acting for A that B's role trusts, where the trust cannot name B's resource
   * (TRUST_CANNOT_NAME_RESOURCE) or the role is in another account: closed by iam:PassRole, whose
   * attempts are in `attempts`. Reported with the reason, not failures.
   */
  readonly guardedByPassRole: IsolationFinding[];
  readonly controls: number;
  /** Positive controls denied: failures (a principal cannot do its job, or the evaluator denies everything). */
  readonly controlsDenied: IsolationFinding[];
  /** Roles without a positive control in ./controls.ts: failures. */
  readonly missingControls: string[];
}

export interface CheckOptions {
  readonly organizationId: string;
}

/** {@link principalContext} per principal and (region, organization): the same for each of its ~1,000 attempts. */
const principalContexts = new WeakMap<TenantPrincipal, Map<string, Readonly<Record<string, string | string[]>>>>();

/** Context a session of `p` carries on every request (one object per principal, region and organization: callers copy it, never change it). */
function principalContext(p: TenantPrincipal, region: string, organizationId: string): Readonly<Record<string, string | string[]>> {
  let byPlace = principalContexts.get(p);
  if (!byPlace) principalContexts.set(p, (byPlace = new Map()));
  const place = `${region}\0${organizationId}`;
  let context = byPlace.get(place);
  if (!context) byPlace.set(place, (context = sessionContext(p, region, organizationId)));
  return context;
}

function sessionContext(p: TenantPrincipal, region: string, organizationId: string): Record<string, string | string[]> {
  return {
    'aws:PrincipalArn': p.arn,
    'aws:PrincipalAccount': p.account,
    'aws:PrincipalOrgID': organizationId,
    'aws:PrincipalType': 'AssumedRole',
    'aws:PrincipalIsAWSService': 'false',
    'aws:RequestedRegion': region,
    'aws:SecureTransport': 'true',
    'aws:ViaAWSService': 'false',
    ...Object.fromEntries(Object.entries(p.tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
  };
}

/** One request (every resource part of it) as `p`: allowed only if every part is. */
async function run(p: TenantPrincipal, a: Attempt, region: string, organizationId: string) {
  const parts = [{ resource: a.resource, context: a.context, resourcePolicy: a.resourcePolicy }, ...(a.alsoOn ?? [])];
  let last: Awaited<ReturnType<typeof evaluate>> | undefined;
  for (const part of parts) {
    last = await evaluate({
      principalArn: p.arn,
      action: ('action' in part && part.action) || a.action,
      resource: part.resource,
      resourceAccount: a.resourceAccount,
      context: { ...principalContext(p, region, organizationId), 'aws:ResourceAccount': a.resourceAccount, ...part.context },
      identityPolicies: p.identityPolicies,
      scps: p.scps,
      resourcePolicy: 'resourcePolicy' in part ? part.resourcePolicy : undefined,
    });
    if (!last.allowed) return last;
  }
  return last!;
}

/**
 * Resources whose ARN an AWS service presents as `aws:SourceArn` when it assumes a role for
 * them (confused-deputy context), by service principal.
 */
const SOURCE_OF_SERVICE: Record<string, (e: TenantEstate, role: TenantPrincipal) => string | undefined> = {
  'vpc-flow-logs.amazonaws.com': (e) => arnOfType(e, 'AWS::EC2::FlowLog'),
  'monitoring.rds.amazonaws.com': (e) => arnOfType(e, 'AWS::RDS::DBInstance'),
  'backup.amazonaws.com': (e) => arnOfType(e, 'AWS::Backup::BackupVault'),
  'sagemaker.amazonaws.com': (e) => e.runtime.trainingJobArn,
  // The rule of `e` that targets `e`'s role of the same logical id as `role` (a DR tier has a training and a restore-events forwarder).
  'events.amazonaws.com': (e, role) => {
    const own = Object.values(e.tenant.resources).find((r) => r.type === 'AWS::IAM::Role' && r.logicalId === role.logicalId);
    const rules = Object.values(e.tenant.resources).filter((r) => r.type === 'AWS::Events::Rule');
    const rule = rules.find((r) => ((r.props.Targets as Array<{ RoleArn?: unknown }> | undefined) ?? []).some((t) => own && t.RoleArn === own.arn)) ?? rules[0];
    return rule ? TYPES['AWS::Events::Rule']?.arn(rule, e.tenant.env, (v) => e.tenant.lookup(v)) ?? rule.arn : undefined;
  },
  'eks.amazonaws.com': (e) => arnOfType(e, 'AWS::EKS::Cluster'),
  'pods.eks.amazonaws.com': (e) => {
    const association = Object.values(e.namespace?.resources ?? e.tenant.resources).find((r) => r.type === 'AWS::EKS::PodIdentityAssociation');
    const cluster = association?.props.ClusterName;
    return typeof cluster === 'string' ? `arn:${e.partition}:eks:${e.region}:${(e.namespace ?? e.tenant).env.account}:cluster/${cluster}` : undefined;
  },
};

function arnOfType(e: TenantEstate, type: string): string | undefined {
  const r = Object.values(e.tenant.resources).find((x) => x.type === type);
  return r ? TYPES[type]?.arn(r, e.tenant.env, (v) => e.tenant.lookup(v)) ?? r.arn : undefined;
}

/**
 * Services whose trust policy cannot name the tenant's own resource, and why. A service acting for
 * tenant A can use tenant B's role only if something passes it B's role (iam:PassRole, which works
 * within one account only); every iam:PassRole of B's roles by A's principals is among the
 * attempts and must be denied. Such assumptions are reported as guarded by iam:PassRole, not as
 * isolation by the trust policy.
 */
export const TRUST_CANNOT_NAME_RESOURCE: Record<string, string> = {
  'backup.amazonaws.com': 'AWS Backup documents no aws:SourceArn or aws:SourceAccount for assuming a backup role (https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html)',
  'ec2.amazonaws.com': 'EC2 documents no source context for assuming an instance profile\'s role',
  'vpc-flow-logs.amazonaws.com': 'a flow log names its role and its id is generated, so the trust names the account and Region only (aws:SourceArn …:vpc-flow-log/*)',
  's3.amazonaws.com': 'S3 documents the replication role\'s trust with no source context (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html), so the trust names the account only (aws:SourceAccount)',
  'sagemaker.amazonaws.com': 'one training role serves the tenant\'s training jobs and endpoints; the trust names the account (aws:SourceArn values SageMaker presents per resource are not confirmed offline)',
};

/**
 * A service acting for one of `from`'s resources assumes a service role of `to`: the role's trust
 * policy must admit it only for `to`'s own resources. Returns the evaluation per service role.
 */
async function serviceAssumes(from: TenantEstate, to: TenantEstate) {
  const out: Array<{ principal: string; attempt: string; allowed: boolean; result: string; guard?: string }> = [];
  for (const role of to.principals) {
    // A role of one of `to`'s DR-region stacks is assumed for the resources of `from`'s same stack (its DR view).
    const stack = to.drStacks.indexOf(role.inst);
    const acting = stack >= 0 ? from.drViews[stack] ?? from : from;
    for (const service of role.services) {
      const source = SOURCE_OF_SERVICE[service]?.(acting, role);
      const context: Record<string, string | string[]> = { 'aws:SourceAccount': (service === 'pods.eks.amazonaws.com' ? (from.namespace ?? from.tenant).env.account : from.account), 'aws:PrincipalIsAWSService': 'true', 'aws:PrincipalServiceName': service };
      if (source) context['aws:SourceArn'] = source;
      if (service === 'pods.eks.amazonaws.com') Object.assign(context, { 'aws:RequestTag/kubernetes-namespace': `tenant-${from.tenantId}`, 'aws:TagKeys': ['kubernetes-namespace'] });
      for (const action of service === 'pods.eks.amazonaws.com' ? ['sts:AssumeRole', 'sts:TagSession'] : ['sts:AssumeRole']) {
        const r = await evaluate({
          principalArn: service, action, resource: role.arn, resourceAccount: role.account,
          context, identityPolicies: [], scps: [], resourcePolicy: role.resource.props.AssumeRolePolicyDocument as PolicyJson,
        });
        const guard = role.account !== from.account ? 'a role of another account cannot be passed to a resource (iam:PassRole is same-account)' : TRUST_CANNOT_NAME_RESOURCE[service];
        out.push({ principal: `${service} for ${from.tenantId}${source ? ` (${source})` : ''}`, attempt: `${action} ${role.arn}`, allowed: r.allowed, result: r.result, guard: from === to ? undefined : guard });
      }
    }
  }
  return out;
}

/**
 * Principals of `account` a trust statement names by `ArnLike aws:PrincipalArn`: for IAM Identity
 * Center's tenant-admin permission set, the role ARNs Identity Center really gives it (both path
 * forms, so the control does not merely echo the pattern); otherwise the pattern made concrete
 * (`*`, `?` → `x`).
 */
function namedPrincipalsOf(trust: PolicyJson, account: string, partition: string): string[] {
  const statements = [trust.Statement].flat() as Array<{ Condition?: Record<string, Record<string, unknown>> }>;
  for (const st of statements) {
    const arns = [st.Condition?.ArnLike?.['aws:PrincipalArn'] ?? []].flat().filter((a): a is string => typeof a === 'string' && a.includes(`:${account}:`));
    if (arns.length === 0) continue;
    if (arns.some((a) => a.endsWith(`:role/${IDENTITY_CENTER_TENANT_ADMIN_ROLES[0]}`))) return IDENTITY_CENTER_TENANT_ADMIN_EXAMPLES.map((r) => `arn:${partition}:iam::${account}:role/${r}`);
    return [arns[0].replace(/[*?]/g, 'x')];
  }
  return [];
}

/**
 * Sessions in the platform account that carry a tenant's tag: an impostor (any platform role that
 * can set `tessera:tenant-id` on itself, allowed to assume any role) against every role of the
 * victim, which must refuse it; and, as positive controls, the principals a role's trust names
 * (the IdP's tenant-admin roles), tagged with their own tenant, assuming it.
 */
async function platformSessions(e: TenantEstate, tenantId: string, kind: 'impostor' | 'named', organizationId: string) {
  const out: Array<{ principal: string; attempt: string; allowed: boolean; result: string }> = [];
  for (const role of e.principals) {
    const trust = role.resource.props.AssumeRolePolicyDocument as PolicyJson;
    // Impostors: a platform role, and an Identity Center role of another permission set, each tagged with the tenant.
    const principals = kind === 'impostor'
      ? [`arn:${e.partition}:iam::${e.platformAccount}:role/tessera-impostor`, `arn:${e.partition}:iam::${e.platformAccount}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformEngineer_0123456789abcdef`]
      : namedPrincipalsOf(trust, e.platformAccount, e.partition);
    for (const principal of principals) {
      const r = await evaluate({
        principalArn: principal, action: 'sts:AssumeRole', resource: role.arn, resourceAccount: role.account,
        context: {
          'aws:PrincipalArn': principal, 'aws:PrincipalAccount': e.platformAccount, 'aws:PrincipalOrgID': organizationId, 'aws:PrincipalType': 'AssumedRole',
          'aws:RequestedRegion': e.region, 'aws:SecureTransport': 'true', [`aws:PrincipalTag/${TENANT_ID_TAG}`]: tenantId,
        },
        identityPolicies: [{ name: 'AssumeAnything', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: '*' }] } }],
        scps: [], resourcePolicy: trust,
      });
      out.push({ principal: `${principal} tagged ${tenantId}`, attempt: `sts:AssumeRole ${role.arn}`, allowed: r.allowed, result: r.result });
    }
  }
  return out;
}

/** Every principal of `attacker` against `victim`'s resources, and `attacker`'s positive controls. */
export async function checkIsolation(attacker: TenantEstate, victim: TenantEstate, opts: CheckOptions): Promise<IsolationReport> {
  const attempts = attemptsOn(victim, attacker);
  const allowed: IsolationFinding[] = [];
  const errors: IsolationFinding[] = [];
  let count = 0;
  for (const p of attacker.principals) {
    for (const a of attempts) {
      count++;
      const r = await run(p, a, attacker.region, opts.organizationId);
      if (r.result.startsWith('error')) errors.push({ principal: p.roleName, attempt: a.label, result: r.result });
      else if (r.allowed) allowed.push({ principal: p.roleName, attempt: a.label, result: r.result });
    }
  }
  const guardedByPassRole: IsolationFinding[] = [];
  for (const s of await serviceAssumes(attacker, victim)) {
    count++;
    if (s.result.startsWith('error')) errors.push({ principal: s.principal, attempt: s.attempt, result: s.result });
    else if (s.allowed && s.guard) guardedByPassRole.push({ principal: s.principal, attempt: s.attempt, result: s.guard });
    else if (s.allowed) allowed.push({ principal: s.principal, attempt: s.attempt, result: s.result });
  }

  for (const s of await platformSessions(victim, victim.tenantId, 'impostor', opts.organizationId)) {
    count++;
    if (s.result.startsWith('error')) errors.push(s);
    else if (s.allowed) allowed.push(s);
  }

  const controlsDenied: IsolationFinding[] = [];
  const missingControls: string[] = [];
  let controls = 0;
  for (const p of attacker.principals) {
    const own = controlsOf(attacker, p);
    if (!own) {
      missingControls.push(`${p.logicalId} (${p.roleName})`);
      continue;
    }
    for (const a of own) {
      controls++;
      const r = await run(p, a, attacker.region, opts.organizationId);
      if (!r.allowed) controlsDenied.push({ principal: p.roleName, attempt: a.label, result: `${r.result}${r.blockedBy.length ? ` by ${r.blockedBy.join(', ')}` : ''}` });
    }
  }
  for (const s of await platformSessions(attacker, attacker.tenantId, 'named', opts.organizationId)) {
    controls++;
    if (!s.allowed) controlsDenied.push({ principal: s.principal, attempt: s.attempt, result: s.result });
  }
  for (const s of await serviceAssumes(attacker, attacker)) {
    controls++;
    if (!s.allowed) controlsDenied.push({ principal: s.principal, attempt: s.attempt, result: s.result });
  }
  return { attacker: attacker.tenantId, victim: victim.tenantId, principals: attacker.principals.length, attempts: count, allowed, errors, guardedByPassRole, controls, controlsDenied, missingControls };
}
