/**
 * Issue 12, item 1: the AWS service roles each VPC-isolated tenant gets in the shared workload account
 * are scoped to their own tenant. One test per pair found allowed, each through the real IAM evaluator
 * (lib/preflight/iam-eval.ts) on the synthesized blueprints instantiated for two tenants of one tier in
 * the same account, with prefix-colliding ids (`acme`, `acme-2`): B's resources must be denied to A's
 * role, A's own must be allowed (an evaluator that denies everything proves nothing).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { identityOf } from '../../lib/preflight/identity.js';
import { instantiate, type InstantiatedResource, type InstantiatedTemplate } from '../../lib/preflight/instantiate.js';
import { TYPES } from '../../lib/preflight/resource-types.js';
import { TENANT_ID_TAG } from '../../lib/tenant-naming.js';
import { configWith } from '../support/config-with.js';
import { cachedBlueprints } from '../preflight/support/cached-blueprints.js';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const A = 'acme';
const B = 'acme-2';

interface Attempt { role: string; action: string; resource: string; context?: Record<string, string | string[]>; resourcePolicy?: PolicyJson; principal?: string }
const tally = { denied: 0, allowed: 0 };

function roleOf(inst: InstantiatedTemplate, logicalPrefix: string): InstantiatedResource {
  const role = Object.values(inst.resources).find((r) => r.type === 'AWS::IAM::Role' && r.logicalId.startsWith(logicalPrefix));
  if (!role) throw new Error(`no role ${logicalPrefix}* in the ${inst.tenantId} blueprint`);
  return role;
}
function only(inst: InstantiatedTemplate, type: string): InstantiatedResource {
  const found = Object.values(inst.resources).filter((r) => r.type === type);
  if (found.length !== 1) throw new Error(`${found.length} ${type} in the ${inst.tenantId} blueprint`);
  return found[0];
}

/** A's role (identity policies from its template) asking for `action` on `resource`. */
async function asRole(inst: InstantiatedTemplate, roleId: string, a: Omit<Attempt, 'role'>) {
  const role = roleOf(inst, roleId);
  return evaluate({
    principalArn: role.arn,
    action: a.action,
    resource: a.resource,
    resourceAccount: ACCOUNT,
    context: { 'aws:PrincipalArn': role.arn, 'aws:PrincipalAccount': ACCOUNT, 'aws:RequestedRegion': REGION, ...a.context },
    identityPolicies: identityOf(inst, role).policies,
    scps: [],
    resourcePolicy: a.resourcePolicy,
  });
}

/** The AWS service principal assuming A's role: the trust policy is the resource policy of sts:AssumeRole. */
async function serviceAssumes(inst: InstantiatedTemplate, roleId: string, service: string, sourceArn: string, sourceAccount = ACCOUNT) {
  const role = roleOf(inst, roleId);
  return evaluate({
    principalArn: service,
    action: 'sts:AssumeRole',
    resource: role.arn,
    resourceAccount: ACCOUNT,
    context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceAccount, 'aws:PrincipalServiceName': service },
    identityPolicies: [],
    scps: [],
    resourcePolicy: role.props.AssumeRolePolicyDocument as PolicyJson,
  });
}

function expectDenied(r: { allowed: boolean; result: string }, what: string) {
  expect(r.allowed, `${what}: ${r.result}`).toBe(false);
  expect(r.result, what).not.toMatch(/^error/);
  tally.denied++;
}
function expectAllowed(r: { allowed: boolean; result: string }, what: string) {
  expect(r.allowed, `${what}: ${r.result}`).toBe(true);
  tally.allowed++;
}

let a: InstantiatedTemplate;
let b: InstantiatedTemplate;
let enterpriseA: InstantiatedTemplate;
let enterpriseB: InstantiatedTemplate;

beforeAll(async () => {
  const loaded = await cachedBlueprints(configWith());
  const professional = loaded.tiers.find((t) => t.tierName === 'professional')!;
  expect(professional.tier.isolation).toBe('vpc');
  a = instantiate(professional.tenant, { tenantId: A, vpcCidr: '10.64.0.0/20', account: ACCOUNT, region: REGION });
  b = instantiate(professional.tenant, { tenantId: B, vpcCidr: '10.64.16.0/20', account: ACCOUNT, region: REGION });
  // Dedicated clusters exist only in account-isolated tiers; instantiated in one account all the same,
  // so that the trust conditions, not the account boundary, are what is tested.
  const enterprise = loaded.tiers.find((t) => t.tier.compute.mode === 'dedicated')!;
  enterpriseA = instantiate(enterprise.tenant, { tenantId: A, vpcCidr: '10.64.0.0/20', account: ACCOUNT, region: REGION });
  enterpriseB = instantiate(enterprise.tenant, { tenantId: B, vpcCidr: '10.64.16.0/20', account: ACCOUNT, region: REGION });
}, 120_000);

