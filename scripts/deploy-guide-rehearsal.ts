/**
 * The rehearsal itself, imported by scripts/rehearse-deploy-guide.ts once the arguments are checked
 * (this module's imports, the CDK app among them, cost about 4 s of CPU: `--help` need not pay them).
 * Running it starts moto, rehearses every step and exits the process (0 passed, 1 failed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import { CognitoIdentityProviderClient, CreateGroupCommand, CreateUserPoolClientCommand, CreateUserPoolCommand, DeleteUserPoolCommand, SetUserPoolMfaConfigCommand } from '@aws-sdk/client-cognito-identity-provider';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DeleteRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteAccountAssignmentCommand, DeletePermissionSetCommand, ListInstancesCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import type { AwsCredentialIdentity } from '@smithy/types';
import OpenAI from 'openai';
import { parseDocument } from 'yaml';
import { configSourcesFromContext, loadConfig, loadConfigReport } from '../lib/config/load-config.js';
import { API_KEYS_TABLE_NAME } from '../lib/identity/api-key.js';
import { ROLE_GROUPS } from '../lib/identity/roles.js';
import { PLATFORM_EVENT_BUS_NAME } from '../lib/lifecycle-constants.js';
import { localTenant } from '../lambdas/inference/local-gateway.js';
import { ENV } from '../lambdas/shared/environment.js';
import { startAdminApiFront } from '../test/integration/support/admin-api-front.js';
import { buildTesseraApp } from '../lib/tessera-app.js';
import { FakeUpstream } from '../test/support/fake-upstream.js';
import { newApp, template } from '../test/support/synth.js';
import { tempDir, removeTempDirs } from '../test/support/temp-dirs.js';
import { freshTotp } from '../test/unit/users/support.js';
import { buildEstate, estateClient, MANAGEMENT, PLATFORM, REGION, WORKLOAD, BUCKET, TRAIN_IMAGE, SERVE_IMAGE, POOL_NAME } from '../test/integration/support/doctor-estate.js';
import { startMoto, type MotoServer } from '../test/integration/support/moto-server.js';

const ROOT = join(import.meta.dirname, '..');
/**
 * The entry point every `tessera` command of the rehearsal runs: bin/tessera.mjs, what `npx tessera`
 * starts; or, when TESSERA_REHEARSAL_CLI names one, that file: the same program (bin/tessera-cli.ts)
 * bundled without tsx, which test/integration/deploy-guide-rehearsal.test.ts gives it
 * (test/support/cli-bundle.ts; about a third of the CPU of a start through tsx).
 */
const BIN = process.env.TESSERA_REHEARSAL_CLI || join(ROOT, 'bin', 'tessera.mjs');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const EMAIL = 'dev@acme.example.com';
/** The tenant registry's name (constructs/tenant-registry.ts). */
const REGISTRY_TABLE = 'tessera-tenants';
const NEW_PASSWORD = 'Tessera-first-login-2026!';
const started = Date.now();

/** A step that did not do what the guide says: the script stops with this line (exit 1). */
class RehearsalFailure extends Error {}

const say = (text = '') => process.stdout.write(`${text}\n`);
const heading = (text: string) => say(`\n### ${text}\n`);
const quote = (a: string) => (/[\s"'$]/.test(a) ? `'${a}'` : a);
const expectThat = (ok: boolean, step: string) => {
  if (!ok) throw new RehearsalFailure(`rehearsal failed: ${step}`);
};

interface Run { code: number; stdout: string; stderr: string }
interface CliOptions {
  /** Environment on top of a clean one (no AWS_* of this shell, no credential files). */
  env?: Record<string, string>;
  /** Answers written to stdin as output appears: return the text to write (once) for what was printed so far. */
  answer?: (stderr: string) => Promise<string | undefined> | string | undefined;
  /** How stdout is shown: as printed (default), or replaced by this text (e.g. a token shortened). */
  showStdout?: (stdout: string) => string;
  /** The command as the transcript shows it, when it differs from the arguments (redirections). */
  display?: string;
}

/** The environment every CLI run starts from: this process's, without AWS settings or credential files. */
function cleanEnv(dir: string): Record<string, string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))) as Record<string, string>;
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(dir, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials') };
}

