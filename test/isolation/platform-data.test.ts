import { beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { withoutEncryptionContext } from '../support/without-encryption-context.js';
import { findRole, identityOf } from '../../lib/preflight/identity.js';
import { instantiate, type InstantiatedTemplate } from '../../lib/preflight/instantiate.js';
import { TENANT_USERS_ROLE_NAME } from '../../constructs/inference-api.js';
import { PLATFORM_ROLE_NAMES } from '../../lib/fine-tuning.js';
import { TENANT_DATA_ROLE_NAME } from '../../lib/tenant-naming.js';
import { configWith } from '../support/config-with.js';
import { defaultAppTemplates } from '../support/default-app.js';
import type { SimulationIdentityPolicy } from '@cloud-copilot/iam-simulate';
import { KEYS_BY_CREATION_INDEX } from '../../lib/identity/api-key.js';

/**
 * The platform's pooled data (registry, usage, fine-tuning jobs, stored-responses and API keys tables;
 * tenants' provider secrets) against the tenant-data role the gateway and fine-tuning Lambdas act through: the
 * synthesized platform stack, instantiated (intrinsics resolved), its role's policies put through
 * the IAM policy simulator (lib/preflight/iam-eval.ts) as a session tagged `tessera:tenant-id` =
 * one tenant, with the request context DynamoDB, Secrets Manager and KMS give (`dynamodb:LeadingKeys`,
 * `dynamodb:Attributes`, the secret's tags, `kms:ViaService`, encryption context).
 *
 * Tenants `acme` and `acme-2` share a prefix: a pattern that is a mere prefix would leak. Every
 * attempt on the other tenant's items is denied; every positive control on the tenant's own is
 * allowed (an evaluator that denies everything proves nothing). KMS requests carry the platform
 * key's key policy. What this does not model: `kms:EncryptionContext:<key>` conditions (checked as
 * written, see below), VPC endpoint policies (the
 * Lambdas use none), and how DynamoDB fills LeadingKeys for each API (taken from AWS's docs:
 * the partition key values of the items or of the query's key condition; none for Scan).
 */

const PARTITION = 'aws';
let inst: InstantiatedTemplate;
let account: string;
let region: string;
let policies: SimulationIdentityPolicy[];
let resolved: Array<{ name: string; policy: PolicyJson }>;
type Statement = { Sid?: string; Action: string | string[]; Resource: string | string[]; Condition?: Record<string, Record<string, unknown>> };
const statementsOf = (docs: Array<{ policy: PolicyJson }>) => docs.flatMap((d) => ([] as Statement[]).concat(d.policy.Statement as Statement[]));
let trust: PolicyJson;
const AUTHORIZER_ROLE = 'tessera-gateway-authorizer';
let authorizerPolicies: SimulationIdentityPolicy[];
let keyArn: string;
let keyPolicy: PolicyJson;
/** The Batch API's files bucket (constructs/batch-work.ts), its ARN as instantiated. */
let batchBucketArn: string;
const batchFile = (tenant: string, file = 'file-0123456789abcdef') => `${batchBucketArn}/tenants/${tenant}/batch-files/${file}`;
/** The audit bucket (constructs/audit-trail.ts), its ARN as instantiated. */
let auditBucketArn: string;
/** A gateway request's record (S3AuditSink): `tessera-audit/[dr-tier/]<stream>/<tenant>/<day>/<requestId>.json`. */
const auditRecord = (tenant: string, { dr = false, stream = 'inference' } = {}) => `${auditBucketArn}/tessera-audit/${dr ? 'dr-tier/' : ''}${stream}/${tenant}/2026-12-05/req_0123456789abcdef01234567.json`;
const table = (name: string) => `arn:${PARTITION}:dynamodb:${region}:${account}:table/${name}`;
const secret = (tenant: string, provider = 'openai') => `arn:${PARTITION}:secretsmanager:${region}:${account}:secret:tessera/tenants/${tenant}/${provider}-AbCdEf`;

beforeAll(() => {
  // The default app's platform stack (buildApp(): default config), through its shared disk cache; the stack's env is the config's platform account and home Region (lib/tessera-app.ts).
  const config = configWith();
  account = config.platformAccountId;
  region = config.homeRegion;
  const template = defaultAppTemplates().platformWithPolicies.toJSON() as CfnTemplate;
  inst = instantiate(template, { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account, region, partition: PARTITION, stackName: 'TesseraPlatform', lenient: true });
  const role = findRole(inst, TENANT_DATA_ROLE_NAME);
  if (!role) throw new Error(`the platform stack has no role ${TENANT_DATA_ROLE_NAME}`);
  // lib/preflight/resource-types.ts does not model AWS::DynamoDB::GlobalTable's Arn attribute: resolve it here as CloudFormation does.
  const tables = Object.values(inst.resources).filter((r) => r.type === 'AWS::DynamoDB::GlobalTable');
  const tableArns = new Map([
    ...tables.map((r) => [`${r.logicalId}.Arn`, table(String(r.props.TableName))] as [string, string]),
    ...tables.map((r) => [r.physicalId, String(r.props.TableName)] as [string, string]),
  ]);
  const resolveTables = (v: unknown): unknown => (typeof v === 'string' ? tableArns.get(v) ?? v : Array.isArray(v) ? v.map(resolveTables) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveTables(x)])) : v);
  resolved = identityOf(inst, role).policies.map((p) => ({ ...p, policy: resolveTables(p.policy) as PolicyJson }));
  // The simulator cannot evaluate `kms:EncryptionContext:<key>` (it takes the key's variable part to
  // end at a '/', and encryption context keys such as `aws:dynamodb:tableName` hold colons): the KMS
  // statements are evaluated without their encryption-context conditions, which the last test
  // checks as written instead.
  policies = resolved.map((p) => ({ ...p, policy: withoutEncryptionContext(p.policy) }));
  const authorizerRole = findRole(inst, AUTHORIZER_ROLE);
  if (!authorizerRole) throw new Error(`the platform stack has no role ${AUTHORIZER_ROLE}`);
  authorizerPolicies = identityOf(inst, authorizerRole).policies.map((p) => ({ ...p, policy: withoutEncryptionContext(resolveTables(p.policy) as PolicyJson) }));
  const unresolved = JSON.stringify(policies).match(/"[A-Za-z0-9]+\.Arn"/g);
  if (unresolved) throw new Error(`unresolved ARNs in the tenant-data role's policies: ${unresolved.join(', ')}`);
  trust = role.props.AssumeRolePolicyDocument as PolicyJson;
  // The platform key (alias/tessera/platform), as the instantiated alias names it.
  const alias = Object.values(inst.resources).find((r) => r.type === 'AWS::KMS::Alias' && r.props.AliasName === 'alias/tessera/platform')!;
  const key = inst.lookup(alias.props.TargetKeyId)!;
  keyArn = key.arn;
  keyPolicy = key.props.KeyPolicy as PolicyJson;
  batchBucketArn = Object.values(inst.resources).find((r) => r.type === 'AWS::S3::Bucket' && r.logicalId.startsWith('InferenceBatchesFiles'))!.arn;
  auditBucketArn = Object.values(inst.resources).find((r) => r.type === 'AWS::S3::Bucket' && r.logicalId.startsWith('AuditBucket'))!.arn;
}, 240_000);