const metricsStream = (inst: InstantiatedTemplate) => {
  const db = only(inst, 'AWS::RDS::DBInstance');
  const dbi = String(TYPES['AWS::RDS::DBInstance'].attributes!.DbiResourceId(db, inst.env));
  return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:RDSOSMetrics:log-stream:${dbi}`;
};

describe('RDS Enhanced Monitoring role', () => {
  it("writes and reads only its own database's stream in the account's one RDSOSMetrics group", async () => {
    expect(metricsStream(a)).not.toBe(metricsStream(b));
    for (const action of ['logs:PutLogEvents', 'logs:CreateLogStream', 'logs:GetLogEvents']) {
      expectDenied(await asRole(a, 'DatabaseMonitoringRole', { action, resource: metricsStream(b) }), `A's monitoring role ${action} on B's stream`);
      expectAllowed(await asRole(a, 'DatabaseMonitoringRole', { action, resource: metricsStream(a) }), `A's monitoring role ${action} on its own stream`);
    }
  });

  it("is assumable by RDS only for A's DB instance (aws:SourceArn) in A's account (aws:SourceAccount)", async () => {
    const dbArn = (inst: InstantiatedTemplate) => only(inst, 'AWS::RDS::DBInstance').arn;
    expect(dbArn(a)).toBe(`arn:aws:rds:${REGION}:${ACCOUNT}:db:tessera-${A}`);
    expectDenied(await serviceAssumes(a, 'DatabaseMonitoringRole', 'monitoring.rds.amazonaws.com', dbArn(b)), "RDS assumes A's monitoring role for B's instance");
    expectDenied(await serviceAssumes(a, 'DatabaseMonitoringRole', 'monitoring.rds.amazonaws.com', dbArn(a), '999988887777'), "RDS assumes A's monitoring role from another account");
    expectAllowed(await serviceAssumes(a, 'DatabaseMonitoringRole', 'monitoring.rds.amazonaws.com', dbArn(a)), "RDS assumes A's monitoring role for A's instance");
  });
});