/** Runs `tessera <args>` through bin/tessera.mjs, printing the command and its output as it comes. */
function tessera(dir: string, args: string[], options: CliOptions = {}): Promise<Run> {
  say(`$ ${options.display ?? `npx tessera ${args.map(quote).join(' ')}`}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...cleanEnv(dir), ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let answering = Promise.resolve();
    const ask = () => {
      answering = answering.then(async () => {
        const text = await options.answer?.(stderr);
        if (text !== undefined && child.stdin.writable) child.stdin.write(text);
      });
    };
    child.stdout.on('data', (d) => {
      stdout += String(d);
      if (!options.showStdout) process.stdout.write(String(d));
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
      process.stdout.write(String(d));
      ask();
    });
    if (options.answer) ask();
    else child.stdin.end();
    child.on('close', (code) => {
      if (options.showStdout) process.stdout.write(options.showStdout(stdout));
      if (code !== 0) say(`exit ${code}`);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** `tessera serve` in the background: resolves once it printed its start-up report. */
async function serveInBackground(dir: string, args: string[]): Promise<{ child: ChildProcess; baseUrl: string; out: string }> {
  say(`$ npx tessera ${args.map(quote).join(' ')} &`);
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: cleanEnv(dir), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((ok) => child.once('exit', ok));
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new RehearsalFailure(`rehearsal failed: tessera serve did not report its start within 60 s:\n${out}`)), 60_000);
    child.stdout!.on('data', (d) => { out += String(d); if (/^ {2}sagemaker /m.test(out)) { clearTimeout(timer); ok(); } });
    child.stderr!.on('data', (d) => { out += String(d); });
    void exited.then((code) => { clearTimeout(timer); fail(new RehearsalFailure(`rehearsal failed: tessera serve exited ${code}:\n${out}`)); });
  });
  process.stdout.write(out);
  return { child, baseUrl: /(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out)![1], out };
}

/** The environment of a CLI run with one account's credentials, every AWS call on moto. */
const awsEnv = (moto: MotoServer, creds?: AwsCredentialIdentity): Record<string, string> => ({
  AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: REGION,
  ...(creds && { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_SESSION_TOKEN: creds.sessionToken ?? '' }),
});

/**
 * The admin API as deployed, here: its handler (lambdas/admin/admin-api.ts) in this process with
 * the platform's credentials and the environment constructs/admin-api.ts gives it, behind a
 * loopback front shaped like API Gateway's. Prepares by API what the platform stack holds: the
 * four role groups, the platform bus, the keys table, and a registry with tenant acme ACTIVE
 * (step 9's onboarding, which `npm run demo:onboarding` rehearses).
 */
async function serveAdminApi(moto: MotoServer, creds: AwsCredentialIdentity, poolId: string, configFile: string) {
  const client = <T>(C: new (c: object) => T, c: AwsCredentialIdentity): T => estateClient(moto, C, c);
  const cognito = client(CognitoIdentityProviderClient, creds);
  for (const group of ROLE_GROUPS) await cognito.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: group }));
  await client(EventBridgeClient, creds).send(new CreateEventBusCommand({ Name: PLATFORM_EVENT_BUS_NAME }));
  const ddb = client(DynamoDBClient, creds);
  await ddb.send(new CreateTableCommand({
    TableName: API_KEYS_TABLE_NAME, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }, { AttributeName: 'keyHash', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'keyHash', KeyType: 'RANGE' }],
  }));
  await ddb.send(new CreateTableCommand({ TableName: REGISTRY_TABLE, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }] }));
  Object.assign(process.env, awsEnv(moto, creds), {
    [ENV.config]: JSON.stringify(loadConfig({ file: configFile })), [ENV.registryTable]: REGISTRY_TABLE, [ENV.eventBus]: PLATFORM_EVENT_BUS_NAME,
    [ENV.userPoolId]: poolId, [ENV.apiKeysTable]: API_KEYS_TABLE_NAME, POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_TRACE_ENABLED: 'false',
  });
  const { putNewTenant } = await import('../lambdas/shared/registry.js');
  await putNewTenant(localTenant('acme', 'starter'));
  const { handler } = await import('../lambdas/admin/admin-api.js');
  return startAdminApiFront(handler, `arn:aws:sts::${PLATFORM}:assumed-role/AWSReservedSSO_TesseraPlatformAdmin_0123456789abcdef/alice`);
}

/**
 * The ✗ lines of a doctor run but those moto cannot answer: each tier's RDS class (moto has no
 * PostgreSQL orderable options, so the empty answer reads as "not offered").
 */
function failedBesidesMotoGaps(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('✗') && !/^✗ RDS db\.\S+ tier /.test(l));
}

async function rehearse(moto: MotoServer, dir: string, stoppers: Array<() => Promise<void>>): Promise<void> {
  say('# The deploy guide (docs/deploying.md), rehearsed against moto');
  say(`# moto ${moto.endpoint} plays AWS for a made-up organization: management ${MANAGEMENT}, platform ${PLATFORM}, workload ${WORKLOAD}, ${REGION}.`);

  // What steps 2-4 leave behind (bootstraps, the platform stack's outputs, provider secrets,
  // weights, the Cognito pool), built by API: moto's CloudFormation cannot deploy the real stacks.
  const estate = await buildEstate(moto, dir);
  const client = <T>(C: new (c: object) => T, creds: AwsCredentialIdentity): T => estateClient(moto, C, creds);
  // The estate is doctor's healthy one; the guide creates these itself, later: step 5 and step 8.
  await client(IAMClient, estate.creds.workload).send(new DeleteRoleCommand({ RoleName: 'TesseraProvisioning' }));
  const sso = client(SSOAdminClient, estate.creds.management);
  await sso.send(new DeleteAccountAssignmentCommand({ InstanceArn: estate.instanceArn, PermissionSetArn: estate.permissionSetArn, TargetId: PLATFORM, TargetType: 'AWS_ACCOUNT', PrincipalType: 'USER', PrincipalId: 'u-alice' }));
  await sso.send(new DeletePermissionSetCommand({ InstanceArn: estate.instanceArn, PermissionSetArn: estate.permissionSetArn }));
  // The pool as constructs/inference-api.ts declares it (email sign-in, MFA required with TOTP only, admin-created users only,
  // immutable custom:tenant_id) and its SRP-only GatewayClient, in place of the estate's bare pool; both ids as stack outputs.
  // By API: moto's CloudFormation has no AWS::Cognito::UserPool.
  const cognito = client(CognitoIdentityProviderClient, estate.creds.platform);
  await cognito.send(new DeleteUserPoolCommand({ UserPoolId: estate.poolId }));
  const poolId = (await cognito.send(new CreateUserPoolCommand({
    PoolName: POOL_NAME, UsernameAttributes: ['email'], AutoVerifiedAttributes: ['email'], MfaConfiguration: 'ON',
    AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    Policies: { PasswordPolicy: { MinimumLength: 14, RequireNumbers: true, RequireLowercase: true, RequireUppercase: true, RequireSymbols: true } },
    Schema: [{ Name: 'tenant_id', AttributeDataType: 'String', Mutable: false, StringAttributeConstraints: { MinLength: '3', MaxLength: '24' } }],
  }))).UserPool!.Id!;
  await cognito.send(new SetUserPoolMfaConfigCommand({ UserPoolId: poolId, MfaConfiguration: 'ON', SoftwareTokenMfaConfiguration: { Enabled: true } }));
  const clientId = (await cognito.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId, ClientName: 'GatewayClient', GenerateSecret: false, ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    IdTokenValidity: 1, AccessTokenValidity: 1, TokenValidityUnits: { IdToken: 'hours', AccessToken: 'hours' },
  }))).UserPoolClient!.ClientId!;
  const catalogBucket = 'tesseraplatform-blueprintsbucket-rehearsal';
  const platformCfn = client(CloudFormationClient, estate.creds.platform);
  await platformCfn.send(new UpdateStackCommand({
    StackName: 'TesseraPlatform',
    TemplateBody: JSON.stringify({
      Resources: { Marker: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
      Outputs: {
        TenantUserPoolId: { Value: poolId }, TenantUserPoolClientId: { Value: clientId },
        BlueprintBucketName: { Value: catalogBucket }, BlueprintPrefix: { Value: `blueprints/${version}/` },
      },
    }),
  }));
  // An IAM Identity Center user to make platform admin (step 8).
  const identityStoreId = (await sso.send(new ListInstancesCommand({}))).Instances!.find((i) => i.InstanceArn === estate.instanceArn)!.IdentityStoreId!;
  await client(IdentitystoreClient, estate.creds.management).send(new CreateUserCommand({ IdentityStoreId: identityStoreId, UserName: 'alice', DisplayName: 'Alice Example', Name: { GivenName: 'Alice', FamilyName: 'Example' } }));
  say('# Prepared by API (steps 2-4 cannot run here: no cdk bootstrap or cdk deploy against moto): CDK bootstrap version parameters and the platform');
  say(`# deploy role trusting ${MANAGEMENT}, a TesseraPlatform stack with the outputs TenantUserPoolId, TenantUserPoolClientId, BlueprintBucketName,`);
  say('# the provider secrets tessera/providers/openai and tessera/providers/huggingface, base-model weights and images, the tessera-tenants');
  say(`# Cognito pool (MFA with TOTP) and its GatewayClient, and the Identity Center user alice (test/integration/support/doctor-estate.ts).`);

  heading('Step 1. Config and prerequisites');
  const configFile = join(dir, 'tessera.config.yaml');
  const init = await tessera(dir, ['init', '--yes',
    '--management-account-id', MANAGEMENT, '--organization-id', estate.config.organization.organizationId, '--root-id', estate.rootId,
    '--platform-account-id', PLATFORM, '--workload-account-id', WORKLOAD, '--home-region', REGION, '--allowed-regions', REGION,
    '--availability-zones', `${REGION}=${REGION}a,${REGION}b,${REGION}c`, '--base-models-bucket', BUCKET,
    '--account-email', 'aws+tessera-{tenantId}@platform.acme.test', '--output', 'tessera.config.yaml']);
  expectThat(init.code === 0 && /Wrote \.?\/?tessera\.config\.yaml/.test(init.stdout + init.stderr), 'tessera init --yes did not write tessera.config.yaml');

  // moto cannot answer two of doctor's checks; the rehearsal's config leaves them out, as the deploy guide's doctor run does.
  // Its one model has no announced OpenAI shutdown: doctor's model-shutdown line judges by the clock (gpt-4o-mini would warn
  // until 2027-01-14 and fail after), and the rehearsal must pass on any day.
  const rehearsalOnly = {
    gateway: { models: [{ id: 'openai/gpt-5.4-mini', upstream: 'gpt-5.4-mini', inputPricePer1k: 0.00075, outputPricePer1k: 0.0045, maxOutputTokens: 128_000 }] },
    sharedCluster: { gpu: { minSize: 0, maxSize: 0 } },
    tiers: { professional: { compute: { quota: { gpus: 0 } } }, enterprise: { compute: { gpu: { minSize: 0, maxSize: 0 } } } },
  };
  const doc = parseDocument(readFileSync(configFile, 'utf8'));
  for (const [key, value] of Object.entries(rehearsalOnly)) doc.set(key, doc.createNode(value));
  const baseModels = (doc.toJS() as { fineTuning?: { baseModels?: Array<{ id: string }> } }).fineTuning?.baseModels ?? [];
  baseModels.forEach((_, i) => {
    doc.setIn(['fineTuning', 'baseModels', i, 'trainingImage'], TRAIN_IMAGE);
    doc.setIn(['fineTuning', 'baseModels', i, 'servingImage'], SERVE_IMAGE);
  });
  writeFileSync(configFile, String(doc));
  say('# Rehearsal only: moto has no Bedrock GetFoundationModelAvailability and answers Service Quotas for VPC only, so doctor\'s');
  say('# bedrock-model and gpu-quota lines cannot pass here (they are tested with aws-sdk-client-mock, test/unit/doctor/). The rehearsal\'s');
  say('# config therefore has no bedrock/ model and GPU node groups of maxSize 0 (keys set in tessera.config.yaml):');
  say(`#   gateway.models: [openai/gpt-5.4-mini]; sharedCluster.gpu: {minSize: 0, maxSize: 0}; tiers.enterprise.compute.gpu: {minSize: 0, maxSize: 0};`);
  say('#   tiers.professional.compute.quota.gpus: 0 (synth refuses a shared tier promising GPUs the shared cluster cannot have)');
  say('# moto\'s ECR also answers BatchGetImage only for the caller\'s own registry, so the AWS Deep Learning Containers images init wrote');
  say(`# (account 763104351884) are replaced by images in the platform account's registry: ${TRAIN_IMAGE}, ${SERVE_IMAGE}.`);
  say('# moto has no orderable options for RDS PostgreSQL (an empty DescribeOrderableDBInstanceOptions) and no ElastiCache');
  say('# DescribeReservedCacheNodesOfferings, so doctor\'s lines on each tier\'s RDS class (✗ not offered) and cache node type (! could not');
  say('# check) cannot pass here, whatever the config says (tested with aws-sdk-client-mock, test/unit/doctor/store-offer-checks.test.ts).');

  // Step 4's weights upload for every base model init wrote (the estate has the first one's).
  const s3 = client(S3Client, estate.creds.platform);
  for (const m of baseModels) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${m.id}/config.json`, Body: '{}' }));
  say(`# Step 4's weights, one object per base model (aws s3 sync ... s3://${BUCKET}/<model id>/): ${baseModels.map((m) => m.id).join(', ')}`);

  say('$ npx cdk synth -c tessera:configFile=tessera.config.yaml   # in-process here: the app built from the file, placeholders refused');
  const synthStart = Date.now();
  const { config, placeholders } = loadConfigReport(configSourcesFromContext((key) => (key === 'tessera:configFile' ? configFile : undefined)), { refusePlaceholders: true });
  const app = buildTesseraApp(newApp(), config, version, { placeholders });
  const provisioningTemplate = JSON.stringify(template(app.workloadProvisioning).toJSON());
  say(`synthesized TesseraOrganization, TesseraPlatform and ${Object.keys(app.blueprints).length} tier blueprints (${((Date.now() - synthStart) / 1000).toFixed(1)} s); no placeholder left`);

  heading('Step 5. The workload account\'s provisioning role, from the published template');
  // The platform stack publishes the template to its catalog; here it is put there by API.
  const templateKey = `blueprints/${version}/workload-provisioning-role.template.json`;
  await s3.send(new CreateBucketCommand({ Bucket: catalogBucket }));
  await s3.send(new PutObjectCommand({ Bucket: catalogBucket, Key: templateKey, Body: provisioningTemplate }));
  const templateUrl = `https://${catalogBucket}.s3.${REGION}.amazonaws.com/${templateKey}`;
  say(`# TesseraPlatform published the synthesized template: ${templateUrl}`);
  say('# (run through the AWS SDK for JavaScript, as the workload account: CreateStack, then DescribeStacks)');
  say(`$ aws cloudformation create-stack --profile workload --region ${REGION} --stack-name TesseraWorkloadProvisioning --template-url "$(out WorkloadProvisioningRoleTemplateUrl)" --parameters ParameterKey=BlueprintBucketName,ParameterValue="$(out BlueprintBucketName)" --capabilities CAPABILITY_NAMED_IAM`);
  const workloadCfn = client(CloudFormationClient, estate.creds.workload);
  const created = await workloadCfn.send(new CreateStackCommand({
    StackName: 'TesseraWorkloadProvisioning', TemplateURL: templateUrl, Capabilities: ['CAPABILITY_NAMED_IAM'],
    Parameters: [{ ParameterKey: 'BlueprintBucketName', ParameterValue: catalogBucket }],
  }));
  say(JSON.stringify({ StackId: created.StackId }, null, 4));
  say('$ aws cloudformation describe-stacks --profile workload --stack-name TesseraWorkloadProvisioning --query "Stacks[0].[StackStatus,Outputs]"');
  const stack = (await workloadCfn.send(new DescribeStacksCommand({ StackName: 'TesseraWorkloadProvisioning' }))).Stacks![0]!;
  say(JSON.stringify([stack.StackStatus, (stack.Outputs ?? []).map((o) => ({ OutputKey: o.OutputKey, OutputValue: o.OutputValue }))], null, 4));
  expectThat(stack.StackStatus === 'CREATE_COMPLETE', `TesseraWorkloadProvisioning is ${stack.StackStatus}, not CREATE_COMPLETE`);
  say('# Step 6 (move the workload account under the guardrails) is an Organizations move-account; moto does not evaluate SCPs, so it is not rehearsed.');

  heading('Step 7. tessera doctor again');
  const management = awsEnv(moto, estate.creds.management);
  const firstDoctor = await tessera(dir, ['doctor', '--config', 'tessera.config.yaml'], { env: management });
  expectThat(firstDoctor.code === 1 && /^✗ .*TesseraPlatformAdmin/m.test(firstDoctor.stdout) && failedBesidesMotoGaps(firstDoctor.stdout).length === 1,
    'doctor before step 8 should fail only for the missing TesseraPlatformAdmin permission set (and the RDS offers moto cannot answer)');
  say('# As the guide says: everything passes but the platform admins, which step 8 creates (and, here only, the RDS and ElastiCache offers,');
  say('# centralized root access and the Organizations accounts quota, which moto lacks).');

  heading('Step 8. The first platform admin');
  const admin = await tessera(dir, ['admins', 'create', '--user', 'alice', '--config', 'tessera.config.yaml'], { env: management });
  expectThat(admin.code === 0 && /^TesseraPlatformAdmin: created/m.test(admin.stdout), 'tessera admins create did not create TesseraPlatformAdmin');
  const admins = await tessera(dir, ['admins', 'list', '--config', 'tessera.config.yaml'], { env: management });
  expectThat(admins.code === 0 && new RegExp(`^alice\\s+USER\\s+\\S+\\s+${PLATFORM}$`, 'm').test(admins.stdout), 'tessera admins list does not show alice on the platform account');
  const doctor = await tessera(dir, ['doctor', '--config', 'tessera.config.yaml'], { env: management });
  // moto 5.2.5 has neither IAM's centralized root access (EnableOrganizationsRootCredentialsManagement, ListOrganizationsFeatures)
  // nor Service Quotas for Organizations: those two lines warn here, as the ElastiCache offers do.
  expectThat(failedBesidesMotoGaps(doctor.stdout).length === 0 && !/^! (?!ElastiCache |Centralized root access |Organization accounts quota )/m.test(doctor.stdout),
    'tessera doctor still fails after step 8 (besides the RDS and ElastiCache offers, centralized root access and the accounts quota moto lacks)');

  heading('Step 9. The first tenant');
  say('# tessera tenants create --id acme ... --watch runs the whole onboarding workflow (Step Functions, the lifecycle Lambdas, CloudFormation');
  say('# in the workload account); it is rehearsed on its own by `npm run demo:onboarding` (test/demo/onboarding-demo.ts). Here tenant');
  say('# acme is ACTIVE in tessera serve\'s embedded registry (--tenant acme:starter below).');

  heading('Step 10. The tenant\'s first admin user and a chat completion');
  const adminApi = await serveAdminApi(moto, estate.creds.platform, poolId, join(dir, 'tessera.config.yaml'));
  stoppers.push(() => adminApi.close());
  say('# The deployed admin API (AdminApiUrl) is its handler behind a loopback front here, acting as the platform (the role groups,');
  say('# the keys table, the platform bus and a registry with tenant acme ACTIVE prepared by API); the CLI signs with alice\'s credentials.');
  const invite = await tessera(dir, ['users', 'invite', '--tenant', 'acme', '--email', EMAIL, '--role', 'admin'], {
    env: { ...awsEnv(moto, estate.creds.platform), TESSERA_API_URL: adminApi.url },
    display: `TESSERA_API_URL=$(out AdminApiUrl) npx tessera users invite --tenant acme --email ${EMAIL} --role admin`,
  });
  expectThat(invite.code === 0 && invite.stdout.includes(`tessera login --email ${EMAIL} --user-pool-id ${poolId} --client-id ${clientId}`), 'tessera users invite did not print the login command');
  say('# moto sends no email and does not check the SRP proof (the temporary password is not verified); its TOTP secret is fixed, and');
  say('# the code typed below is computed from the secret login shows, as an authenticator app would. No AWS credentials are set.');
  let sent = 0;
  const login = await tessera(dir, ['login', '--email', EMAIL, '--user-pool-id', poolId, '--client-id', clientId, '--password-stdin', '--new-password-stdin', '--totp-code', '-'], {
    env: awsEnv(moto),
    display: `npx tessera login --email ${EMAIL} --user-pool-id ${poolId} --client-id ${clientId} --password-stdin --new-password-stdin --totp-code - < answers > token`,
    showStdout: () => '',
    answer: async (stderr) => {
      if (sent === 0) { sent = 1; return `temporary-password-from-the-email\n${NEW_PASSWORD}\n`; }
      const secret = /secret key: (\S+)/.exec(stderr)?.[1];
      if (sent === 1 && secret) { sent = 2; return `${await freshTotp(secret)}\n`; }
      return undefined;
    },
  });
  const token = login.stdout.trim();
  expectThat(login.code === 0 && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token), 'tessera login did not print an ID token');
  say('$ cut -c1-60 token');
  say(token.slice(0, 60));

  const upstream = await new FakeUpstream().start();
  stoppers.push(() => upstream.stop());
  say(`# The deployed InferenceApiUrl is replaced by tessera serve with the deployed authorizer's settings: the pool's issuer, the`);
  say(`# client id as audience, moto's JWKS; openai/* is rerouted to a fake OpenAI-compatible upstream on ${upstream.url} that echoes.`);
  const issuer = `https://cognito-idp.${REGION}.amazonaws.com/${poolId}`;
  const serve = await serveInBackground(dir, ['serve', '--config', 'tessera.config.yaml', '--tenant', 'acme:starter', '--port', '0', '--upstream', upstream.url,
    '--jwt-issuer', issuer, '--jwt-audience', clientId, '--jwks-url', `${moto.endpoint}/${poolId}/.well-known/jwks.json`]);
  const serveExited = new Promise<number | null>((ok) => serve.child.once('exit', ok));
  stoppers.push(async () => {
    if (serve.child.exitCode === null && serve.child.signalCode === null) {
      serve.child.kill('SIGTERM');
      await serveExited;
    }
  });
  say(`$ export TESSERA_BASE_URL=${serve.baseUrl} TESSERA_TOKEN=$(cat token)`);
  say('$ node first-call.mjs   # new OpenAI({ baseURL: TESSERA_BASE_URL, apiKey: TESSERA_TOKEN }).chat.completions.create(...), the deploy guide\'s Node example');
  const openai = new OpenAI({ baseURL: serve.baseUrl, apiKey: token, maxRetries: 0 });
  const reply = await openai.chat.completions.create({ model: 'openai/gpt-5.4-mini', messages: [{ role: 'user', content: 'Hello from my first Tessera credential' }] });
  say(reply.choices[0]?.message.content ?? '(no content)');
  say(JSON.stringify(reply.usage));
  expectThat(reply.choices[0]?.message.content === 'echo: Hello from my first Tessera credential', 'the chat completion did not answer with the upstream\'s text');
  const devToken = await tessera(dir, ['dev-token', '--tenant', 'acme'], { showStdout: () => '', display: 'TESSERA_TOKEN=$(npx tessera dev-token --tenant acme) node first-call.mjs   # serve\'s own dev key is not trusted now' });
  const refused = await new OpenAI({ baseURL: serve.baseUrl, apiKey: devToken.stdout.trim(), maxRetries: 0 }).chat.completions
    .create({ model: 'openai/gpt-5.4-mini', messages: [{ role: 'user', content: 'Hello' }] }).then(() => undefined, (e: Error) => e);
  say(refused ? `${refused.constructor.name}: ${refused.message}` : 'answered (it should not have)');
  expectThat(refused instanceof OpenAI.AuthenticationError, 'a dev token was not refused with 401');
  say('$ kill %1');
  serve.child.kill('SIGTERM');
  const code = await serveExited;
  say(`tessera serve stopped (exit ${code})`);
  expectThat(code === 0, `tessera serve exited ${code} on SIGTERM`);
}

let moto: MotoServer | undefined;
const stoppers: Array<() => Promise<void>> = [];
async function stopAll(): Promise<void> {
  for (const stop of stoppers.splice(0).reverse()) await stop().catch(() => undefined);
  await moto?.stop().catch(() => undefined);
  removeTempDirs();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopAll().finally(() => process.exit(130)));
}

let failed = false;
try {
  // Read by the moto_server child at start: moto then checks TOTP codes as Cognito does.
  process.env.MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP = 'true';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  moto = await startMoto();
  await rehearse(moto, tempDir('tessera-rehearsal-'), stoppers);
} catch (e) {
  failed = true;
  process.stderr.write(`${e instanceof RehearsalFailure ? e.message : (e as Error).stack ?? String(e)}\n`);
} finally {
  await stopAll();
}
if (!failed) say(`\n# Rehearsal passed in ${Math.round((Date.now() - started) / 1000)} s; moto, the fake upstream and tessera serve stopped, temp dir removed.`);
process.exit(failed ? 1 : 0);
