import { BatchGetItemCommand, CreateTableCommand, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { AttachRolePolicyCommand, CreateAccessKeyCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { findRole, identityOf } from '../../lib/preflight/identity.js';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { TENANT_DATA_ROLE_NAME } from '../../lib/tenant-naming.js';
import { assumeRole, clientWith } from '../../lambdas/shared/aws-clients.js';
import { TenantCredentials } from '../../lambdas/shared/tenant-credentials.js';
import { defaultAppTemplates } from '../support/default-app.js';
import { configWith } from '../support/synth.js';
import { startMoto, type MotoServer, pointSdkAtMoto } from './support/moto-server.js';

/**
 * The tenant-data role in moto 5.2.5's server with IAM enforcement on (`POST /moto-api/reset-auth 0`
 * = INITIAL_NO_AUTH_ACTION_COUNT 0), its policies taken from the synthesized platform stack.
 *
 * What moto enforces, read in moto/iam/access_control.py, moto/iam/policy_conditions.py,
 * moto/core/authorization.py and moto/sts/models.py; the first four points are also measured here:
 * - signatures and keys: every request must be signed by a known access key; a session's requests
 *   must carry its session token;
 * - identity policies by action: a DynamoDB or Secrets Manager action no statement of the role
 *   names is refused with AccessDeniedException;
 * - resources only as "*" for DynamoDB and Secrets Manager: moto authorizes them against the
 *   resource "*", so a statement naming a table or secret ARN never matches, and the role's
 *   real policy is refused even on the tenant's own items;
 * - trust policies on AssumeRole: the principal as an exact ARN string (a role's session does not
 *   match its role ARN, so the trusted caller here is an IAM user);
 * - (source only) conditions: only the StringEquals operator, and only on keys moto puts in the
 *   request context, which is sts:ExternalId alone; every other operator is skipped (and an Allow
 *   whose StringEquals fails counts as an explicit Deny). So no `dynamodb:LeadingKeys`, no
 *   `aws:PrincipalTag` (moto's AssumeRole does not even keep the session tags), no
 *   `aws:ResourceTag`, no `kms:*`.
 * So moto cannot tell tenant A's items from tenant B's. That AWS refuses a session tagged A on B's
 * items is proven by test/isolation/platform-data.test.ts (an IAM policy evaluator); this test
 * proves what moto can: the Lambdas' credentials module really obtains a session of the role,
 * tagged and used for the tenant's requests, and the role's action list is enforced by the
 * emulated service, not by our code.
 */
const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${TENANT_DATA_ROLE_NAME}`;
let moto: MotoServer;
let router: AwsCredentialIdentity;
let intruder: AwsCredentialIdentity;
let synthesized: { Statement: Array<Record<string, unknown>> };

/**
 * 'allowed', or how the request was refused. moto answers a refused JSON-protocol call (DynamoDB,
 * Secrets Manager) with HTTP 403 and an XML AccessDenied body, which the SDK cannot parse (a
 * SyntaxError carrying the 403); a body read raw (`rawDynamoDb`) shows the AccessDenied.
 */
const denied = (p: Promise<unknown>) => p.then(() => 'allowed', (e: Error & { $metadata?: { httpStatusCode?: number } }) =>
  e.name === 'AccessDeniedException' || e.name === 'AccessDenied' || (e.$metadata?.httpStatusCode === 403 && /<\?xml/.test(e.message)) ? 'AccessDenied' : `${e.name} ${e.$metadata?.httpStatusCode ?? ''}`.trim());

/** A DynamoDB call signed with `credentials`, its answer read raw. */
async function rawDynamoDb(credentials: AwsCredentialIdentity, target: string, body: unknown): Promise<{ status: number; text: string }> {
  const url = new URL(moto.endpoint);
  const request = new HttpRequest({
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/',
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${target}` }, body: JSON.stringify(body),
  });
  const signed = await new SignatureV4({ credentials, region: 'us-east-1', service: 'dynamodb', sha256: Sha256 }).sign(request);
  const res = await fetch(`${moto.endpoint}/`, { method: 'POST', headers: signed.headers, body: signed.body as string });
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  moto = await startMoto();
  pointSdkAtMoto(moto);

  // The role's identity policy as synthesized (the default app's platform stack with its FunctionPolicies nested stack, where the policy lives; buildApp() of the
  // default config, through its shared disk cache; the stack's env is the config's platform
  // account), resolved for moto's account.
  const platformAccount = configWith().platformAccountId;
  const inst = instantiate(defaultAppTemplates().platformWithPolicies.toJSON() as CfnTemplate, { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: ACCOUNT, region: 'us-east-1', stackName: 'TesseraPlatform', lenient: true });
  const tables = Object.values(inst.resources).filter((r) => r.type === 'AWS::DynamoDB::GlobalTable');
  let json = JSON.stringify(identityOf(inst, findRole(inst, TENANT_DATA_ROLE_NAME)!).policies[0].policy).replaceAll(platformAccount, ACCOUNT);
  for (const t of tables) json = json.replaceAll(`"${t.logicalId}.Arn"`, `"arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${t.props.TableName}"`).replaceAll(t.physicalId, String(t.props.TableName));
  synthesized = JSON.parse(json);

  const ddb = new DynamoDBClient({});
  for (const [name, keys] of [['tessera-tenants', ['tenantId']], ['tessera-usage', ['id']], ['tessera-fine-tuning-jobs', ['tenantId', 'jobId']]] as const) {
    await ddb.send(new CreateTableCommand({
      TableName: name, BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: keys.map((k) => ({ AttributeName: k, AttributeType: 'S' })),
      KeySchema: keys.map((k, i) => ({ AttributeName: k, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
    }));
  }
  const secrets = new SecretsManagerClient({});
  for (const tenant of ['acme', 'acme-2']) {
    await ddb.send(new PutItemCommand({ TableName: 'tessera-tenants', Item: { tenantId: { S: tenant }, status: { S: 'ACTIVE' } } }));
    await ddb.send(new PutItemCommand({ TableName: 'tessera-usage', Item: { id: { S: `usage#${tenant}#2026-11` }, tokens: { N: '100' } } }));
    await ddb.send(new PutItemCommand({ TableName: 'tessera-fine-tuning-jobs', Item: { tenantId: { S: tenant }, jobId: { S: 'ftjob-0000019d0a1b2c3d4e5f6a7b' } } }));
    await secrets.send(new CreateSecretCommand({ Name: `tessera/tenants/${tenant}/openai`, SecretString: `sk-${tenant}`, Tags: [{ Key: 'tessera:tenant-id', Value: tenant }] }));
  }

  const iam = new IAMClient({});
  const user = async (name: string, policy?: unknown) => {
    await iam.send(new CreateUserCommand({ UserName: name }));
    if (policy) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify(policy) }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    return { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
  };
  router = await user('gateway-router', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: ROLE_ARN }] });
  intruder = await user('intruder', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] });
  await iam.send(new CreateRoleCommand({
    RoleName: TENANT_DATA_ROLE_NAME,
    // moto matches a trust principal as an exact ARN string: the trusted caller is the router's IAM user here.
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/gateway-router` }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] }),
  }));
  const policy = await iam.send(new CreatePolicyCommand({ PolicyName: 'tessera-tenant-data', PolicyDocument: JSON.stringify(synthesized) }));
  await iam.send(new AttachRolePolicyCommand({ RoleName: TENANT_DATA_ROLE_NAME, PolicyArn: policy.Policy!.Arn! }));

  const res = await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
  expect(res.ok).toBe(true);
}, 240_000);
afterAll(async () => {
  await fetch(`${moto?.endpoint}/moto-api/reset-auth`, { method: 'POST', body: 'inf' }).catch(() => undefined);
  await moto?.stop();
});

const scoped = () => new TenantCredentials({ roleArn: ROLE_ARN, assume: (input) => assumeRole({ ...input, credentials: router }) });

describe('the tenant-data role in moto (IAM enforcement on)', () => {
  it('the Lambdas\' credentials module gets a session of the role for the tenant, signed requests go out as it', async () => {
    const creds = scoped();
    const acme = await creds.credentials('acme');
    const who = await clientWith(STSClient, acme).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/${TENANT_DATA_ROLE_NAME}/tenant-acme`);
    expect(await creds.credentials('acme')).toBe(acme); // cached
    // A caller the trust does not name cannot assume it (moto checks the trust's principal).
    expect(await denied(assumeRole({ roleArn: ROLE_ARN, sessionName: 'x', tenantId: 'acme', credentials: intruder }))).toBe('AccessDenied');
    // A session's requests need its token: without it moto refuses the key.
    expect(await denied(clientWith(DynamoDBClient, { ...acme, sessionToken: undefined }).send(new GetItemCommand({ TableName: 'tessera-tenants', Key: { tenantId: { S: 'acme' } } })))).not.toBe('allowed');
  });

  it('refuses, as the service, every action the role does not grant: scans, deletes, batch reads, listing and writing secrets', async () => {
    const acme = await scoped().credentials('acme');
    const ddb = clientWith(DynamoDBClient, acme);
    const sm = clientWith(SecretsManagerClient, acme);
    const outcomes = {
      scanRegistry: await denied(ddb.send(new ScanCommand({ TableName: 'tessera-tenants' }))),
      scanUsage: await denied(ddb.send(new ScanCommand({ TableName: 'tessera-usage' }))),
      deleteOtherRecord: await denied(ddb.send(new DeleteItemCommand({ TableName: 'tessera-tenants', Key: { tenantId: { S: 'acme-2' } } }))),
      batchGetOtherRecord: await denied(ddb.send(new BatchGetItemCommand({ RequestItems: { 'tessera-tenants': { Keys: [{ tenantId: { S: 'acme-2' } }] } } }))),
      listSecrets: await denied(sm.send(new ListSecretsCommand({}))),
    };
    expect(outcomes).toEqual({ scanRegistry: 'AccessDenied', scanUsage: 'AccessDenied', deleteOtherRecord: 'AccessDenied', batchGetOtherRecord: 'AccessDenied', listSecrets: 'AccessDenied' });
    const raw = await rawDynamoDb(acme, 'Scan', { TableName: 'tessera-tenants' });
    expect(raw.status).toBe(403);
    expect(raw.text).toMatch(/AccessDenied/);
    // The same call with the intruder's own (dynamodb:* on "*") keys is answered: the refusal is the role's.
    expect((await rawDynamoDb(intruder, 'Scan', { TableName: 'tessera-tenants' })).status).toBe(200);
  });

  it('cannot evaluate what separates tenants: it refuses even the tenant\'s own items (it matches DynamoDB and Secrets Manager against the resource "*"), so the LeadingKeys proof is the evaluator\'s', async () => {
    const acme = await scoped().credentials('acme');
    const own = {
      getOwnRecord: await denied(clientWith(DynamoDBClient, acme).send(new GetItemCommand({ TableName: 'tessera-tenants', Key: { tenantId: { S: 'acme' } } }))),
      getOwnSecret: await denied(clientWith(SecretsManagerClient, acme).send(new GetSecretValueCommand({ SecretId: 'tessera/tenants/acme/openai' }))),
    };
    // If moto starts matching resources (and then conditions), this fails: make it an enforcement test of LeadingKeys then.
    expect(own).toEqual({ getOwnRecord: 'AccessDenied', getOwnSecret: 'AccessDenied' });
  });
});
