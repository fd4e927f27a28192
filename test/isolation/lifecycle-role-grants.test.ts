import { beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { withoutEncryptionContext } from '../support/without-encryption-context.js';
import { findRole, identityOf } from '../../lib/preflight/identity.js';
import { instantiate, type InstantiatedTemplate } from '../../lib/preflight/instantiate.js';
import { deployedLifecycleHandlers, lifecycleRoleName, ORGANIZATION_ACCESS_ROLE_NAME } from '../../lib/lifecycle-handlers.js';
import { configWith } from '../support/config-with.js';
import { defaultAppTemplates } from '../support/default-app.js';

/**
 * What two lifecycle roles may do, through the IAM simulator (lib/preflight/iam-eval.ts) over the
 * synthesized platform stack: Manage usage key can make every API Gateway call it makes (the
 * integration harness does not enforce IAM, so a missing grant would pass there), and the
 * lease-taking steps, which end a dead lease without fencing it, cannot reach Organizations.
 */

const PARTITION = 'aws';
let inst: InstantiatedTemplate;
let account: string;
let region: string;
let management: string;
beforeAll(() => {
  const config = configWith();
  account = config.platformAccountId;
  region = config.homeRegion;
  management = config.organization.managementAccountId;
  inst = instantiate(defaultAppTemplates().platformWithPolicies.toJSON() as CfnTemplate, { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account, region, partition: PARTITION, stackName: 'TesseraPlatform', lenient: true });
}, 240_000);

/**
 * Whether `handler`'s role may make the request. `options.context` adds to the request context (`kms:ViaService`);
 * `options.resourcePolicy` is the resource's policy (the platform key's key policy for a KMS request: KMS admits identity
 * policies only as far as it delegates to the account). The simulator cannot evaluate `kms:EncryptionContext:<key>`
 * conditions (it takes a condition key's variable part to end at a '/', and `aws:dynamodb:tableName` holds colons): they
 * are left out of the policies of a KMS request, and test/infra/platform-key-decrypt.test.ts checks them as written.
 */
async function allowed(handler: Parameters<typeof lifecycleRoleName>[0], action: string, resource: string, resourceAccount = account,
  options: { context?: Record<string, string>; resourcePolicy?: PolicyJson } = {}): Promise<boolean> {
  const name = lifecycleRoleName(handler);
  const role = findRole(inst, name);
  if (!role) throw new Error(`no role ${name}`);
  const roleArn = `arn:${PARTITION}:iam::${account}:role/${name}`;
  const policies = identityOf(inst, role).policies.map((p) => ({ ...p, policy: p.policy as PolicyJson }));
  const r = await evaluate({
    principalArn: `arn:${PARTITION}:sts::${account}:assumed-role/${name}/fn`, action, resource, resourceAccount,
    context: { 'aws:PrincipalArn': roleArn, 'aws:PrincipalAccount': account, 'aws:PrincipalType': 'AssumedRole', 'aws:RequestedRegion': region, 'aws:SecureTransport': 'true', ...options.context },
    identityPolicies: action.startsWith('kms:') ? policies.map((p) => ({ ...p, policy: withoutEncryptionContext(p.policy) })) : policies, scps: [],
    resourcePolicy: options.resourcePolicy,
  });
  expect(r.result).not.toMatch(/^error/);
  return r.allowed;
}

describe('Manage usage key can make every call it makes', () => {
  it('GetUsagePlans, GetApiKeys (new), CreateApiKey with tags, CreateUsagePlanKey, DeleteUsagePlanKey, DeleteApiKey', async () => {
    const gw = (path: string) => `arn:${PARTITION}:apigateway:${region}::${path}`;
    const calls: Array<[string, string]> = [
      ['apigateway:GET', gw('/usageplans')], ['apigateway:GET', gw('/apikeys')], ['apigateway:POST', gw('/apikeys')],
      ['apigateway:PUT', gw(`/tags/${encodeURIComponent(gw('/apikeys/abc123'))}`)],
      ['apigateway:POST', gw('/usageplans/plan1/keys')], ['apigateway:DELETE', gw('/usageplans/plan1/keys/abc123')], ['apigateway:DELETE', gw('/apikeys/abc123')],
    ];
    const out: Record<string, boolean> = {};
    for (const [a, r] of calls) out[`${a} ${r.split('::')[1]}`] = await allowed('manage-usage-key', a, r);
    expect(Object.entries(out).filter(([, ok]) => !ok).map(([k]) => k)).toEqual([]);
  });
});

// A tier recorded from a change's stack standing (Record failure, End stopped execution, Check drift) moves the tenant's usage
// key into that tier's plan (manage-usage-key.ts settleUsageKey): the plan-key calls only, no key created, tagged or deleted.
describe('the steps that record a standing can move the usage key between plans, nothing more', () => {
  it.each(['record-failure', 'end-stopped-execution', 'check-drift'] as const)('%s: GetUsagePlans, CreateUsagePlanKey, DeleteUsagePlanKey; not CreateApiKey, DeleteApiKey, GetApiKeys', async (handler) => {
    const gw = (path: string) => `arn:${PARTITION}:apigateway:${region}::${path}`;
    expect(await allowed(handler, 'apigateway:GET', gw('/usageplans'))).toBe(true);
    expect(await allowed(handler, 'apigateway:POST', gw('/usageplans/plan1/keys'))).toBe(true);
    expect(await allowed(handler, 'apigateway:DELETE', gw('/usageplans/plan1/keys/abc123'))).toBe(true);
    expect(await allowed(handler, 'apigateway:POST', gw('/apikeys'))).toBe(false);
    expect(await allowed(handler, 'apigateway:DELETE', gw('/apikeys/abc123'))).toBe(false);
    expect(await allowed(handler, 'apigateway:GET', gw('/apikeys'))).toBe(false);
    expect(await allowed(handler, 'apigateway:DELETE', gw('/usageplans/plan1'))).toBe(false);
  });
});

// s42: End stopped execution reads a stopped execution's history for the state it stopped in (stopped-step.ts): on the
// executions of the lease-holding workflows only, by state machine name, not `*`. s43: so do the lease-taking steps, which
// end a dead lease they meet the same way (lease.ts endDeadLease); no other step may.
describe('GetExecutionHistory: End stopped execution and the lease-taking steps, on the lease-holding workflows\' executions only', () => {
  const execution = (machine: string, name = 'change-acme-mx7mvqcv-b1070bea') => `arn:${PARTITION}:states:${region}:${account}:execution:${machine}:${name}`;
  it('end-stopped-execution: each lease-holding workflow\'s executions and the rolling upgrade\'s children; not the drift workflow\'s, another account\'s, or another state machine\'s', async () => {
    for (const machine of ['tessera-onboard', 'tessera-change', 'tessera-status', 'tessera-offboard', 'tessera-upgrade', 'tessera-upgrade/8a1c5e2b-6d1f-3c4a-9f2e-1b2c3d4e5f60']) {
      expect(await allowed('end-stopped-execution', 'states:GetExecutionHistory', execution(machine)), machine).toBe(true);
    }
    expect(await allowed('end-stopped-execution', 'states:GetExecutionHistory', execution('tessera-drift'))).toBe(false);
    expect(await allowed('end-stopped-execution', 'states:GetExecutionHistory', execution('other-machine'))).toBe(false);
    expect(await allowed('end-stopped-execution', 'states:GetExecutionHistory', `arn:${PARTITION}:states:${region}:999999999999:execution:tessera-change:x`, '999999999999')).toBe(false);
  });
  it.each(['register-tenant', 'begin-change', 'set-status', 'begin-offboarding'] as const)('s43: %s, which ends a dead lease it meets as End stopped execution does: the lease-holding workflows\' executions; not the drift workflow\'s', async (handler) => {
    for (const machine of ['tessera-onboard', 'tessera-change', 'tessera-status', 'tessera-offboard', 'tessera-upgrade/8a1c5e2b-6d1f-3c4a-9f2e-1b2c3d4e5f60']) {
      expect(await allowed(handler, 'states:GetExecutionHistory', execution(machine)), machine).toBe(true);
    }
    expect(await allowed(handler, 'states:GetExecutionHistory', execution('tessera-drift'))).toBe(false);
  });
  it.each(['record-failure', 'check-rebuilt-stack', 'finish-change'] as const)('%s may not', async (handler) => {
    expect(await allowed(handler, 'states:GetExecutionHistory', execution('tessera-change'))).toBe(false);
  });
});

// The identity policy alone (the access role's trust admits every tessera-lifecycle-* role of the platform account).
describe('the lease-taking steps and Organizations', () => {
  it.each(['set-status', 'begin-change', 'begin-offboarding', 'register-tenant'] as const)('%s cannot reach the organization access role (CreateAccount, CloseAccount, every member account\'s provisioning role)', async (handler) => {
    expect(await allowed(handler, 'sts:AssumeRole', `arn:${PARTITION}:iam::${management}:role/${ORGANIZATION_ACCESS_ROLE_NAME}`)).toBe(false);
  });
  it('positive control: the step that creates accounts can', async () => {
    expect(await allowed('create-account', 'sts:AssumeRole', `arn:${PARTITION}:iam::${management}:role/${ORGANIZATION_ACCESS_ROLE_NAME}`)).toBe(true);
  });
});

// Begin change reads the blueprint catalog (HeadObject: s3:GetObject) to refuse a tier not published at the version a change
// deploys: the blueprint templates only, and no s3:ListBucket (a 403 for a missing key is told apart without it: blueprints.ts).
describe('Begin change reads the blueprint catalog, nothing more', () => {
  it('s3:GetObject on blueprints/*, not on the bucket\'s other keys, and no s3:ListBucket', async () => {
    const bucketArn = findBucketArn();
    expect(await allowed('begin-change', 's3:GetObject', `${bucketArn}/blueprints/1.0.0/professional.template.json`)).toBe(true);
    expect(await allowed('begin-change', 's3:GetObject', `${bucketArn}/other/professional.template.json`)).toBe(false);
    expect(await allowed('begin-change', 's3:ListBucket', bucketArn)).toBe(false);
    expect(await allowed('begin-change', 's3:PutObject', `${bucketArn}/blueprints/1.0.0/professional.template.json`)).toBe(false);
  });
});

// Deploy blueprint writes the interim template of a cache's failover change (lambdas/lifecycle/cache-failover-interim.ts)
// beside the published template it derives from, and nothing else of the catalog.
describe('Deploy blueprint writes interim templates only', () => {
  it('s3:PutObject under blueprints/<version>/interim/, not over a published template or elsewhere; no other step may', async () => {
    const bucketArn = findBucketArn();
    expect(await allowed('deploy-blueprint', 's3:PutObject', `${bucketArn}/blueprints/1.0.0/interim/professional.cache-failover-off.template.json`)).toBe(true);
    expect(await allowed('deploy-blueprint', 's3:PutObject', `${bucketArn}/blueprints/1.0.0/professional.template.json`)).toBe(false);
    expect(await allowed('deploy-blueprint', 's3:PutObject', `${bucketArn}/other/interim/x.json`)).toBe(false);
    expect(await allowed('deploy-blueprint', 's3:DeleteObject', `${bucketArn}/blueprints/1.0.0/interim/professional.cache-failover-off.template.json`)).toBe(false);
    expect(await allowed('check-stack', 's3:PutObject', `${bucketArn}/blueprints/1.0.0/interim/professional.cache-failover-off.template.json`)).toBe(false);
  });
});

/** The ARN of the bucket Begin change's templates grant names (the blueprint catalog). */
function findBucketArn(): string {
  const role = findRole(inst, lifecycleRoleName('begin-change'))!;
  const statements = identityOf(inst, role).policies.flatMap((p) => ((p.policy as { Statement: Array<{ Sid?: string; Resource: string | string[] }> }).Statement));
  const read = statements.find((s) => s.Sid === 'ReadBlueprintTemplates');
  if (!read) throw new Error('no ReadBlueprintTemplates statement');
  const resource = ([] as string[]).concat(read.Resource)[0];
  return resource.replace(/\/blueprints\/\*$/, '');
}



// The platform key (alias/tessera/platform) protects the registry, the control and API keys tables, the archive, the work
// bucket and the audit bucket the lifecycle uses, and much else (the gateway's tables, provider secrets): a lifecycle role
// may use it only as DynamoDB or S3 asks it for what the role's step does there, never by calling KMS itself.
describe('the lifecycle roles and the platform key', () => {
  let keyArn: string;
  let keyPolicy: PolicyJson;
  beforeAll(() => {
    const alias = Object.values(inst.resources).find((r) => r.type === 'AWS::KMS::Alias' && r.props.AliasName === 'alias/tessera/platform')!;
    const key = inst.lookup(alias.props.TargetKeyId)!;
    keyArn = key.arn;
    keyPolicy = key.props.KeyPolicy as PolicyJson;
  });
  const kms = (handler: Parameters<typeof lifecycleRoleName>[0], action: string, service?: string) =>
    allowed(handler, action, keyArn, account, { context: service ? { 'kms:ViaService': `${service}.${region}.amazonaws.com` } : {}, resourcePolicy: keyPolicy });

  it('no lifecycle role can call KMS with it directly (Decrypt, GenerateDataKey, Encrypt, ReEncryptFrom)', async () => {
    const handlers = deployedLifecycleHandlers(configWith());
    expect(handlers.length).toBeGreaterThan(30);
    const direct: string[] = [];
    for (const handler of handlers) {
      for (const action of ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptFrom']) if (await kms(handler, action)) direct.push(`${handler} ${action}`);
    }
    expect(direct).toEqual([]);
  });

  it('Register tenant may have DynamoDB decrypt and encrypt its tables\' items, and nothing through S3, Secrets Manager or SQS', async () => {
    for (const action of ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey']) expect(await kms('register-tenant', action, 'dynamodb'), action).toBe(true);
    for (const service of ['s3', 'secretsmanager', 'sqs']) expect(await kms('register-tenant', 'kms:Decrypt', service), service).toBe(false);
  });

  it('Summarize upgrade, which touches no table, may have S3 decrypt its results and nothing else', async () => {
    expect(await kms('summarize-upgrade', 'kms:Decrypt', 's3')).toBe(true);
    expect(await kms('summarize-upgrade', 'kms:GenerateDataKey', 's3')).toBe(false);
    for (const service of ['dynamodb', 'secretsmanager']) expect(await kms('summarize-upgrade', 'kms:Decrypt', service), service).toBe(false);
  });

  it('the export may have S3 encrypt and decrypt (its multipart uploads, its manifest parts); Lift protections, which only writes its audit records, encrypt only', async () => {
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) expect(await kms('export-tenant-data', action, 's3'), action).toBe(true);
    expect(await kms('lift-protections', 'kms:GenerateDataKey', 's3')).toBe(true);
    expect(await kms('lift-protections', 'kms:Decrypt', 's3')).toBe(false);
  });
});
