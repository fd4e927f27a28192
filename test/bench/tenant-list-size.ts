/**
 * How big the admin API's tenant list gets (`npx tsx test/bench/tenant-list-size.ts`): three
 * tenant records built with the TenantRecord schema (lib/tenant-record.ts), each parsed by it:
 * - `fresh`: just onboarded (VPC mode, every stack output, one execution, the default gateway policy);
 * - `year-old`: a year of operations (25 executions, monthly upgrades and a few changes), a DR stack
 *   with a restore test, an IN_SYNC drift check of three stacks, a gateway policy with a 2,000
 *   character system prompt, three fine-tuned models, quota requests;
 * - `heavy`: every list at the cap the lifecycle keeps (50 executions, 100 drifted resources, 20
 *   allowed replacements), an 8,000-character system prompt, 50 origins, a failure with resources left behind.
 * For each: the record's JSON bytes, its DynamoDB item size (approximated by the DynamoDB
 * developer guide's rules: names and strings as UTF-8 bytes, numbers 1 + digits/2, 3 bytes per
 * list or map plus 1 per element), and the number of such tenants at which the old
 * `GET /admin/tenants` (every record in one body) passes Lambda's 6 MB synchronous response quota
 * (6,291,456 bytes of the proxy integration's JSON answer, the body escaped inside it).
 */
import { TenantRecord } from '../../lib/tenant-record.js';
import { DRIFT_ROW_PROJECTION, driftRow } from '../../lambdas/admin/drift-routes.js';
import { TENANT_STACK_OUTPUTS } from '../../lib/tenant-stack.js';

const LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024;
const ACCOUNT = '444455556666';
const at = (day: number) => new Date(Date.UTC(2026, 0, 1) + day * 86_400_000).toISOString();
const arn = (machine: string, name: string) => `arn:aws:states:us-east-1:${ACCOUNT}:execution:tessera-${machine}:${name}`;

function outputs(id: string): Record<string, string> {
  const v: Record<string, string> = {
    Tier: 'professional', BlueprintVersion: '1.4.2', KeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1b2c3d4e-5f60-4718-a9b0-c1d2e3f40516`,
    BucketName: `tessera-${id}-storagebucket4f1a2b3c-0a1b2c3d4e5f`, VpcId: 'vpc-0a1b2c3d4e5f60718', DefaultSecurityGroupId: 'sg-0a1b2c3d4e5f60718',
    ComputeSubnetIds: 'subnet-0a1b2c3d4e5f60718,subnet-0b1c2d3e4f5a60718,subnet-0c1d2e3f4a5b60718', DatabaseInstanceId: `tessera-${id}-db`,
    DatabaseEndpoint: `tessera-${id}-db.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com`, DatabasePort: '5432', DatabaseResourceId: 'db-ABCDEFGHIJKLMNOPQRSTUVWXY2',
    DatabaseSecretArn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:rds!db-1b2c3d4e-5f60-4718-a9b0-c1d2e3f40516-AbCdEf`,
    CacheEndpoint: `master.tessera-${id}-cache.abc123.use1.cache.amazonaws.com`, CachePort: '6379', CacheUserId: `tessera-${id}-app`,
    ClusterName: `tessera-${id}`, WorkloadRoleArn: `arn:aws:iam::${ACCOUNT}:role/tessera-${id}-workload`, AdminRoleArn: `arn:aws:iam::${ACCOUNT}:role/tessera-${id}-admin`,
    TrainingRoleArn: `arn:aws:iam::${ACCOUNT}:role/tessera-${id}-training`, BreakGlassRoleArn: `arn:aws:iam::${ACCOUNT}:role/tessera-${id}-break-glass`,
    WorkloadSecurityGroupId: 'sg-0f1e2d3c4b5a69788',
  };
  return Object.fromEntries(TENANT_STACK_OUTPUTS.map((k) => [k, v[k]]));
}

const words = (n: number) => Array.from({ length: n }, (_, i) => ['answer', 'politely', 'in', 'the', 'customer\'s', 'language', 'never', 'reveal', 'internal', 'tooling'][i % 10]).join(' ');

function execution(id: string, i: number): TenantRecord['executions'][number] {
  const kind = i === 0 ? 'onboard' : i % 7 === 0 ? 'change' : i % 11 === 0 ? 'suspend' : 'upgrade';
  const machine = kind === 'upgrade' || kind === 'change' ? 'change' : kind === 'suspend' ? 'status' : kind;
  const name = `${kind}-${id}-m${(1_700_000_000_000 + i).toString(36)}-0a1b2c3d`;
  return {
    kind, requestId: kind === 'change' ? `cli-1b2c3d4e-5f60-4718-a9b0-c1d2e3f405${String(i).padStart(2, '0')}` : `upgrade-professional-${i}`,
    executionArn: arn(machine, name), startedAt: at(i * 7), endedAt: at(i * 7 + 0.01), status: 'SUCCEEDED',
    ...(kind === 'change' ? { change: { tier: 'professional', blueprintVersion: `1.${i}.0` } } : {}),
  };
}