describe('AWS Backup role', () => {
  const snapshot = (id: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:awsbackup:job-${id}`;
  const tagged = (tenant: string) => ({ [`aws:ResourceTag/${TENANT_ID_TAG}`]: tenant });
  const tagging = (tenant: string) => ({ [`aws:RequestTag/${TENANT_ID_TAG}`]: tenant, 'aws:TagKeys': [TENANT_ID_TAG] });
  const keyOf = (inst: InstantiatedTemplate) => only(inst, 'AWS::KMS::Key');
  const viaRds = { 'kms:ViaService': `rds.${REGION}.amazonaws.com`, 'kms:GrantIsForAWSResource': 'true', 'kms:CallerAccount': ACCOUNT };

  /** The actions of AWSBackupServiceRolePolicyForBackup that touch an RDS DB instance, its snapshots, a vault or a key. */
  const attempts = (t: InstantiatedTemplate, tenant: string): Array<Omit<Attempt, 'role'>> => {
    const db = only(t, 'AWS::RDS::DBInstance').arn;
    const vault = only(t, 'AWS::Backup::BackupVault').arn;
    const snap = snapshot(tenant === A ? '1b2c3d4e-0000-4000-8000-00000000000a' : '1b2c3d4e-0000-4000-8000-00000000000b');
    const key = keyOf(t);
    const keyPolicy = key.props.KeyPolicy as PolicyJson;
    return [
      ...['rds:ModifyDBInstance', 'rds:CreateDBSnapshot', 'rds:DescribeDBInstances', 'rds:ListTagsForResource', 'rds:DescribeDBSnapshots']
        .map((action) => ({ action, resource: db, context: tagged(tenant) })),
      { action: 'rds:AddTagsToResource', resource: db, context: { ...tagged(tenant), ...tagging(tenant) } },
      { action: 'rds:CreateDBSnapshot', resource: snap, context: tagging(tenant) },
      ...['rds:DeleteDBSnapshot', 'rds:DescribeDBSnapshots', 'rds:ListTagsForResource', 'rds:ModifyDBSnapshotAttribute', 'rds:CopyDBSnapshot']
        .map((action) => ({ action, resource: snap, context: tagged(tenant) })),
      { action: 'rds:AddTagsToResource', resource: snap, context: { ...tagged(tenant), ...tagging(tenant) } },
      { action: 'rds:DeleteDBInstanceAutomatedBackup', resource: `arn:aws:rds:${REGION}:${ACCOUNT}:auto-backup:ab-${tenant.replace(/-/g, '')}`, context: tagged(tenant) },
      { action: 'backup:DescribeBackupVault', resource: vault },
      { action: 'backup:CopyIntoBackupVault', resource: vault },
      { action: 'kms:DescribeKey', resource: key.arn, resourcePolicy: keyPolicy, context: viaRds },
      { action: 'kms:CreateGrant', resource: key.arn, resourcePolicy: keyPolicy, context: viaRds },
    ];
  };
  /** What Backup does for its own tenant (the old policy's extras, sharing and copying, are dropped). */
  const needed = new Set(['rds:ModifyDBInstance', 'rds:CreateDBSnapshot', 'rds:DescribeDBInstances', 'rds:ListTagsForResource', 'rds:DescribeDBSnapshots', 'rds:AddTagsToResource',
    'rds:DeleteDBSnapshot', 'backup:DescribeBackupVault', 'backup:CopyIntoBackupVault', 'kms:DescribeKey', 'kms:CreateGrant']);

  it("attaches no AWS-managed policy: its customer-managed policy names A's database, vault and key", () => {
    const role = roleOf(a, 'DatabaseBackupRole');
    expect(role.props.ManagedPolicyArns ?? []).toEqual([]);
    const text = JSON.stringify(identityOf(a, role).policies);
    expect(text).toContain(`:db:tessera-${A}"`);
    expect(text).not.toContain(':db:*');
    expect(text).not.toContain(`tessera-${B}`);
  });

  it("is denied every RDS, vault and key action of the old managed policy on B's database, snapshots, vault and key", async () => {
    for (const attempt of attempts(b, B)) {
      expectDenied(await asRole(a, 'DatabaseBackupRole', attempt), `A's backup role ${attempt.action} on B's ${attempt.resource}`);
    }
  });

  it('cannot hand a new snapshot, or one without a tenant, to B through the tenant tag', async () => {
    const fresh = snapshot('1b2c3d4e-0000-4000-8000-0000000000ff');
    expectDenied(await asRole(a, 'DatabaseBackupRole', { action: 'rds:AddTagsToResource', resource: fresh, context: tagging(B) }), "A's backup role tags a new snapshot as B's");
    expectDenied(await asRole(a, 'DatabaseBackupRole', { action: 'rds:CreateDBSnapshot', resource: fresh, context: tagging(B) }), "A's backup role creates a snapshot tagged as B's");
    expectDenied(await asRole(a, 'DatabaseBackupRole', { action: 'rds:AddTagsToResource', resource: snapshot('1b2c3d4e-0000-4000-8000-00000000000a'), context: { ...tagged(A), ...tagging(B) } }), "A's backup role re-tags its snapshot as B's");
    expectAllowed(await asRole(a, 'DatabaseBackupRole', { action: 'rds:AddTagsToResource', resource: fresh, context: tagging(A) }), "A's backup role tags a new snapshot as A's");
  });

  it('is allowed what Backup needs on its own database, snapshots, vault and key (positive control)', async () => {
    // Backup tags the recovery points it creates, never the database itself.
    const db = only(a, 'AWS::RDS::DBInstance').arn;
    for (const attempt of attempts(a, A).filter((x) => needed.has(x.action) && !(x.action === 'rds:AddTagsToResource' && x.resource === db))) {
      expectAllowed(await asRole(a, 'DatabaseBackupRole', attempt), `A's backup role ${attempt.action} on its own ${attempt.resource}`);
    }
  });

  it('selects only its own database for its own vault', () => {
    const selection = only(a, 'AWS::Backup::BackupSelection').props.BackupSelection as { IamRoleArn: string; Resources: string[] };
    expect(selection.Resources).toEqual([only(a, 'AWS::RDS::DBInstance').arn]);
    expect(selection.IamRoleArn).toBe(roleOf(a, 'DatabaseBackupRole').arn);
  });
});