interface Attempt {
  readonly what: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
}

/** A request of a session of the tenant-data role tagged with `tenant`. */
async function asTenant(tenant: string, a: Attempt) {
  const roleArn = `arn:${PARTITION}:iam::${account}:role/${TENANT_DATA_ROLE_NAME}`;
  const r = await evaluate({
    principalArn: `arn:${PARTITION}:sts::${account}:assumed-role/${TENANT_DATA_ROLE_NAME}/tenant-${tenant}`,
    action: a.action, resource: a.resource, resourceAccount: account,
    context: {
      'aws:PrincipalArn': roleArn, 'aws:PrincipalAccount': account, 'aws:PrincipalType': 'AssumedRole', 'aws:RequestedRegion': region,
      'aws:SecureTransport': 'true', 'aws:PrincipalTag/tessera:tenant-id': tenant, 'aws:ResourceAccount': account, ...a.context,
    },
    identityPolicies: policies, scps: [],
    // KMS admits identity policies only as far as the key policy delegates to the account.
    resourcePolicy: a.action.startsWith('kms:') ? keyPolicy : undefined,
  });
  expect(r.result, `${a.what}: ${r.result}`).not.toMatch(/^error/);
  return r;
}

const keys = (...k: string[]) => ({ 'dynamodb:LeadingKeys': k });
const REGISTRY = 'tessera-tenants';
const USAGE = 'tessera-usage';
const JOBS = 'tessera-fine-tuning-jobs';
const RESPONSES = 'tessera-gateway-responses';
const API_KEYS = 'tessera-gateway-api-keys';
const MODEL_ATTRIBUTES = ['tenantId', 'fineTunedModels', 'updatedAt'];

