import { beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_FUNCTIONS } from '../../lib/lambda-concurrency.js';
import { defaultAppTemplates, type DefaultAppTemplates } from '../support/default-app.js';

/**
 * Who may kms:Decrypt with the platform key (constructs/platform-key.ts), and under what condition. The platform key
 * protects the registry and the gateway's tables, the audit bucket, the lifecycle bus, the platform's provider secrets,
 * queues and every platform Lambda's environment and logs: a role's unconditioned Decrypt on it is a decrypt of any of
 * those ciphertexts the role can get hold of. Each grant is held to what its role decrypts (the service that decrypts
 * for it, `kms:ViaService`, and the encryption context that names the resource), or is on {@link UNCONDITIONED} with the
 * reason it is not yet.
 */

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
type Resource = { Type: string; Properties: Record<string, any> };
interface Grant { template: string; role: string; sid: string; statement: Statement }

/**
 * Platform-key Decrypt statements without a condition, by `<role name> <Sid>`, each with its reason; a role may be named by
 * pattern (`*`). None since the lifecycle handlers' `PlatformKeyForTables` was split by service (constructs/lifecycle-platform-key.ts).
 */
const UNCONDITIONED: Record<string, string> = {};

let app: DefaultAppTemplates;
let grants: Grant[];

/** Does `action` (an IAM action pattern) admit kms:Decrypt? */
const allowsDecrypt = (action: string) => new RegExp(`^${action.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test('kms:Decrypt');

/** The role names a policy resource is attached to (its `Roles`, or the role itself for an inline policy), by `Ref`. */
function roleNames(resources: Record<string, Resource>, refs: unknown[]): string[] {
  return refs.map((r) => {
    const id = (r as { Ref?: string }).Ref;
    const name = id ? resources[id]?.Properties.RoleName : undefined;
    return typeof name === 'string' ? name : JSON.stringify(r);
  });
}

/** Every identity policy document of `template` (managed, inline, a role's own) with the role names it applies to. */
function policyDocuments(template: { Resources: Record<string, Resource> }): Array<{ roles: string[]; doc: { Statement: Statement[] } }> {
  return Object.entries(template.Resources).flatMap(([id, r]) => (
    r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy' ? [{ roles: roleNames(template.Resources, r.Properties.Roles ?? []), doc: r.Properties.PolicyDocument }]
      : r.Type === 'AWS::IAM::Role' ? (r.Properties.Policies ?? []).map((p: { PolicyDocument: { Statement: Statement[] } }) => ({ roles: [r.Properties.RoleName ?? id], doc: p.PolicyDocument }))
        : []));
}

/** Every Allow statement of `template` that admits kms:Decrypt on one of `keyRefs` (or on every key, `*`), by role. */
function decryptGrants(name: string, template: { Resources: Record<string, Resource> }, keyRefs: unknown[]): Grant[] {
  const onKey = (resource: unknown) => [resource].flat().some((r) => r === '*' || (typeof r === 'string' && /:key\/\*$/.test(r)) || keyRefs.some((k) => JSON.stringify(k) === JSON.stringify(r)));
  const out: Grant[] = [];
  for (const { roles, doc } of policyDocuments(template)) {
    for (const statement of doc.Statement) {
      if (statement.Effect !== 'Allow' || ![statement.Action].flat().some(allowsDecrypt) || !onKey(statement.Resource)) continue;
      for (const role of roles) out.push({ template: name, role, sid: statement.Sid ?? '(no Sid)', statement });
    }
  }
  return out;
}

/** The Allow statements of template `name` ('platform' or 'operations') with an sqs: action that apply to `role`. */
function sqsStatementsOf(name: string, role: string): Statement[] {
  const template = (name === 'platform' ? app.platformWithPolicies : app.operations).toJSON() as { Resources: Record<string, Resource> };
  return policyDocuments(template).filter((d) => d.roles.includes(role))
    .flatMap((d) => d.doc.Statement).filter((st) => st.Effect === 'Allow' && [st.Action].flat().some((a) => /^sqs:/i.test(a)));
}

const unconditionedReason = (g: Grant) => Object.entries(UNCONDITIONED).find(([k]) => {
  const [role, sid] = k.split(' ');
  return sid === g.sid && new RegExp(`^${role.replace(/\*/g, '.*')}$`).test(g.role);
})?.[1];

beforeAll(() => {
  // GIVEN the default app's platform stack, its function policies in it (test/support/platform-with-policies.ts), and its Operations nested stack
  app = defaultAppTemplates();
  const platform = app.platformWithPolicies.toJSON() as { Resources: Record<string, Resource> };
  const keyId = Object.entries(platform.Resources).find(([, r]) => r.Type === 'AWS::KMS::Key' && String(r.Properties.Description).startsWith('Tessera platform'))?.[0];
  expect(keyId).toBeDefined();
  const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
  // In a nested stack the key is a parameter the parent passes: the names of those the parent gives the key's ARN.
  const nestedKeyRefs = Object.values(platform.Resources).filter((r) => r.Type === 'AWS::CloudFormation::Stack')
    .flatMap((r) => Object.entries<unknown>(r.Properties.Parameters ?? {}).filter(([, v]) => JSON.stringify(v) === JSON.stringify(keyArn)).map(([p]) => ({ Ref: p })));
  expect(nestedKeyRefs.length).toBeGreaterThan(0);
  grants = [...decryptGrants('platform', platform, [keyArn]), ...decryptGrants('operations', app.operations.toJSON() as { Resources: Record<string, Resource> }, nestedKeyRefs)];
});

describe('kms:Decrypt with the platform key', () => {
  it('is conditioned in every statement, or acknowledged here with its reason', () => {
    // WHEN the statements without a condition are listed
    const open = grants.filter((g) => !g.statement.Condition && !unconditionedReason(g)).map((g) => `${g.template}: ${g.role} ${g.sid}`);
    // THEN there are none but those of UNCONDITIONED
    expect(open).toEqual([]);
    // AND every entry of UNCONDITIONED still names a statement (one that gains a condition leaves the list)
    const used = new Set(grants.filter((g) => !g.statement.Condition).map(unconditionedReason));
    expect(Object.values(UNCONDITIONED).filter((reason) => !used.has(reason))).toEqual([]);
  });

  it('holds each Lambda\'s environment to Lambda decrypting a function of the account for it (EnvironmentKey)', () => {
    // WHEN the EnvironmentKey statements are read
    const environment = grants.filter((g) => g.sid === 'EnvironmentKey');
    expect(environment.length).toBeGreaterThan(10);
    // THEN each admits only Lambda's Decrypt (kms:ViaService) with the encryption context Lambda gives an environment
    for (const g of environment) {
      expect(g.statement.Action, g.role).toBe('kms:Decrypt');
      expect(Object.keys(g.statement.Condition ?? {}).sort(), g.role).toEqual(['StringEquals', 'StringLike']);
      expect(JSON.stringify(g.statement.Condition!.StringEquals['kms:ViaService']), g.role).toMatch(/^\{"Fn::Join":\["",\["lambda\.",\{"Ref":"AWS::Region"\},"\.amazonaws\.com"\]\]\}$/);
      expect(Object.keys(g.statement.Condition!.StringLike), g.role).toEqual(['kms:EncryptionContext:aws:lambda:FunctionArn']);
      expect(JSON.stringify(g.statement.Condition!.StringLike['kms:EncryptionContext:aws:lambda:FunctionArn']), g.role).toMatch(/":function:\*"\]\]\}$/);
    }
  });

  it('lets the admin handler decrypt its tables\' items through DynamoDB and the audit records through S3, nothing else', () => {
    // WHEN the admin handler's Decrypt statements are read
    const admin = grants.filter((g) => g.role === PLATFORM_FUNCTIONS.adminApi.roleName && g.sid !== 'EnvironmentKey');
    const platform = app.platformWithPolicies.toJSON() as { Resources: Record<string, Resource> };
    const tableName = (prefix: string) => ({ Ref: Object.keys(platform.Resources).find((id) => id.startsWith(prefix) && platform.Resources[id].Type === 'AWS::DynamoDB::GlobalTable') });
    // THEN there are two, each through one service and naming what it decrypts
    expect(admin.map((g) => g.sid).sort()).toEqual(['PlatformKeyThroughDynamoDB', 'PlatformKeyThroughS3ForAuditRecords']);
    const dynamodb = admin.find((g) => g.sid === 'PlatformKeyThroughDynamoDB')!.statement;
    expect(dynamodb.Action).toBe('kms:Decrypt');
    expect(dynamodb.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:dynamodb:tableName': expect.any(Array) } });
    const tables = dynamodb.Condition!.StringEquals['kms:EncryptionContext:aws:dynamodb:tableName'] as unknown[];
    expect(tables).toHaveLength(5);
    for (const prefix of ['RegistryTable', 'ApiKeys', 'InferenceUsageTable', 'FineTuningJobs']) expect(tables, prefix).toContainEqual(tableName(prefix));
    const s3 = admin.find((g) => g.sid === 'PlatformKeyThroughS3ForAuditRecords')!.statement;
    const auditBucket = Object.keys(platform.Resources).find((id) => id.startsWith('AuditBucket') && platform.Resources[id].Type === 'AWS::S3::Bucket');
    expect(s3).toMatchObject({ Action: 'kms:Decrypt', Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': { 'Fn::GetAtt': [auditBucket, 'Arn'] } } } });
    // AND its other uses of the key (writes, DescribeKey) hold no Decrypt
    const registryKey = platform.Resources[Object.keys(platform.Resources).find((id) => id.startsWith('AdminHandlerPolicy'))!].Properties.PolicyDocument.Statement.find((s: Statement) => s.Sid === 'RegistryKey');
    expect([registryKey.Action].flat().sort()).toEqual(['kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
  });
});

describe('the gateway functions\' Decrypt with the platform key', () => {
  it('is the router\'s through DynamoDB for the origin index, S3 for the audit records, Secrets Manager for the provider keys and the reasoning seal secret, and SQS for its work queues only; the tenant users function\'s the first two', () => {
    // WHEN the router's and the tenant users function's Decrypt statements are read (EnvironmentKey aside)
    const of = (role: string) => Object.fromEntries(grants.filter((g) => g.role === role && g.sid !== 'EnvironmentKey').map((g) => [g.sid, g.statement.Condition]));
    const router = of(PLATFORM_FUNCTIONS.router.roleName);
    const tenantUsers = of(PLATFORM_FUNCTIONS.tenantUsers.roleName);
    // THEN each names the service that decrypts and the resource
    expect(Object.keys(router).sort()).toEqual([
      'PlatformKeyThroughDynamoDBForOriginIndex', 'PlatformKeyThroughS3ForAuditRecords',
      'PlatformKeyThroughSQSForBackgroundResponseQueue', 'PlatformKeyThroughSQSForBatchQueue', 'PlatformKeyThroughSQSForVectorStoreFileQueue',
      'PlatformKeyThroughSecretsManagerForProviderKeys', 'PlatformKeyThroughSecretsManagerForReasoningSeal',
    ]);
    expect(Object.keys(tenantUsers).sort()).toEqual(['PlatformKeyThroughDynamoDBForOriginIndex', 'PlatformKeyThroughS3ForAuditRecords']);
    for (const conditions of [router, tenantUsers]) {
      expect(conditions.PlatformKeyThroughDynamoDBForOriginIndex).toEqual({ StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:dynamodb:tableName': { Ref: expect.stringMatching(/^CorsOrigins/) } } });
      expect(conditions.PlatformKeyThroughS3ForAuditRecords).toEqual({ StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': { 'Fn::GetAtt': [expect.stringMatching(/^AuditBucket/), 'Arn'] } } });
    }
    // AND each work queue's through SQS for that queue (its sends and its event source mapping's receives)
    for (const [sid, queue] of [['BatchQueue', /^InferenceBatchesQueue/], ['BackgroundResponseQueue', /^InferenceBackgroundResponsesQueue/], ['VectorStoreFileQueue', /^InferenceVectorStoreFilesQueue/]] as const) {
      expect(router[`PlatformKeyThroughSQSFor${sid}`], sid).toEqual({ StringEquals: { 'kms:ViaService': 'sqs.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:sqs:arn': { 'Fn::GetAtt': [expect.stringMatching(queue), 'Arn'] } } });
    }
    expect(router.PlatformKeyThroughSecretsManagerForProviderKeys).toEqual({
      StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' },
      StringLike: { 'kms:EncryptionContext:SecretARN': 'arn:aws:secretsmanager:us-east-1:222222222222:secret:tessera/providers/*' },
    });
    // The reasoning seal's secret: that one secret (include reasoning.encrypted_content, constructs/reasoning-seal-secret.ts)
    expect(router.PlatformKeyThroughSecretsManagerForReasoningSeal).toEqual({
      StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' },
      StringLike: { 'kms:EncryptionContext:SecretARN': { Ref: expect.stringMatching(/ReasoningSealSecret/) } },
    });
  });
});

describe('the router\'s wildcard acknowledgements', () => {
  it('are one per kind of resource, each reason naming its kind', () => {
    // GIVEN the IAM5 wildcard findings acknowledged on the router's policy
    const suppressed = app.validationReport.pluginReports.flatMap((r) => r.suppressedViolations ?? [])
      .filter((v) => v.ruleName.startsWith('AwsSolutions-IAM5[Resource::') && v.violatingConstructs.some((c) => c.constructPath.endsWith('Inference--Router/Policy/Resource')));
    const kind = (rule: string) => {
      const resource = rule.slice('AwsSolutions-IAM5[Resource::'.length, -1);
      if (resource === '*') return 'no resource type';
      if (/AuditBucket/.test(resource)) return 'audit records';
      const [, , service, , , type] = resource.split(':');
      return `${service}:${type.split('/')[0]}`;
    };
    // WHEN they are grouped by reason
    const kindsByReason = new Map<string, Set<string>>();
    for (const v of suppressed) kindsByReason.set(v.reason, (kindsByReason.get(v.reason) ?? new Set()).add(kind(v.ruleName)));
    // THEN each reason covers one kind, and every kind of the default config has one
    for (const [reason, kinds] of kindsByReason) expect([...kinds], reason).toHaveLength(1);
    const kinds = [...kindsByReason.values()].map((k) => [...k][0]).sort();
    expect(kinds).toEqual(expect.arrayContaining(['audit records', 'bedrock:application-inference-profile', 'bedrock:guardrail', 'bedrock:inference-profile', 'sagemaker:endpoint', 'secretsmanager:secret']));
    const starts: Record<string, string> = {
      'audit records': 'Audit records:', 'bedrock:application-inference-profile': 'Application inference profiles:', 'bedrock:guardrail': 'Guardrails:',
      'bedrock:inference-profile': 'Inference profiles of the home region:', 'sagemaker:endpoint': 'SageMaker endpoints:', 'secretsmanager:secret': 'Provider keys:',
      'bedrock:foundation-model': 'Foundation models of the catalog named with a wildcard:',
    };
    for (const [reason, k] of kindsByReason) if (starts[[...k][0]]) expect(reason).toMatch(new RegExp(`^${starts[[...k][0]]}`));
  });
});

describe('the queue-driven, CORS, fine-tuning and statements functions\' Decrypt with the platform key', () => {
  const via = (service: string) => expect.stringMatching(new RegExp(`^${service}\\.us-east-1\\.amazonaws\\.com$`));
  const of = (role: string) => Object.fromEntries(grants.filter((g) => g.role === role && g.sid !== 'EnvironmentKey').map((g) => [g.sid, g.statement]));

  it('sends to a dead-letter queue only through SQS (DeadLetterKey)', () => {
    // WHEN the DeadLetterKey statements are read
    const deadLetters = grants.filter((g) => g.sid === 'DeadLetterKey');
    // THEN every queue-driven function has one (the lifecycle handlers', fine-tuning events', statements', reclaim's), each through SQS only
    for (const role of [PLATFORM_FUNCTIONS.fineTuningEvents.roleName, PLATFORM_FUNCTIONS.tenantStatements.roleName, PLATFORM_FUNCTIONS.reservationReclaim.roleName]) expect(deadLetters.map((g) => g.role)).toContain(role);
    expect(deadLetters.some((g) => g.role.startsWith('tessera-lifecycle-'))).toBe(true);
    for (const g of deadLetters) {
      expect([g.statement.Action].flat().sort(), g.role).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      expect(g.statement.Condition, g.role).toEqual({ StringEquals: { 'kms:ViaService': via('sqs'), 'kms:EncryptionContext:aws:sqs:arn': { 'Fn::GetAtt': [expect.stringMatching(/Dlq/), 'Arn'] } } });
    }
  });

  it('names in every SQS statement the queues it is for (encryption context aws:sqs:arn), each one the role has sqs: actions on', () => {
    // GIVEN every platform-key Decrypt statement through SQS, and each role's sqs: statements
    const viaSqs = grants.filter((g) => /^sqs\./.test(String(g.statement.Condition?.StringEquals?.['kms:ViaService'] ?? '')));
    expect(viaSqs.length).toBeGreaterThan(10);
    const sqsResources = (template: string, role: string) => sqsStatementsOf(template, role).flatMap((st) => [st.Resource].flat()).map((r) => JSON.stringify(r));
    for (const g of viaSqs) {
      // WHEN its encryption context is read
      const queues = [g.statement.Condition!.StringEquals['kms:EncryptionContext:aws:sqs:arn'] ?? []].flat();
      // THEN it names at least one queue, by the queue's ARN, and no queue the role does not send to or receive from
      expect(queues.length, `${g.role} ${g.sid}`).toBeGreaterThan(0);
      for (const q of queues) {
        expect(q, `${g.role} ${g.sid}`).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
        expect(sqsResources(g.template, g.role), `${g.role} ${g.sid}`).toContain(JSON.stringify(q));
      }
      // AND matches nothing else (no StringLike or other operator widening it)
      expect(Object.keys(g.statement.Condition!), `${g.role} ${g.sid}`).toEqual(['StringEquals']);
    }
  });

  it('is the CORS maintainer\'s through DynamoDB for the registry (its stream) and the index, and through SQS for its failures', () => {
    // WHEN the maintainer's Decrypt statements are read
    const maintainer = of(PLATFORM_FUNCTIONS.corsOriginIndex.roleName);
    // THEN there are two, each through one service
    expect(Object.keys(maintainer).sort()).toEqual(['PlatformKeyThroughDynamoDBForRegistryStreamAndIndex', 'PlatformKeyThroughSQSForFailures']);
    expect(maintainer.PlatformKeyThroughDynamoDBForRegistryStreamAndIndex).toMatchObject({
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:ViaService': via('dynamodb'), 'kms:EncryptionContext:aws:dynamodb:tableName': [{ Ref: expect.stringMatching(/^RegistryTable/) }, { Ref: expect.stringMatching(/^CorsOrigins/) }] } },
    });
    expect(maintainer.PlatformKeyThroughSQSForFailures).toMatchObject({ Action: 'kms:Decrypt', Condition: { StringEquals: { 'kms:ViaService': via('sqs'), 'kms:EncryptionContext:aws:sqs:arn': { 'Fn::GetAtt': [expect.stringMatching(/Failures/), 'Arn'] } } } });
  });

  it('is the fine-tuning functions\' through S3 for the audit bucket, the API\'s through DynamoDB for the origin index, the events function\'s through SQS', () => {
    // WHEN the fine-tuning functions' Decrypt statements are read
    const api = of(PLATFORM_FUNCTIONS.fineTuningApi.roleName);
    const events = of(PLATFORM_FUNCTIONS.fineTuningEvents.roleName);
    // THEN each names its service and resource
    expect(Object.keys(api).sort()).toEqual(['PlatformKeyThroughDynamoDBForOriginIndex', 'PlatformKeyThroughS3ForAuditRecords']);
    expect(Object.keys(events).sort()).toEqual(['DeadLetterKey', 'PlatformKeyThroughS3ForAuditRecords', 'PlatformKeyThroughSQSForEndpointChecks']);
    for (const fn of [api, events]) {
      expect(fn.PlatformKeyThroughS3ForAuditRecords).toMatchObject({ Action: 'kms:Decrypt', Condition: { StringEquals: { 'kms:ViaService': via('s3'), 'kms:EncryptionContext:aws:s3:arn': { 'Fn::GetAtt': [expect.stringMatching(/^AuditBucket/), 'Arn'] } } } });
    }
    expect(api.PlatformKeyThroughDynamoDBForOriginIndex).toMatchObject({ Action: 'kms:Decrypt', Condition: { StringEquals: { 'kms:ViaService': via('dynamodb'), 'kms:EncryptionContext:aws:dynamodb:tableName': { Ref: expect.stringMatching(/^CorsOrigins/) } } } });
    expect(events.PlatformKeyThroughSQSForEndpointChecks).toMatchObject({ Action: 'kms:Decrypt', Condition: { StringEquals: { 'kms:ViaService': via('sqs'), 'kms:EncryptionContext:aws:sqs:arn': { 'Fn::GetAtt': [expect.stringMatching(/EndpointChecks/), 'Arn'] } } } });
  });

  it('is the statements job\'s through DynamoDB for its three tables and through S3 for the statements bucket', () => {
    // WHEN the statements job's Decrypt statements are read (its DeadLetterKey aside)
    const job = of(PLATFORM_FUNCTIONS.tenantStatements.roleName);
    // THEN there are two more, each through one service and naming what it decrypts
    expect(Object.keys(job).sort()).toEqual(['DeadLetterKey', 'PlatformKeyThroughDynamoDB', 'PlatformKeyThroughS3ForStatements']);
    expect(job.PlatformKeyThroughDynamoDB.Action).toBe('kms:Decrypt');
    expect(job.PlatformKeyThroughDynamoDB.Condition!.StringEquals['kms:ViaService']).toEqual(via('dynamodb'));
    expect(job.PlatformKeyThroughDynamoDB.Condition!.StringEquals['kms:EncryptionContext:aws:dynamodb:tableName']).toHaveLength(3);
    expect(job.PlatformKeyThroughS3ForStatements).toMatchObject({ Action: 'kms:Decrypt', Condition: { StringEquals: { 'kms:ViaService': via('s3'), 'kms:EncryptionContext:aws:s3:arn': expect.anything() } } });
    expect(JSON.stringify(job.PlatformKeyThroughS3ForStatements.Condition!.StringEquals['kms:EncryptionContext:aws:s3:arn'])).toMatch(/Statements/);
  });
});

describe('the lifecycle handlers\' Decrypt with the platform key', () => {
  const via = (service: string) => expect.stringMatching(new RegExp(`^${service}\\.us-east-1\\.amazonaws\\.com$`));
  const of = (handler: string) => Object.fromEntries(grants.filter((g) => g.role === `tessera-lifecycle-${handler}` && !['EnvironmentKey', 'DeadLetterKey'].includes(g.sid)).map((g) => [g.sid, g.statement]));
  const platform = () => app.platformWithPolicies.toJSON() as { Resources: Record<string, Resource> };
  const ref = (prefix: string, type: string) => {
    const id = Object.keys(platform().Resources).find((k) => k.startsWith(prefix) && platform().Resources[k].Type === type);
    expect(id, prefix).toBeDefined();
    return id!;
  };

  it('is through DynamoDB for the tables of the handler\'s capabilities only (Register tenant: the registry and the control table of its leases)', () => {
    // WHEN Register tenant's and Revoke tenant identities' Decrypt statements are read
    const register = of('register-tenant');
    const revoke = of('revoke-tenant-identities');
    // THEN each is one statement through DynamoDB, naming the handler's tables
    expect(Object.keys(register)).toEqual(['PlatformKeyThroughDynamoDB']);
    expect(register.PlatformKeyThroughDynamoDB).toMatchObject({ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Condition: { StringEquals: { 'kms:ViaService': via('dynamodb') } } });
    expect(register.PlatformKeyThroughDynamoDB.Condition!.StringEquals['kms:EncryptionContext:aws:dynamodb:tableName']).toEqual([{ Ref: ref('RegistryTable', 'AWS::DynamoDB::GlobalTable') }, { Ref: ref('LifecycleControlTable', 'AWS::DynamoDB::GlobalTable') }]);
    expect(Object.keys(revoke)).toEqual(['PlatformKeyThroughDynamoDB']);
    expect(revoke.PlatformKeyThroughDynamoDB.Condition!.StringEquals['kms:EncryptionContext:aws:dynamodb:tableName']).toEqual([{ Ref: ref('RegistryTable', 'AWS::DynamoDB::GlobalTable') }, { Ref: ref('ApiKeys', 'AWS::DynamoDB::GlobalTable') }]);
  });

  it('is through S3 for the bucket a handler reads or writes by multipart upload: the export\'s archive, the upgrade summary\'s work bucket; none where it only writes', () => {
    // WHEN the export's, the upgrade summary's and Lift protections' Decrypt statements are read
    const exporter = of('export-tenant-data');
    const summary = of('summarize-upgrade');
    const lift = of('lift-protections');
    // THEN the export decrypts the archive's (multipart uploads, its manifest parts) as S3 asks, for that bucket
    expect(Object.keys(exporter).sort()).toEqual(['PlatformKeyThroughDynamoDB', 'PlatformKeyThroughS3ForArchive']);
    expect(exporter.PlatformKeyThroughS3ForArchive).toEqual(expect.objectContaining({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: { StringEquals: { 'kms:ViaService': via('s3'), 'kms:EncryptionContext:aws:s3:arn': { 'Fn::GetAtt': [ref('LifecycleArchiveBucket', 'AWS::S3::Bucket'), 'Arn'] } } },
    }));
    // AND the upgrade summary, which touches no table, the work bucket's results only
    expect(Object.keys(summary)).toEqual(['PlatformKeyThroughS3ForLifecycleWork']);
    expect(summary.PlatformKeyThroughS3ForLifecycleWork).toEqual(expect.objectContaining({
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:ViaService': via('s3'), 'kms:EncryptionContext:aws:s3:arn': { 'Fn::GetAtt': [ref('LifecycleWorkBucket', 'AWS::S3::Bucket'), 'Arn'] } } },
    }));
    // AND Lift protections, which only writes its audit records (PutObject: kms:GenerateDataKey), decrypts the registry's items only
    expect(Object.keys(lift)).toEqual(['PlatformKeyThroughDynamoDB']);
  });
});