describe('VPC flow-log role', () => {
  const groupOf = (inst: InstantiatedTemplate) => {
    const flowLog = only(inst, 'AWS::EC2::FlowLog');
    return Object.values(inst.resources).find((r) => r.type === 'AWS::Logs::LogGroup' && (r.physicalId === flowLog.props.LogGroupName || r.arn === flowLog.props.LogDestination))!;
  };
  const stream = (inst: InstantiatedTemplate) => `${groupOf(inst).arn.replace(/:\*$/, '')}:log-stream:eni-0abc-all`;

  it("writes only into A's flow-log group", async () => {
    for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
      expectDenied(await asRole(a, 'NetworkFlowLogRole', { action, resource: stream(b) }), `A's flow-log role ${action} in B's group`);
      expectAllowed(await asRole(a, 'NetworkFlowLogRole', { action, resource: stream(a) }), `A's flow-log role ${action} in its own group`);
    }
  });

  it('is assumable by VPC Flow Logs only for flow logs of its account and region', async () => {
    const own = only(a, 'AWS::EC2::FlowLog').arn;
    expect(own).toMatch(/:vpc-flow-log\/fl-/);
    expectDenied(await serviceAssumes(a, 'NetworkFlowLogRole', 'vpc-flow-logs.amazonaws.com', own.replace(ACCOUNT, '999988887777'), '999988887777'), "Flow Logs assumes A's role for another account's flow log");
    expectDenied(await serviceAssumes(a, 'NetworkFlowLogRole', 'vpc-flow-logs.amazonaws.com', own.replace(REGION, 'us-west-2')), "Flow Logs assumes A's role for a flow log of another region");
    expectAllowed(await serviceAssumes(a, 'NetworkFlowLogRole', 'vpc-flow-logs.amazonaws.com', own), "Flow Logs assumes A's role for A's flow log");
    // Not asserted: B's flow log in the same account and region matches `vpc-flow-log/*` (the id is
    // generated and the flow log names the role, so the trust cannot name it without a cycle). B's
    // principals would need iam:PassRole on A's role to get there; the cross-tenant isolation test covers PassRole.
  });
});

describe('training events role', () => {
  it("is assumable by EventBridge only for A's rules (the training events, the endpoint events, and its DLQ alarm's state changes)", async () => {
    const ruleArns = (inst: InstantiatedTemplate) => Object.values(inst.resources).filter((r) => r.type === 'AWS::Events::Rule').map((r) => r.arn).sort();
    expect(ruleArns(a)).toEqual([`arn:aws:events:${REGION}:${ACCOUNT}:rule/tessera-${A}-endpoint-events`, `arn:aws:events:${REGION}:${ACCOUNT}:rule/tessera-${A}-training-events`, `arn:aws:events:${REGION}:${ACCOUNT}:rule/tessera-${A}-training-events-alarm`]);
    for (const rule of ruleArns(b)) expectDenied(await serviceAssumes(a, 'TrainingEventsRole', 'events.amazonaws.com', rule), `EventBridge assumes A's events role for B's rule ${rule}`);
    for (const rule of ruleArns(a)) expectAllowed(await serviceAssumes(a, 'TrainingEventsRole', 'events.amazonaws.com', rule), `EventBridge assumes A's events role for A's rule ${rule}`);
  });
});

describe('EKS cluster role (dedicated clusters)', () => {
  it("is assumable by EKS only for A's cluster", async () => {
    const clusterArn = (inst: InstantiatedTemplate) => `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/tessera-${inst.tenantId}`;
    expect(only(enterpriseA, 'AWS::EKS::Cluster').props.Name).toBe(`tessera-${A}`);
    expectDenied(await serviceAssumes(enterpriseA, 'ComputeClusterRole', 'eks.amazonaws.com', clusterArn(enterpriseB)), "EKS assumes A's cluster role for B's cluster");
    expectAllowed(await serviceAssumes(enterpriseA, 'ComputeClusterRole', 'eks.amazonaws.com', clusterArn(enterpriseA)), "EKS assumes A's cluster role for A's cluster");
  });

  it('prints the counts', () => {
    console.log(`service-role pairs: ${tally.denied} cross-tenant attempts denied, ${tally.allowed} own-tenant controls allowed`);
    expect(tally.denied).toBeGreaterThan(0);
    expect(tally.allowed).toBeGreaterThan(0);
  });
});