/** What a session of `attacker` tries on `victim`'s items and secrets: every one must be denied. */
function crossTenant(attacker: string, victim: string): Attempt[] {
  const items = [
    { table: REGISTRY, key: victim },
    { table: USAGE, key: `rate#${victim}#2026-11-30T12:00` },
    { table: USAGE, key: `usage#${victim}#2026-11-30` },
    { table: USAGE, key: `usage#${victim}#2026-11` },
    { table: USAGE, key: `usage#${victim}#model#2026-11-30#openai/gpt-4o-mini` }, // the usage ledger
    { table: JOBS, key: victim },
    { table: RESPONSES, key: victim },
    { table: API_KEYS, key: victim },
  ];
  const out: Attempt[] = [];
  for (const i of items) {
    for (const action of ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'ConditionCheckItem', 'BatchGetItem', 'BatchWriteItem']) {
      out.push({ what: `${action} ${i.table} ${i.key}`, action: `dynamodb:${action}`, resource: table(i.table), context: { ...keys(i.key), ...(action === 'UpdateItem' ? { 'dynamodb:Attributes': MODEL_ATTRIBUTES } : {}) } });
    }
    // One request naming an own item and the other's: ForAllValues must refuse it whole.
    const own = i.key.replace(victim, attacker);
    out.push({ what: `UpdateItem ${i.table} ${own} + ${i.key}`, action: 'dynamodb:UpdateItem', resource: table(i.table), context: { ...keys(own, i.key), 'dynamodb:Attributes': MODEL_ATTRIBUTES } });
  }
  for (const t of [REGISTRY, USAGE, JOBS, RESPONSES, API_KEYS]) {
    // No LeadingKeys at all: `ForAllValues` alone would be vacuously true.
    out.push({ what: `Scan ${t}`, action: 'dynamodb:Scan', resource: table(t) });
    out.push({ what: `Query ${t} without key context`, action: 'dynamodb:Query', resource: table(t) });
  }
  out.push(
    { what: 'Query the registry by status (index)', action: 'dynamodb:Query', resource: `${table(REGISTRY)}/index/by-status`, context: keys('ACTIVE') },
    // The usage ledger's index (GET /v1/usage?group_by=model): a session queries its own tenant's months only (ownControls).
    { what: `Query the usage ledger (index) of ${victim}`, action: 'dynamodb:Query', resource: `${table(USAGE)}/index/model-usage`, context: keys(`usage#${victim}#model#2026-11`) },
    { what: `Query the usage ledger (index) of ${attacker} and ${victim} at once`, action: 'dynamodb:Query', resource: `${table(USAGE)}/index/model-usage`, context: keys(`usage#${attacker}#model#2026-11`, `usage#${victim}#model#2026-11`) },
    // The tag ledger's partition of the same index (GET /v1/usage?group_by=tag): its own tenant's only too.
    { what: `Query the usage by tag (index) of ${victim}`, action: 'dynamodb:Query', resource: `${table(USAGE)}/index/model-usage`, context: keys(`usage#${victim}#tag#2026-11`) },
    { what: `Query the usage by tag (index) of ${attacker} and ${victim} at once`, action: 'dynamodb:Query', resource: `${table(USAGE)}/index/model-usage`, context: keys(`usage#${attacker}#tag#2026-11`, `usage#${victim}#tag#2026-11`) },
    { what: 'Query the usage ledger (index) without key context', action: 'dynamodb:Query', resource: `${table(USAGE)}/index/model-usage` },
    { what: `Query the usage ledger (index) by a key of ${attacker}'s outside the ledger`, action: 'dynamodb:Query', resource: `${table(USAGE)}/index/model-usage`, context: keys(`usage#${attacker}#2026-11`) },
    ...['Scan', 'GetItem', 'UpdateItem'].map((action) => ({ what: `${action} the usage ledger (index) of ${attacker}`, action: `dynamodb:${action}`, resource: `${table(USAGE)}/index/model-usage`, context: keys(`usage#${attacker}#model#2026-11`) })),
    { what: `Query the jobs by training job name (index) of ${victim}`, action: 'dynamodb:Query', resource: `${table(JOBS)}/index/by-training-job`, context: keys(`${victim}-ft-0000019d0a1b2c3d4e5f6a7b`) },
    { what: `GetSecretValue ${victim}'s provider key`, action: 'secretsmanager:GetSecretValue', resource: secret(victim), context: { 'aws:ResourceTag/tessera:tenant-id': victim } },
    { what: `GetSecretValue ${victim}'s provider key tagged ${attacker} (mis-tagged)`, action: 'secretsmanager:GetSecretValue', resource: secret(victim), context: { 'aws:ResourceTag/tessera:tenant-id': attacker } },
    { what: `GetSecretValue a secret under ${attacker}'s path tagged ${victim}`, action: 'secretsmanager:GetSecretValue', resource: secret(attacker), context: { 'aws:ResourceTag/tessera:tenant-id': victim } },
    { what: 'GetSecretValue the platform\'s provider key', action: 'secretsmanager:GetSecretValue', resource: `arn:${PARTITION}:secretsmanager:${region}:${account}:secret:tessera/providers/openai-AbCdEf`, context: {} },
    { what: `PutSecretValue ${victim}'s provider key`, action: 'secretsmanager:PutSecretValue', resource: secret(victim), context: { 'aws:ResourceTag/tessera:tenant-id': victim } },
    { what: 'kms:Decrypt directly (not through a service)', action: 'kms:Decrypt', resource: keyArn, context: {} },
    // kms:Decrypt through S3 is granted for the session tenant's batch files only, by encryption context (aws:s3:arn),
    // which the simulator does not evaluate: checked as written below (the platform key's uses).
    // The Batch API's files: another tenant's, a prefix beside the tenant's own, the bucket's listing.
    ...['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:GetObjectVersion', 's3:DeleteObjectVersion'].map((action) => ({ what: `${action} ${victim}'s batch file`, action, resource: batchFile(victim) })),
    { what: `GetObject ${attacker}'s prefix without batch-files/`, action: 's3:GetObject', resource: `${batchBucketArn}/tenants/${attacker}/other` },
    { what: `GetObject of tenant ${attacker}-x (its id starts with ${attacker})`, action: 's3:GetObject', resource: `${batchBucketArn}/tenants/${attacker}-x/batch-files/file-1` },
    { what: 'ListBucket the batch files bucket', action: 's3:ListBucket', resource: batchBucketArn, context: { 's3:prefix': `tenants/${victim}/` } },
    // OpenAI's Uploads API lists only inside the session tenant's uploads' prefix (ListOwnUploads): not the other tenant's
    // uploads or an upload's parts, not a prefix that reaches past the session's own (`tenants/acme*` lists acme-2's too,
    // `tenants/acme` and the batch files' prefix all of acme's files), not a tenant whose id starts with the session's,
    // not the whole bucket.
    ...[
      `tenants/${victim}/batch-files/uploads/`, `tenants/${victim}/batch-files/uploads/upload_0123456789abcdef01234567/parts/`,
      `tenants/${attacker}*`, `tenants/${attacker}`, `tenants/${attacker}/`, `tenants/${attacker}/batch-files/`, `tenants/${attacker}/batch-files/uploads`,
      `tenants/${attacker}-x/batch-files/uploads/`, `tenants/*/batch-files/uploads/`, 'tenants/', '',
    ].map((prefix) => ({ what: `ListBucket the batch files bucket, prefix ${JSON.stringify(prefix)}`, action: 's3:ListBucket', resource: batchBucketArn, context: { 's3:prefix': prefix } })),
    { what: 'ListBucket the batch files bucket, no prefix', action: 's3:ListBucket', resource: batchBucketArn },
    // The audit bucket (GET /v1/tenant/requests/{request_id}): the other tenant's records of either gateway stream (the
    // router's, the fine-tuning API's) under either prefix, a tenant whose id starts with the session's, the session's own
    // lifecycle records, any write, delete or listing.
    ...['inference', 'fine-tuning'].flatMap((stream) => [false, true].flatMap((dr) => ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject'].map((action) => ({ what: `${action} ${victim}'s ${stream} audit record${dr ? ' (dr-tier)' : ''}`, action, resource: auditRecord(victim, { dr, stream }) })))),
    ...['inference', 'fine-tuning'].map((stream) => ({ what: `GetObject the ${stream} audit record of tenant ${attacker}-x (its id starts with ${attacker})`, action: 's3:GetObject', resource: auditRecord(`${attacker}-x`, { stream }) })),
    ...[false, true].map((dr) => ({ what: `GetObject ${attacker}'s own lifecycle audit record${dr ? ' (dr-tier)' : ''}`, action: 's3:GetObject', resource: auditRecord(attacker, { dr, stream: 'lifecycle' }) })),
    { what: `PutObject ${attacker}'s own fine-tuning audit record`, action: 's3:PutObject', resource: auditRecord(attacker, { stream: 'fine-tuning' }) },
    { what: `GetObject a CloudTrail file`, action: 's3:GetObject', resource: `${auditBucketArn}/AWSLogs/${account}/CloudTrail/${region}/2026/12/05/file.json.gz` },
    { what: `PutObject ${attacker}'s own audit record`, action: 's3:PutObject', resource: auditRecord(attacker) },
    { what: 'ListBucket the audit bucket', action: 's3:ListBucket', resource: auditBucketArn, context: { 's3:prefix': `tessera-audit/inference/${attacker}/` } },
    { what: 'kms:GenerateDataKey through Secrets Manager (writing a secret)', action: 'kms:GenerateDataKey', resource: keyArn, context: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
  );
  return out;
}

/** What a session of `tenant` exists for, on its own items and secrets: every one must be allowed. */
function ownControls(tenant: string): Attempt[] {
  return [
    { what: 'GetItem own registry record', action: 'dynamodb:GetItem', resource: table(REGISTRY), context: keys(tenant) },
    { what: 'UpdateItem own registry record (fine-tuned models)', action: 'dynamodb:UpdateItem', resource: table(REGISTRY), context: { ...keys(tenant), 'dynamodb:Attributes': MODEL_ATTRIBUTES, 'dynamodb:ReturnValues': 'NONE' } },
    { what: 'ConditionCheckItem own registry record (a key write\'s status fence)', action: 'dynamodb:ConditionCheckItem', resource: table(REGISTRY), context: keys(tenant) },
    ...[`rate#${tenant}#2026-11-30T12:00`, `rate#${tenant}#2026-11-30T12`, `rate#${tenant}#2026-11-30`, `usage#${tenant}#2026-11-30`, `usage#${tenant}#2026-11`, `usage#${tenant}#model#2026-11-30#openai/gpt-4o-mini`, `usage#${tenant}#tag#2026-11-30#checkout`, `usage#${tenant}#tags#2026-11`].flatMap((k) => [
      { what: `GetItem own usage ${k}`, action: 'dynamodb:GetItem', resource: table(USAGE), context: keys(k) },
      { what: `UpdateItem own usage ${k}`, action: 'dynamodb:UpdateItem', resource: table(USAGE), context: keys(k) },
    ]),
    { what: 'Query own usage ledger (index) of a month', action: 'dynamodb:Query', resource: `${table(USAGE)}/index/model-usage`, context: keys(`usage#${tenant}#model#2026-11`) },
    { what: 'Query own usage by tag (index) of a month', action: 'dynamodb:Query', resource: `${table(USAGE)}/index/model-usage`, context: keys(`usage#${tenant}#tag#2026-11`) },
    ...['GetItem', 'PutItem', 'UpdateItem', 'Query'].map((action) => ({ what: `${action} own jobs`, action: `dynamodb:${action}`, resource: table(JOBS), context: keys(tenant) })),
    ...['GetItem', 'PutItem', 'DeleteItem'].map((action) => ({ what: `${action} own stored response`, action: `dynamodb:${action}`, resource: table(RESPONSES), context: keys(tenant) })),
    ...['GetItem', 'Query', 'PutItem', 'UpdateItem'].map((action) => ({ what: `${action} own API key`, action: `dynamodb:${action}`, resource: table(API_KEYS), context: keys(tenant) })),
    { what: 'Query own API keys by creation (index)', action: 'dynamodb:Query', resource: `${table(API_KEYS)}/index/${KEYS_BY_CREATION_INDEX.name}`, context: keys(tenant) },
    { what: 'GetSecretValue own provider key', action: 'secretsmanager:GetSecretValue', resource: secret(tenant), context: { 'aws:ResourceTag/tessera:tenant-id': tenant } },
    ...['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'].map((action) => ({ what: `${action} through DynamoDB`, action, resource: keyArn, context: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } })),
    { what: 'kms:Decrypt through Secrets Manager', action: 'kms:Decrypt', resource: keyArn, context: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
    ...['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].map((action) => ({ what: `${action} own batch file`, action, resource: batchFile(tenant) })),
    ...['kms:Decrypt', 'kms:GenerateDataKey'].map((action) => ({ what: `${action} through S3 (own batch file)`, action, resource: keyArn, context: { 'kms:ViaService': `s3.${region}.amazonaws.com` } })),
    // The Uploads API's listings (ListOwnUploads): an upload's parts (the S3 store's partSizes), and all of the tenant's
    // uploads (offboarding's erasure, erase-pooled-gateway-data.ts).
    ...[`tenants/${tenant}/batch-files/uploads/upload_0123456789abcdef01234567/parts/`, `tenants/${tenant}/batch-files/uploads/`].map((prefix) => ({ what: `ListBucket own uploads, prefix ${prefix}`, action: 's3:ListBucket', resource: batchBucketArn, context: { 's3:prefix': prefix } })),
    ...['inference', 'fine-tuning'].flatMap((stream) => [false, true].map((dr) => ({ what: `GetObject own ${stream} audit record${dr ? ' (dr-tier)' : ''}`, action: 's3:GetObject', resource: auditRecord(tenant, { dr, stream }) }))),
  ];
}

const PAIRS: Array<[string, string]> = [['acme', 'acme-2'], ['acme-2', 'acme']];

describe('platform data: a session tagged with one tenant reaches none of another tenant\'s pooled items or secrets', () => {
  it.each(PAIRS)('a session of %s: every attempt on %s\'s registry, usage, job and stored-response items and provider key is denied; its own are allowed', async (attacker, victim) => {
    const cross = crossTenant(attacker, victim);
    const allowed: string[] = [];
    for (const a of cross) if ((await asTenant(attacker, a)).allowed) allowed.push(a.what);
    const controls = ownControls(attacker);
    const refused: string[] = [];
    for (const a of controls) {
      const r = await asTenant(attacker, a);
      if (!r.allowed) refused.push(`${a.what}: ${r.result}`);
    }
    console.log(`platform data, session of ${attacker} against ${victim}: ${cross.length} cross-tenant attempts, ${allowed.length} allowed; ${controls.length} positive controls, ${controls.length - refused.length} allowed`);
    expect(allowed).toEqual([]);
    expect(refused).toEqual([]);
  }, 120_000);

  it('a session can change only its own record\'s fine-tuned models: not its status, tier or limits', async () => {
    for (const attributes of [['tenantId', 'status'], ['tenantId', 'tier'], ['tenantId', 'gateway'], ['tenantId', 'fineTunedModels', 'status']]) {
      const r = await asTenant('acme', { what: `UpdateItem ${attributes}`, action: 'dynamodb:UpdateItem', resource: table(REGISTRY), context: { ...keys('acme'), 'dynamodb:Attributes': attributes } });
      expect(r.allowed, attributes.join(',')).toBe(false);
    }
    const returnsAll = await asTenant('acme', { what: 'UpdateItem ALL_OLD', action: 'dynamodb:UpdateItem', resource: table(REGISTRY), context: { ...keys('acme'), 'dynamodb:Attributes': MODEL_ATTRIBUTES, 'dynamodb:ReturnValues': 'ALL_OLD' } });
    expect(returnsAll.allowed).toBe(false);
  });

  it('a session may set its own ledger item\'s ledgerMonth, which no IAM condition sees the value of: the index\'s readers decide by the item\'s key', async () => {
    // IAM holds the write to the session's own item (the table's key, LeadingKeys) and may name the attributes written,
    // never their values: acme-2's own ledger item can be given ledgerMonth = usage#acme#model#<month>, which puts it in
    // acme's partition of the model-usage index. DynamoDbStore.modelUsage keeps only items whose table key is the
    // tenant's own (test/isolation/usage-ledger-index.test.ts), so acme's usage and statement never count it.
    const r = await asTenant('acme-2', {
      what: 'UpdateItem own ledger item, SET ledgerMonth', action: 'dynamodb:UpdateItem', resource: table(USAGE),
      context: { ...keys('usage#acme-2#model#2026-11-30#openai/gpt-4o-mini'), 'dynamodb:Attributes': ['id', 'requests', 'day', 'model', 'ledgerMonth', 'ledgerDay'] },
    });
    expect(r.allowed).toBe(true);
  });

  it('uses the platform key only for the five tables (DynamoDB\'s encryption context), the session tenant\'s own secrets (SecretARN) and its own batch files (aws:s3:arn)', () => {
    // As written, since the simulator cannot evaluate kms:EncryptionContext:<key> (see beforeAll).
    const kms = statementsOf(resolved).filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('kms:')));
    const byService = (svc: string) => kms.filter((s) => JSON.stringify(s.Condition?.StringEquals?.['kms:ViaService']) === JSON.stringify(`${svc}.${region}.amazonaws.com`));
    expect(byService('dynamodb').length + byService('secretsmanager').length + byService('s3').length).toBe(kms.length);
    // Through S3: the session tenant's batch files only (the bucket uses no S3 Bucket Key, so the context is the object's ARN).
    // And the audit bucket's, decrypt only (it uses an S3 Bucket Key: the context is the bucket's ARN; the prefix is held by its GetObject grant, evaluated above).
    expect(byService('s3')).toEqual([expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Condition: {
      StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` },
      // Its expiring files (tenants/…) and its files kept until deleted (kept-files/…, as OpenAI keeps non-batch files).
      StringLike: { 'kms:EncryptionContext:aws:s3:arn': [`${batchBucketArn}/tenants/\${aws:PrincipalTag/tessera:tenant-id}/batch-files/*`, `${batchBucketArn}/kept-files/\${aws:PrincipalTag/tessera:tenant-id}/*`] },
    } }), expect.objectContaining({ Sid: 'PlatformKeyForOwnRequests', Action: 'kms:Decrypt', Condition: {
      StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': auditBucketArn },
    } })]);
    for (const s of byService('dynamodb').filter((x) => ([] as string[]).concat(x.Action).some((a) => a !== 'kms:DescribeKey'))) {
      expect(s.Condition!.StringEquals).toMatchObject({
        'kms:EncryptionContext:aws:dynamodb:tableName': [REGISTRY, USAGE, JOBS, RESPONSES, API_KEYS],
        'kms:EncryptionContext:aws:dynamodb:subscriberId': account,
      });
    }
    for (const s of byService('secretsmanager')) {
      expect(s.Action).toBe('kms:Decrypt');
      expect(s.Condition!.StringLike).toEqual({ 'kms:EncryptionContext:SecretARN': `arn:${PARTITION}:secretsmanager:${region}:${account}:secret:tessera/tenants/\${aws:PrincipalTag/tessera:tenant-id}/*` });
    }
  });

  it('stored responses and conversations: a session reads, stores, updates, queries and deletes only its own tenant\'s (Responses API retrieve, store, delete, previous_response_id; Conversations API)', async () => {
    const id = 'resp_0123456789abcdef0123456789abcdef';
    for (const [attacker, victim] of PAIRS) {
      for (const action of ['GetItem', 'PutItem', 'DeleteItem', 'UpdateItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem', 'ConditionCheckItem', 'DescribeTable']) {
        const r = await asTenant(attacker, { what: `${action} ${victim}'s ${id}`, action: `dynamodb:${action}`, resource: table(RESPONSES), context: action === 'Scan' || action === 'DescribeTable' ? {} : keys(victim) });
        expect(r.allowed, `${attacker} → ${action} ${victim}'s response`).toBe(false);
      }
      // UpdateItem and Query for conversations (a head's metadata and next position, a page of items), own partition only.
      for (const action of ['GetItem', 'PutItem', 'DeleteItem', 'UpdateItem', 'Query']) expect((await asTenant(attacker, { what: action, action: `dynamodb:${action}`, resource: table(RESPONSES), context: keys(attacker) })).allowed, `${attacker} own ${action}`).toBe(true);
      // Neither reaches the other tenant's conversations with a batch or a scan (denied above), nor one request naming both partitions.
      expect((await asTenant(attacker, { what: 'Query both partitions', action: 'dynamodb:Query', resource: table(RESPONSES), context: keys(attacker, victim) })).allowed).toBe(false);
      // No index exists to reach another tenant's items by another key.
      expect((await asTenant(attacker, { what: 'Query an index', action: 'dynamodb:Query', resource: `${table(RESPONSES)}/index/by-response`, context: keys(id) })).allowed).toBe(false);
    }
  });

  it('would let one tenant read another\'s stored responses without the LeadingKeys condition (the check can fail)', async () => {
    const planted = resolved.map((p) => ({ ...p, policy: { ...withoutEncryptionContext(p.policy), Statement: ([] as Statement[]).concat(withoutEncryptionContext(p.policy).Statement as Statement[]).map((st) => (st.Sid === 'ResponsesOwnItems' ? (({ Condition: _dropped, ...rest }) => rest)(st) : st)) } }));
    expect(JSON.stringify(planted)).toContain('ResponsesOwnItems');
    const r = await evaluate({
      principalArn: `arn:${PARTITION}:sts::${account}:assumed-role/${TENANT_DATA_ROLE_NAME}/tenant-acme`, action: 'dynamodb:GetItem', resource: table(RESPONSES), resourceAccount: account,
      context: { 'aws:PrincipalArn': `arn:${PARTITION}:iam::${account}:role/${TENANT_DATA_ROLE_NAME}`, 'aws:PrincipalTag/tessera:tenant-id': 'acme', ...keys('acme-2') }, identityPolicies: planted, scps: [],
    });
    expect(r.result).toBe('Allowed');
  });

  it('API keys: a session looks up, lists, creates, revokes and rotates only its own tenant\'s keys, and deletes none (issue 15)', async () => {
    const hash = 'a'.repeat(64);
    for (const [attacker, victim] of PAIRS) {
      for (const action of ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchGetItem', 'BatchWriteItem', 'ConditionCheckItem', 'Scan', 'DescribeTable']) {
        const context = action === 'Scan' || action === 'DescribeTable' ? {} : keys(victim);
        const r = await asTenant(attacker, { what: `${action} ${victim}'s key ${hash}`, action: `dynamodb:${action}`, resource: table(API_KEYS), context });
        expect(r.allowed, `${attacker} → ${action} ${victim}'s key`).toBe(false);
      }
      // One request naming an own key and the other tenant's (DynamoDB authorizes a transaction item by item, as these actions): refused whole.
      expect((await asTenant(attacker, { what: 'mixed', action: 'dynamodb:UpdateItem', resource: table(API_KEYS), context: keys(attacker, victim) })).allowed).toBe(false);
      for (const action of ['GetItem', 'Query', 'PutItem', 'UpdateItem']) {
        expect((await asTenant(attacker, { what: action, action: `dynamodb:${action}`, resource: table(API_KEYS), context: keys(attacker) })).allowed, `${attacker} own ${action}`).toBe(true);
      }
      // Offboarding deletes keys with its own role; a tenant session deletes none, not even its own.
      for (const action of ['DeleteItem', 'BatchWriteItem']) {
        expect((await asTenant(attacker, { what: action, action: `dynamodb:${action}`, resource: table(API_KEYS), context: keys(attacker) })).allowed, `${attacker} own ${action}`).toBe(false);
      }
      expect((await asTenant(attacker, { what: 'Query an index', action: 'dynamodb:Query', resource: `${table(API_KEYS)}/index/by-hash`, context: keys(hash) })).allowed).toBe(false);
      // The creation index (key lists): its partition key is tenantId too, so LeadingKeys holds a Query of it to the session's own tenant.
      const byCreation = `${table(API_KEYS)}/index/${KEYS_BY_CREATION_INDEX.name}`;
      expect((await asTenant(attacker, { what: 'Query own keys by creation', action: 'dynamodb:Query', resource: byCreation, context: keys(attacker) })).allowed).toBe(true);
      expect((await asTenant(attacker, { what: `Query ${victim}'s keys by creation`, action: 'dynamodb:Query', resource: byCreation, context: keys(victim) })).allowed).toBe(false);
      expect((await asTenant(attacker, { what: 'Scan the creation index', action: 'dynamodb:Scan', resource: byCreation, context: {} })).allowed).toBe(false);
    }
  });

  it('would let one tenant read another\'s API keys without the LeadingKeys condition (the check can fail)', async () => {
    const planted = resolved.map((p) => ({ ...p, policy: { ...withoutEncryptionContext(p.policy), Statement: ([] as Statement[]).concat(withoutEncryptionContext(p.policy).Statement as Statement[]).map((st) => (st.Sid === 'ApiKeysOwnItems' ? (({ Condition: _dropped, ...rest }) => rest)(st) : st)) } }));
    expect(JSON.stringify(planted)).toContain('ApiKeysOwnItems');
    const r = await evaluate({
      principalArn: `arn:${PARTITION}:sts::${account}:assumed-role/${TENANT_DATA_ROLE_NAME}/tenant-acme`, action: 'dynamodb:GetItem', resource: table(API_KEYS), resourceAccount: account,
      context: { 'aws:PrincipalArn': `arn:${PARTITION}:iam::${account}:role/${TENANT_DATA_ROLE_NAME}`, 'aws:PrincipalTag/tessera:tenant-id': 'acme', ...keys('acme-2') }, identityPolicies: planted, scps: [],
    });
    expect(r.result).toBe('Allowed');
  });

  it('a session without the tenant tag reaches nothing', async () => {
    const r = await evaluate({
      principalArn: `arn:${PARTITION}:sts::${account}:assumed-role/${TENANT_DATA_ROLE_NAME}/untagged`, action: 'dynamodb:GetItem', resource: table(REGISTRY), resourceAccount: account,
      context: { 'aws:PrincipalArn': `arn:${PARTITION}:iam::${account}:role/${TENANT_DATA_ROLE_NAME}`, ...keys('acme') }, identityPolicies: policies, scps: [],
    });
    expect(r.allowed).toBe(false);
  });
});

describe('platform data: the authorizer Lambda\'s own grant on the registry (whether a tenant id is registered)', () => {
  /** A request of the authorizer Lambda's role itself (no tenant session). */
  const asAuthorizer = async (action: string, resource: string, context: Record<string, string | string[]> = {}) => {
    const roleArn = `arn:${PARTITION}:iam::${account}:role/${AUTHORIZER_ROLE}`;
    const r = await evaluate({
      principalArn: `arn:${PARTITION}:sts::${account}:assumed-role/${AUTHORIZER_ROLE}/fn`, action, resource, resourceAccount: account,
      context: { 'aws:PrincipalArn': roleArn, 'aws:PrincipalAccount': account, 'aws:PrincipalType': 'AssumedRole', 'aws:RequestedRegion': region, 'aws:SecureTransport': 'true', 'aws:ResourceAccount': account, ...context },
      identityPolicies: authorizerPolicies, scps: [],
    });
    expect(r.result, `${action} ${JSON.stringify(context)}: ${r.result}`).not.toMatch(/^error/);
    return r.allowed;
  };

  it('reads a record\'s tenantId (GetItem, ProjectionExpression tenantId) of any tenant: nothing else of it, and nothing of any other table', async () => {
    const projected = (...attributes: string[]) => ({ ...keys('acme'), 'dynamodb:Attributes': attributes, 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' });
    expect(await asAuthorizer('dynamodb:GetItem', table(REGISTRY), projected('tenantId'))).toBe(true);
    expect(await asAuthorizer('dynamodb:GetItem', table(REGISTRY), { ...projected('tenantId'), ...keys('acme-2') })).toBe(true);
    const allowed: string[] = [];
    const attempts: Array<[string, string, string, Record<string, string | string[]>]> = [
      ['the whole record (no projection)', 'dynamodb:GetItem', table(REGISTRY), { ...keys('acme'), 'dynamodb:Select': 'ALL_ATTRIBUTES' }],
      ['the whole record (no attribute context at all)', 'dynamodb:GetItem', table(REGISTRY), keys('acme')],
      ...['status', 'usageKey', 'tier', 'gateway'].map((a) => [`tenantId and ${a}`, 'dynamodb:GetItem', table(REGISTRY), projected('tenantId', a)] as [string, string, string, Record<string, string | string[]>]),
      ...['Query', 'Scan', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem'].map((action) => [action, `dynamodb:${action}`, table(REGISTRY), projected('tenantId')] as [string, string, string, Record<string, string | string[]>]),
      ['the by-status index', 'dynamodb:Query', `${table(REGISTRY)}/index/by-status`, projected('tenantId')],
      ...[API_KEYS, USAGE, RESPONSES, JOBS].map((t) => [`GetItem ${t}`, 'dynamodb:GetItem', table(t), projected('tenantId')] as [string, string, string, Record<string, string | string[]>]),
    ];
    for (const [what, action, resource, context] of attempts) if (await asAuthorizer(action, resource, context)) allowed.push(what);
    expect(allowed).toEqual([]);
  });
});

describe('platform data: who may take a tenant\'s session (the role\'s trust policy)', () => {
  const assume = async (caller: string, action: 'sts:AssumeRole' | 'sts:TagSession', tags: Record<string, string>, extra: Record<string, string | string[]> = {}) => {
    const callerArn = `arn:${PARTITION}:iam::${account}:role/${caller}`;
    const r = await evaluate({
      principalArn: callerArn, action, resource: `arn:${PARTITION}:iam::${account}:role/${TENANT_DATA_ROLE_NAME}`, resourceAccount: account,
      context: {
        'aws:PrincipalArn': callerArn, 'aws:PrincipalAccount': account, 'aws:PrincipalType': 'AssumedRole',
        ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])), 'aws:TagKeys': Object.keys(tags), ...extra,
      },
      identityPolicies: [], scps: [], resourcePolicy: trust,
    });
    expect(r.result).not.toMatch(/^error/);
    return r.allowed;
  };
  const lambdas = [PLATFORM_ROLE_NAMES.router, 'tessera-gateway-authorizer', TENANT_USERS_ROLE_NAME, PLATFORM_ROLE_NAMES.fineTuningApi, PLATFORM_ROLE_NAMES.fineTuningEvents];

  it('admits the gateway and fine-tuning Lambdas with the tenant tag (both AssumeRole and TagSession)', async () => {
    for (const caller of lambdas) {
      for (const action of ['sts:AssumeRole', 'sts:TagSession'] as const) expect(await assume(caller, action, { 'tessera:tenant-id': 'acme' }), `${caller} ${action}`).toBe(true);
    }
  });

  it('refuses a session without the tag, with another tag, a transitive tag, or a value no tenant id can be', async () => {
    const router = PLATFORM_ROLE_NAMES.router;
    expect(await assume(router, 'sts:AssumeRole', {})).toBe(false);
    expect(await assume(router, 'sts:AssumeRole', { 'tessera:tenant-id': 'acme', team: 'x' })).toBe(false);
    expect(await assume(router, 'sts:TagSession', { 'tessera:tenant-id': 'acme' }, { 'sts:TransitiveTagKeys': ['tessera:tenant-id'] })).toBe(false);
    for (const bad of ['acme/x', 'acme:x', 'acme.x', 'acme_x', 'acme@x', 'acme x', 'acme--x', '-acme', 'acme-', 'a'.repeat(25)]) {
      expect(await assume(router, 'sts:AssumeRole', { 'tessera:tenant-id': bad }), bad).toBe(false);
    }
  });

  it('refuses every other platform role (the lifecycle and the admin API keep their own)', async () => {
    for (const caller of ['tessera-admin-api', 'tessera-lifecycle-register-tenant', 'tessera-lifecycle-revoke-tenant-identities', 'tessera-break-glass']) {
      expect(await assume(caller, 'sts:AssumeRole', { 'tessera:tenant-id': 'acme' }), caller).toBe(false);
    }
  });
});