function base(id: string) {
  return {
    tenantId: id, name: `${id} Corporation`, tier: 'professional', isolation: 'vpc' as const, adminEmail: `platform-admins@${id}.example.com`,
    accountId: ACCOUNT, vpcCidr: '10.64.4.0/22', availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'], availabilityZoneIds: ['use1-az1', 'use1-az2', 'use1-az4'],
    status: 'ACTIVE' as const, blueprintVersion: '1.4.2', stackName: `tessera-${id}`, stackOutputs: outputs(id), requestId: `req-${id}-onboarding-0001`,
    createdAt: at(0), updatedAt: at(360), usageKey: { id: 'a1b2c3d4e5', value: 'Abcdefghijklmnopqrstuvwxyz0123456789ABCD', plan: 'tessera-professional' },
  };
}

const fresh = (id: string) => TenantRecord.parse({ ...base(id), executions: [execution(id, 0)], gateway: {} });

function yearOld(id: string) {
  return TenantRecord.parse({
    ...base(id), executions: Array.from({ length: 25 }, (_, i) => execution(id, i)),
    gateway: { systemPrompt: words(300).slice(0, 2000), allowedOrigins: [`https://app.${id}.example.com`, `https://admin.${id}.example.com`], fallbacks: ['claude-haiku', 'gpt-4o-mini'], maxTokens: 4096 },
    fineTunedModels: Array.from({ length: 3 }, (_, i) => ({ id: `ft:llama-3-8b:${id}:support-v${i}`, baseModel: 'llama-3-8b', jobId: `ftjob-${id}-${i}0a1b2c3d`, endpointName: `tessera-${id}-ft-support-v${i}`, createdAt: at(100 + i) })),
    quotaRequests: [{ serviceCode: 'ec2', quotaCode: 'L-DB2E81BA', name: 'Running On-Demand G and VT instances', applied: 8, desired: 64, requestId: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8', status: 'APPROVED', requestedAt: at(1), region: 'us-east-1' }],
    gpuCapacity: { state: 'READY', instanceType: 'g5.2xlarge', quotaCode: 'L-DB2E81BA', appliedVcpus: 64, oneNodeVcpus: 8, minSize: 1, desiredSize: 2, checkedAt: at(2) },
    drift: { status: 'IN_SYNC', checkedAt: at(359), stacks: ['', '-dr', '-namespace'].map((s) => ({ stack: `tessera-${id}${s}`, status: 'IN_SYNC', detectionId: '1b2c3d4e-5f60-4718-a9b0-c1d2e3f40516' })) },
    disasterRecovery: {
      region: 'us-west-2', stackName: `tessera-${id}-dr`, status: 'ACTIVE', updatedAt: at(330), deployedWith: { tier: 'professional', blueprintVersion: '1.4.2', executionArn: execution(id, 24).executionArn },
      latestRestoreTest: { restoreJobId: '1B2C3D4E-5F60-4718-A9B0-C1D2E3F40516', status: 'COMPLETED', at: at(350), recoveryPointArn: `arn:aws:backup:us-west-2:${ACCOUNT}:recovery-point:1b2c3d4e-5f60-4718-a9b0-c1d2e3f40516`, validationStatus: 'SUCCESSFUL' },
    },
  });
}

function heavy(id: string) {
  const change = (i: number) => ({ stack: `tessera-${id}`, logicalId: `Database${i}`, type: 'AWS::RDS::DBInstance', physicalId: `tessera-${id}-db-${i}`, action: 'Modify', replacement: 'True', policyAction: 'Snapshot', causes: ['DBInstanceClass', 'StorageEncrypted'] });
  const old = yearOld(id);
  return TenantRecord.parse({
    ...old, executions: Array.from({ length: 50 }, (_, i) => ({ ...execution(id, i), ...(i % 5 === 4 ? { status: 'FAILED', failedStep: 'Deploy blueprint', reason: words(60) } : {}) })),
    gateway: { ...old.gateway, systemPrompt: words(1200).slice(0, 8000), allowedOrigins: Array.from({ length: 50 }, (_, i) => `https://app${i}.${id}.example.com`) },
    drift: {
      status: 'DRIFTED', checkedAt: at(359), truncated: 37, stacks: old.drift!.stacks.map((s) => ({ ...s, status: 'DRIFTED' })),
      resources: Array.from({ length: 100 }, (_, i) => ({ stack: `tessera-${id}`, logicalId: `WorkloadRole${i}`, type: 'AWS::IAM::Role', physicalId: `tessera-${id}-workload-${i}`, status: 'MODIFIED', differences: [{ path: '/Policies/0/PolicyDocument/Statement/0/Action', type: 'NOT_EQUAL' }, { path: '/Tags/3/Value', type: 'ADD' }, { path: '/MaxSessionDuration', type: 'NOT_EQUAL' }] })),
    },
    allowedReplacements: Array.from({ length: 20 }, (_, i) => ({ at: at(200 + i), kind: 'change', executionArn: execution(id, 7).executionArn, requestId: `cli-${i}`, stack: `tessera-${id}`, changeSetName: `tessera-change-${i}`, reason: words(20), resources: [change(1), change(2), change(3)] })),
    changeSetRefusal: { at: at(300), kind: 'upgrade', requestId: 'upgrade-professional-40', stack: `tessera-${id}`, changeSetName: 'tessera-upgrade-40', blueprintVersion: '2.0.0', tier: 'professional', reason: words(30), resources: [change(1), change(2)] },
    failure: { step: 'Deploy blueprint', reason: words(80), at: at(340), kind: 'upgrade', leftBehind: Array.from({ length: 10 }, (_, i) => ({ stack: `tessera-${id}`, logicalId: `Bucket${i}`, type: 'AWS::S3::Bucket', physicalId: `tessera-${id}-bucket-${i}`, status: 'DELETE_SKIPPED', reason: words(12) })) },
  });
}

/** A DynamoDB item's size by the developer guide's rules (Item sizes and formats), approximately. */
function itemBytes(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number') return 1 + Math.ceil(String(v).replace(/[-.]/g, '').replace(/^0+/, '').length / 2);
  if (typeof v === 'boolean' || v === null) return 1;
  if (Array.isArray(v)) return 3 + v.reduce((n: number, e) => n + 1 + itemBytes(e), 0);
  return 3 + Object.entries(v as object).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + itemBytes(e), 0);
}

/** Bytes of the old answer for `n` records: the proxy integration's JSON with `{ tenants }` as its string body. */
function answerBytes(record: TenantRecord, n: number): number {
  const body = JSON.stringify({ tenants: Array.from({ length: n }, () => record) });
  return Buffer.byteLength(JSON.stringify({ statusCode: 200, headers: { 'content-type': 'application/json' }, body }));
}

const rows = [['fresh', fresh('acme-corp')], ['year-old', yearOld('acme-corp')], ['heavy', heavy('acme-corp')]] as const;
for (const [name, record] of rows) {
  const one = answerBytes(record, 1);
  const per = answerBytes(record, 2) - one;
  const breaksAt = Math.floor((LAMBDA_RESPONSE_LIMIT - (one - per)) / per) + 1;
  const json = Buffer.byteLength(JSON.stringify(record));
  console.log(`${name.padEnd(9)} record ${json.toLocaleString('en')} B JSON, ~${itemBytes(record).toLocaleString('en')} B DynamoDB item; ${per.toLocaleString('en')} B per tenant in the Lambda answer; over 6 MB from ${breaksAt.toLocaleString('en')} tenants; 100 of them: ${answerBytes(record, 100).toLocaleString('en')} B`);
}

/** The record as `GET /admin/drift` reads it: DRIFT_ROW_PROJECTION's paths (names resolved), nothing else. */
function projected(record: TenantRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of DRIFT_ROW_PROJECTION.expression.split(',').map((p) => p.trim().split('.').map((n) => DRIFT_ROW_PROJECTION.names[n]))) {
    let from: unknown = record;
    for (const n of path) from = (from as Record<string, unknown> | undefined)?.[n];
    if (from === undefined) continue;
    let to = out;
    for (const n of path.slice(0, -1)) to = (to[n] ??= {}) as Record<string, unknown>;
    to[path.at(-1)!] = from;
  }
  return out;
}

// GET /admin/drift: what reaches the Lambda per record (before: the whole record; now: the projection), and a row's bytes in the answer.
for (const [name, record] of rows) {
  const part = projected(record);
  const row = Buffer.byteLength(JSON.stringify(JSON.stringify(driftRow(DRIFT_ROW_PROJECTION.parse(part))))) - 1;
  console.log(`${name.padEnd(9)} drift list: reads ${Buffer.byteLength(JSON.stringify(record)).toLocaleString('en')} B JSON (~${itemBytes(record).toLocaleString('en')} B item) before, ${Buffer.byteLength(JSON.stringify(part)).toLocaleString('en')} B JSON (~${itemBytes(part).toLocaleString('en')} B) projected; a row is ${row.toLocaleString('en')} B in the answer (+1 comma); 100 rows: ${(100 * (row + 1)).toLocaleString('en')} B`);
}
