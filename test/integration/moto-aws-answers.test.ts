import { AccountClient, DisableRegionCommand, EnableRegionCommand, GetAlternateContactCommand, GetRegionOptStatusCommand, PutAlternateContactCommand } from '@aws-sdk/client-account';
import {
  AccountAlreadyClosedException, CloseAccountCommand, CreateAccountCommand, CreateOrganizationCommand, DescribeAccountCommand, DescribeCreateAccountStatusCommand,
  EnableAWSServiceAccessCommand, ListAccountsCommand,
  ListAccountsForParentCommand, ListRootsCommand, OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStacksCommand, ListStackResourcesCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateRoleCommand, DeletePolicyCommand, GetInstanceProfileCommand, GetPolicyCommand, GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand, NoSuchEntityException,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import {
  AdminCreateUserCommand, AdminGetUserCommand, CognitoIdentityProviderClient, CreateUserPoolCommand, InvalidParameterException, ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  CopyDBClusterSnapshotCommand, CopyDBSnapshotCommand, CreateDBClusterCommand, CreateDBClusterSnapshotCommand, CreateDBInstanceCommand, CreateDBSnapshotCommand,
  DeleteDBInstanceCommand, DeleteDBSnapshotCommand, DescribeAccountAttributesCommand, DescribeDBInstancesCommand, RDSClient,
} from '@aws-sdk/client-rds';
import { CreateModelCommand, CreateTrainingJobCommand, DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { CreateFunctionCommand, GetAccountSettingsCommand, LambdaClient, ListFunctionsCommand, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchWriteItemCommand, CreateTableCommand, DeleteItemCommand, DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand, QueryCommand, ScanCommand,
  TransactWriteItemsCommand, UpdateItemCommand, type AttributeValue, type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { DescribeSecurityGroupsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateQueueCommand, DeleteMessageCommand, ListQueuesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ListTagsForResourceCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { startMoto, type MotoServer } from './support/moto-server.js';

/**
 * The answers support/moto-python/tessera_moto_patches.py changes on purpose (`CHANGED`), each
 * where moto answers otherwise than AWS: each test asks a test moto server (the patches loaded, as
 * every suite's server) what AWS answers, and fails on moto's own answer (a server started with
 * `TESSERA_MOTO_PATCHES=off`, also asked here so that the test says what moto alone would answer).
 */

/**
 * The file's one server of moto's own code (`TESSERA_MOTO_PATCHES=off`): the zygote cannot fork it (the variable is
 * read when moto is imported), so each is a fresh Python (~0.9 s of CPU); one a file instead of one a describe
 * block. Each block after the first gets it reset (POST /moto-api/reset: every backend dropped), as empty as new.
 */
let ownServer: Promise<MotoServer> | undefined;
async function emptyOwnServer(): Promise<MotoServer> {
  if (!ownServer) {
    ownServer = startMoto({ env: { TESSERA_MOTO_PATCHES: 'off' } });
    return ownServer;
  }
  const own = await ownServer;
  await own.reset();
  return own;
}
afterAll(async () => {
  await (await ownServer)?.stop();
});

/**
 * The two servers of a describe block, both empty before its tests: `moto`, with the patches (as every suite's
 * server: started for the block, stopped after it), and `own`, moto's own code (the file's, reset: emptyOwnServer).
 * Set once beforeAll has run.
 */
function motoPair(): { moto: MotoServer; own: MotoServer } {
  const servers = {} as { moto: MotoServer; own: MotoServer };
  beforeAll(async () => {
    [servers.moto, servers.own] = await Promise.all([startMoto(), emptyOwnServer()]);
  }, 120_000);
  afterAll(async () => {
    await servers.moto?.stop();
  });
  return servers;
}

const client = (endpoint: string) => new OrganizationsClient({
  endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' },
});

/** An organization with one member account, which is then closed (CloseAccount once). */
async function closedMember(orgs: OrganizationsClient): Promise<string> {
  await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const made = (await orgs.send(new CreateAccountCommand({ AccountName: 'closing', Email: 'closing@example.com' }))).CreateAccountStatus!;
  const accountId = made.AccountId!;
  await orgs.send(new CloseAccountCommand({ AccountId: accountId }));
  return accountId;
}

async function closeAgain(orgs: OrganizationsClient, accountId: string): Promise<string> {
  try {
    await orgs.send(new CloseAccountCommand({ AccountId: accountId }));
    return 'closed again';
  } catch (e) {
    return (e as Error).name;
  }
}

describe('Organizations CloseAccount, as AWS answers it (close_account_as_aws)', () => {
  const servers = motoPair();

  it('a closed account is State PENDING_CLOSURE (not SUSPENDED, an account AWS restricted) in DescribeAccount, ListAccounts and ListAccountsForParent; closing it again answers AccountAlreadyClosedException', async () => {
    // GIVEN a member account closed with CloseAccount
    const orgs = client(servers.moto.endpoint);
    const accountId = await closedMember(orgs);
    // THEN Organizations shows it closing: State PENDING_CLOSURE, and the older Status field PENDING_CLOSURE (closure in progress)
    const closing = { Id: accountId, State: 'PENDING_CLOSURE', Status: 'PENDING_CLOSURE' };
    expect((await orgs.send(new DescribeAccountCommand({ AccountId: accountId }))).Account).toMatchObject(closing);
    expect((await orgs.send(new ListAccountsCommand({}))).Accounts!.find((a) => a.Id === accountId)).toMatchObject(closing);
    const rootId = (await orgs.send(new ListRootsCommand({}))).Roots![0].Id!;
    expect((await orgs.send(new ListAccountsForParentCommand({ ParentId: rootId }))).Accounts!.find((a) => a.Id === accountId)).toMatchObject(closing);
    // AND a second CloseAccount is refused, the account left as it was
    await expect(orgs.send(new CloseAccountCommand({ AccountId: accountId }))).rejects.toBeInstanceOf(AccountAlreadyClosedException);
    expect((await orgs.send(new DescribeAccountCommand({ AccountId: accountId }))).Account).toMatchObject(closing);
    // AND the management account is untouched
    const others = (await orgs.send(new ListAccountsCommand({}))).Accounts!.filter((a) => a.Id !== accountId);
    expect(others.map((a) => [a.State, a.Status])).toEqual([['ACTIVE', 'ACTIVE']]);

    // moto's own code (patches off) answers SUSPENDED for both fields: the patch is what this test sees
    const plain = client(servers.own.endpoint);
    const plainId = await closedMember(plain);
    expect((await plain.send(new DescribeAccountCommand({ AccountId: plainId }))).Account).toMatchObject({ State: 'SUSPENDED', Status: 'SUSPENDED' });
    expect(await closeAgain(plain, plainId)).toBe('AccountAlreadyClosedException');
  }, 60_000);
});

describe('Lambda GetAccountSettings, which moto does not route (answer_lambda_account_settings)', () => {
  const servers = motoPair();
  const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' } });

  it('answers AWS\'s default quota of 1000, less what the functions reserve (moto\'s own concurrency model); moto alone answers no such route', async () => {
    // GIVEN an account without functions
    const lambda = new LambdaClient(config(servers.moto.endpoint));
    expect((await lambda.send(new GetAccountSettingsCommand({}))).AccountLimit).toMatchObject({ ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 });
    // WHEN a function reserves 50
    const role = (await new IAMClient(config(servers.moto.endpoint)).send(new CreateRoleCommand({
      RoleName: 'fn-role', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    }))).Role!.Arn!;
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'fn', Runtime: 'nodejs22.x', Role: role, Handler: 'index.handler', Code: { ZipFile: new Uint8Array([80, 75, 5, 6, ...new Array(18).fill(0)]) } }));
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'fn', ReservedConcurrentExecutions: 50 }));
    // THEN the unreserved pool is 950, and the usage counts the function
    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    expect(settings.AccountLimit).toMatchObject({ ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 950 });
    expect(settings.AccountUsage?.FunctionCount).toBe(1);

    // moto's own code (patches off) has no route for it
    await expect(new LambdaClient(config(servers.own.endpoint)).send(new GetAccountSettingsCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  }, 60_000);
});

describe('Account Management EnableRegion and GetRegionOptStatus, which moto does not route (answer_account_regions)', () => {
  const servers = motoPair();
  const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' } });
  /** An organization (the caller its management account) with two member accounts; trusted access for account.amazonaws.com when `trusted`. */
  async function organization(endpoint: string, trusted: boolean): Promise<[string, string]> {
    const orgs = client(endpoint);
    await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const member = async (name: string) => (await orgs.send(new DescribeCreateAccountStatusCommand({
      CreateAccountRequestId: (await orgs.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }))).CreateAccountStatus!.Id!,
    }))).CreateAccountStatus!.AccountId!;
    const members: [string, string] = [await member('first'), await member('second')];
    if (trusted) await orgs.send(new EnableAWSServiceAccessCommand({ ServicePrincipal: 'account.amazonaws.com' }));
    return members;
  }

  it('answers an opt-in region DISABLED until enabled, ENABLING for two polls after EnableRegion, then ENABLED; a default region ENABLED_BY_DEFAULT', async () => {
    const [MEMBER, OTHER] = await organization(servers.moto.endpoint, true);
    const account = new AccountClient(config(servers.moto.endpoint));
    const status = async (RegionName: string) => (await account.send(new GetRegionOptStatusCommand({ AccountId: MEMBER, RegionName }))).RegionOptStatus;
    expect(await status('us-east-1')).toBe('ENABLED_BY_DEFAULT');
    expect(await status('me-central-1')).toBe('DISABLED');
    await account.send(new EnableRegionCommand({ AccountId: MEMBER, RegionName: 'me-central-1' }));
    expect([await status('me-central-1'), await status('me-central-1'), await status('me-central-1')]).toEqual(['ENABLING', 'ENABLING', 'ENABLED']);
    // per account: another member's is still disabled; enabling again changes nothing
    expect((await account.send(new GetRegionOptStatusCommand({ AccountId: OTHER, RegionName: 'me-central-1' }))).RegionOptStatus).toBe('DISABLED');
    await account.send(new EnableRegionCommand({ AccountId: MEMBER, RegionName: 'me-central-1' }));
    expect(await status('me-central-1')).toBe('ENABLED');
    await expect(account.send(new GetRegionOptStatusCommand({ AccountId: MEMBER, RegionName: 'nowhere' }))).rejects.toMatchObject({ name: 'ValidationException' });
    // an account outside the organization is refused, as AWS refuses it (the AccountId must be a member of the caller's organization)
    await expect(account.send(new GetRegionOptStatusCommand({ AccountId: '777788889999', RegionName: 'me-central-1' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });

    // moto's own code (patches off) has no route for it
    await expect(new AccountClient(config(servers.own.endpoint)).send(new GetRegionOptStatusCommand({ AccountId: MEMBER, RegionName: 'me-central-1' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  }, 60_000);

  it('DisableRegion makes an ENABLED opt-in region DISABLING for two polls, then DISABLED; refuses a default region (ValidationException) and one being enabled (ConflictException)', async () => {
    const moto = await startMoto();
    try {
      const [member] = await organization(moto.endpoint, true);
      const account = new AccountClient(config(moto.endpoint));
      const status = async () => (await account.send(new GetRegionOptStatusCommand({ AccountId: member, RegionName: 'me-central-1' }))).RegionOptStatus;
      await account.send(new EnableRegionCommand({ AccountId: member, RegionName: 'me-central-1' }));
      await expect(account.send(new DisableRegionCommand({ AccountId: member, RegionName: 'me-central-1' }))).rejects.toMatchObject({ name: 'ConflictException' });
      expect([await status(), await status(), await status()]).toEqual(['ENABLING', 'ENABLING', 'ENABLED']);
      await account.send(new DisableRegionCommand({ AccountId: member, RegionName: 'me-central-1' }));
      // being disabled: EnableRegion answers ConflictException (API Reference, EnableRegion, Errors)
      await expect(account.send(new EnableRegionCommand({ AccountId: member, RegionName: 'me-central-1' }))).rejects.toMatchObject({ name: 'ConflictException' });
      expect([await status(), await status(), await status()]).toEqual(['DISABLING', 'DISABLING', 'DISABLED']);
      await expect(account.send(new DisableRegionCommand({ AccountId: member, RegionName: 'us-east-1' }))).rejects.toMatchObject({ name: 'ValidationException' });
    } finally {
      await moto.stop();
    }
  }, 120_000);

  it('refuses a member account\'s region (AccessDeniedException) while the organization has not enabled trusted access for account.amazonaws.com, as AWS does', async () => {
    // A server of its own: the first test's organization has trusted access.
    const moto = await startMoto();
    try {
      const [member] = await organization(moto.endpoint, false);
      const account = new AccountClient(config(moto.endpoint));
      await expect(account.send(new GetRegionOptStatusCommand({ AccountId: member, RegionName: 'me-central-1' }))).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('trusted access for account.amazonaws.com') });
      await expect(account.send(new EnableRegionCommand({ AccountId: member, RegionName: 'me-central-1' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
      await client(moto.endpoint).send(new EnableAWSServiceAccessCommand({ ServicePrincipal: 'account.amazonaws.com' }));
      expect((await account.send(new GetRegionOptStatusCommand({ AccountId: member, RegionName: 'me-central-1' }))).RegionOptStatus).toBe('DISABLED');
    } finally {
      await moto.stop();
    }
  }, 120_000);
});

describe('Account Management PutAlternateContact and GetAlternateContact with an AccountId, as AWS (answer_account_regions)', () => {
  const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' } });
  const CONTACT = { AlternateContactType: 'SECURITY' as const, Name: 'Platform security', Title: 'Security team', EmailAddress: 'security@platform.example.com', PhoneNumber: '+1 (206) 555-0100' };

  it('refuses a member account\'s contact (AccessDeniedException) without trusted access for account.amazonaws.com or outside the organization, and a field AWS refuses (ValidationException); puts and reads it back otherwise', async () => {
    const moto = await startMoto();
    try {
      const orgs = client(moto.endpoint);
      await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
      const member = (await orgs.send(new DescribeCreateAccountStatusCommand({
        CreateAccountRequestId: (await orgs.send(new CreateAccountCommand({ AccountName: 'contacts', Email: 'contacts@example.com' }))).CreateAccountStatus!.Id!,
      }))).CreateAccountStatus!.AccountId!;
      const account = new AccountClient(config(moto.endpoint));
      // moto's own code would put it: AWS refuses it until the organization enables trusted access (API Reference, PutAlternateContact, AccountId)
      await expect(account.send(new PutAlternateContactCommand({ ...CONTACT, AccountId: member }))).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('trusted access for account.amazonaws.com') });
      await orgs.send(new EnableAWSServiceAccessCommand({ ServicePrincipal: 'account.amazonaws.com' }));
      await expect(account.send(new PutAlternateContactCommand({ ...CONTACT, AccountId: '777788889999' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
      await expect(account.send(new PutAlternateContactCommand({ ...CONTACT, AccountId: member, PhoneNumber: '555 0100 ext. 7' }))).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(account.send(new PutAlternateContactCommand({ ...CONTACT, AccountId: member, Title: 't'.repeat(51) }))).rejects.toMatchObject({ name: 'ValidationException' });
      await account.send(new PutAlternateContactCommand({ ...CONTACT, AccountId: member }));
      const { AccountId: _member, ...stored } = { ...CONTACT, AccountId: member };
      expect((await account.send(new GetAlternateContactCommand({ AccountId: member, AlternateContactType: 'SECURITY' }))).AlternateContact).toEqual(stored);
    } finally {
      await moto.stop();
    }
  }, 120_000);
});

describe('a call into an opt-in region the calling account has not enabled, refused as AWS refuses it (refuse_disabled_regions)', () => {
  const servers = motoPair();
  const management = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' };
  /** An organization with trusted access for account.amazonaws.com, one member, and credentials in it (moto's STS AssumeRole into the member). */
  async function member(endpoint: string): Promise<{ accountId: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string } }> {
    const orgs = client(endpoint);
    await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const accountId = (await orgs.send(new DescribeCreateAccountStatusCommand({
      CreateAccountRequestId: (await orgs.send(new CreateAccountCommand({ AccountName: 'optin', Email: 'optin@example.com' }))).CreateAccountStatus!.Id!,
    }))).CreateAccountStatus!.AccountId!;
    await orgs.send(new EnableAWSServiceAccessCommand({ ServicePrincipal: 'account.amazonaws.com' }));
    const c = (await new STSClient({ endpoint, region: 'us-east-1', credentials: management }).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`, RoleSessionName: 'optin' }))).Credentials!;
    return { accountId, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } };
  }
  /** One call per protocol family into `region` as the member: the error's name and HTTP status, or 'served'. */
  async function answers(endpoint: string, credentials: AwsCredentialIdentity, region: string): Promise<Record<string, string>> {
    const config = { endpoint, region, maxAttempts: 1, credentials };
    const outcome = async (call: Promise<unknown>) => call.then(() => 'served', (e: { name: string; $metadata?: { httpStatusCode?: number } }) => `${e.name} ${e.$metadata?.httpStatusCode}`);
    return {
      query: await outcome(new STSClient(config).send(new GetCallerIdentityCommand({}))),
      cloudformation: await outcome(new CloudFormationClient(config).send(new DescribeStacksCommand({}))),
      json: await outcome(new DynamoDBClient(config).send(new ListTablesCommand({}))),
      sqs: await outcome(new SQSClient(config).send(new ListQueuesCommand({}))),
      ec2: await outcome(new EC2Client(config).send(new DescribeVpcsCommand({}))),
      restJson: await outcome(new LambdaClient(config).send(new ListFunctionsCommand({}))),
    };
  }

  it('answers InvalidClientTokenId (query), UnrecognizedClientException (JSON, REST-JSON), AuthFailure (EC2) while the region is DISABLED or ENABLING, serves it once ENABLED; default regions and the Account API always served', async () => {
    const { accountId, credentials } = await member(servers.moto.endpoint);
    const refused = {
      query: 'InvalidClientTokenId 403', cloudformation: 'InvalidClientTokenId 403', json: 'UnrecognizedClientException 403', sqs: 'UnrecognizedClientException 403',
      ec2: 'AuthFailure 401', restJson: 'UnrecognizedClientException 403',
    };
    const served = { query: 'served', cloudformation: 'served', json: 'served', sqs: 'served', ec2: 'served', restJson: 'served' };
    // GIVEN me-central-1 DISABLED in the member account (a new account's opt-in regions are)
    expect(await answers(servers.moto.endpoint, credentials, 'me-central-1')).toEqual(refused);
    // the member's default region is served; the management account's own opt-in region is refused too (DISABLED there)
    expect(await answers(servers.moto.endpoint, credentials, 'us-west-2')).toEqual(served);
    expect((await answers(servers.moto.endpoint, management, 'me-central-1')).json).toBe('UnrecognizedClientException 403');
    // WHEN the management account enables it: refused while ENABLING, served once GetRegionOptStatus answers ENABLED
    const account = new AccountClient({ endpoint: servers.moto.endpoint, region: 'us-east-1', maxAttempts: 1, credentials: management });
    const status = async () => (await account.send(new GetRegionOptStatusCommand({ AccountId: accountId, RegionName: 'me-central-1' }))).RegionOptStatus;
    await account.send(new EnableRegionCommand({ AccountId: accountId, RegionName: 'me-central-1' }));
    expect(await status()).toBe('ENABLING');
    expect(await answers(servers.moto.endpoint, credentials, 'me-central-1')).toEqual(refused);
    expect([await status(), await status()]).toEqual(['ENABLING', 'ENABLED']);
    expect(await answers(servers.moto.endpoint, credentials, 'me-central-1')).toEqual(served);
    // the Account Management API is never refused, whatever the client's region
    expect(await new AccountClient({ endpoint: servers.moto.endpoint, region: 'af-south-1', maxAttempts: 1, credentials: management }).send(new GetRegionOptStatusCommand({ AccountId: accountId, RegionName: 'af-south-1' }))).toMatchObject({ RegionOptStatus: 'DISABLED' });
    // and DisableRegion takes it away again (refused while DISABLING, as once DISABLED)
    await account.send(new DisableRegionCommand({ AccountId: accountId, RegionName: 'me-central-1' }));
    expect((await answers(servers.moto.endpoint, credentials, 'me-central-1')).json).toBe('UnrecognizedClientException 403');

    // moto's own code (patches off) serves the region whatever its status
    expect(await answers(servers.own.endpoint, credentials, 'me-central-1')).toEqual(served);
  }, 120_000);
});

describe('CloudFormation\'s update of an IAM role whose RoleName changes: a replacement (replace_renamed_roles)', () => {
  const servers = motoPair();
  const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' } });
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  const document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'backup:DescribeBackupVault', Resource: '*' }] };
  /** A role (named `roleName`, or generated without it) and three dependents that Ref it: a managed policy, an AWS::IAM::Policy, an instance profile. */
  const template = (roleName?: string) => JSON.stringify({
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: { ...(roleName ? { RoleName: roleName } : {}), Path: '/svc/', AssumeRolePolicyDocument: trust, Policies: [{ PolicyName: 'own', PolicyDocument: document }] } },
      Managed: { Type: 'AWS::IAM::ManagedPolicy', Properties: { PolicyDocument: document, Roles: [{ Ref: 'Role' }] } },
      Extra: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'extra', PolicyDocument: document, Roles: [{ Ref: 'Role' }] } },
      Profile: { Type: 'AWS::IAM::InstanceProfile', Properties: { InstanceProfileName: 'profile', Roles: [{ Ref: 'Role' }] } },
    },
  });
  const roleOf = async (cfn: CloudFormationClient) => (await cfn.send(new ListStackResourcesCommand({ StackName: 'roles' }))).StackResourceSummaries!.find((r) => r.LogicalResourceId === 'Role')!.PhysicalResourceId!;

  it('an update that names the role creates it anew with the dependents pointed at it and deletes the old one; leaving the name out again replaces it by a generated name; moto alone fails the update with NoSuchEntity', async () => {
    // GIVEN a stack whose role has a generated name
    const cfn = new CloudFormationClient(config(servers.moto.endpoint));
    const iam = new IAMClient(config(servers.moto.endpoint));
    await cfn.send(new CreateStackCommand({ StackName: 'roles', TemplateBody: template() }));
    const generated = await roleOf(cfn);
    expect(generated).toMatch(/^roles-Role-[A-Z0-9]{12}$/);
    // WHEN an update names it
    await cfn.send(new UpdateStackCommand({ StackName: 'roles', TemplateBody: template('named-role') }));
    // THEN the stack holds the named role, with its own inline policy, the AWS::IAM::Policy's, the managed policy, in the instance profile
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'roles' }))).Stacks![0].StackStatus).toBe('UPDATE_COMPLETE');
    expect(await roleOf(cfn)).toBe('named-role');
    expect((await iam.send(new GetRoleCommand({ RoleName: 'named-role' }))).Role).toMatchObject({ Path: '/svc/', Arn: 'arn:aws:iam::123456789012:role/svc/named-role' });
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'named-role' }))).PolicyNames!.sort()).toEqual(['extra', 'own']);
    expect((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'named-role' }))).AttachedPolicies).toHaveLength(1);
    expect((await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'profile' }))).InstanceProfile!.Roles!.map((r) => r.RoleName)).toEqual(['named-role']);
    // AND the old role is gone
    await expect(iam.send(new GetRoleCommand({ RoleName: generated }))).rejects.toBeInstanceOf(NoSuchEntityException);
    // WHEN the name is left out again THEN a generated one replaces it
    await cfn.send(new UpdateStackCommand({ StackName: 'roles', TemplateBody: template() }));
    const again = await roleOf(cfn);
    expect(again).toMatch(/^roles-Role-[A-Z0-9]{12}$/);
    expect((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: again }))).AttachedPolicies).toHaveLength(1);
    await expect(iam.send(new GetRoleCommand({ RoleName: 'named-role' }))).rejects.toBeInstanceOf(NoSuchEntityException);

    // moto's own code (patches off) updates the role in place, by UpdateRole of a role of the new name that does not exist
    const own = new CloudFormationClient(config(servers.own.endpoint));
    await own.send(new CreateStackCommand({ StackName: 'roles', TemplateBody: template() }));
    await expect(own.send(new UpdateStackCommand({ StackName: 'roles', TemplateBody: template('named-role') }))).rejects.toMatchObject({ name: 'NoSuchEntity', message: expect.stringContaining('named-role') });
  }, 60_000);
});

describe('CloudFormation\'s update adding back a resource an earlier update removed: created anew (recreate_removed_resources)', () => {
  const servers = motoPair();
  const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' } });
  const document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
  /** A stack of one managed policy that stays and, `withExtra`, one that an update takes out and the next puts back (a tenant's DR replication policy). */
  const template = (withExtra: boolean) => JSON.stringify({
    Resources: {
      Stays: { Type: 'AWS::IAM::ManagedPolicy', Properties: { PolicyDocument: document } },
      ...(withExtra ? { Extra: { Type: 'AWS::IAM::ManagedPolicy', Properties: { PolicyDocument: document } } } : {}),
    },
  });
  const extraOf = async (cfn: CloudFormationClient) => (await cfn.send(new ListStackResourcesCommand({ StackName: 'policies' }))).StackResourceSummaries!.find((r) => r.LogicalResourceId === 'Extra')?.PhysicalResourceId;

  it('the policy put back is created (it exists under the id the stack lists) and the stack deletes; moto alone hands back the one the earlier update removed (the stack lists a policy IAM no longer has)', async () => {
    // GIVEN a stack with the policy, updated without it, then with it again
    const cfn = new CloudFormationClient(config(servers.moto.endpoint));
    const iam = new IAMClient(config(servers.moto.endpoint));
    const { StackId } = await cfn.send(new CreateStackCommand({ StackName: 'policies', TemplateBody: template(true) }));
    const first = (await extraOf(cfn))!;
    await cfn.send(new UpdateStackCommand({ StackName: 'policies', TemplateBody: template(false) }));
    expect(await extraOf(cfn)).toBeUndefined();
    await cfn.send(new UpdateStackCommand({ StackName: 'policies', TemplateBody: template(true) }));
    // THEN the policy the stack lists is a new one (a generated name of its own), it exists, and the stack deletes
    const again = (await extraOf(cfn))!;
    expect(again).toMatch(/:policy\/policies-Extra-[A-Z0-9]{12}$/);
    expect(again).not.toBe(first);
    expect((await iam.send(new GetPolicyCommand({ PolicyArn: again }))).Policy!.Arn).toBe(again);
    await cfn.send(new DeleteStackCommand({ StackName: 'policies' }));
    expect((await cfn.send(new DescribeStacksCommand({ StackName: StackId }))).Stacks![0].StackStatus).toBe('DELETE_COMPLETE');

    // moto's own code (patches off) hands back the deleted policy: the stack lists it, IAM has no such policy
    const own = new CloudFormationClient(config(servers.own.endpoint));
    const ownIam = new IAMClient(config(servers.own.endpoint));
    await own.send(new CreateStackCommand({ StackName: 'policies', TemplateBody: template(true) }));
    const ownFirst = (await extraOf(own))!;
    await own.send(new UpdateStackCommand({ StackName: 'policies', TemplateBody: template(false) }));
    await ownIam.send(new DeletePolicyCommand({ PolicyArn: ownFirst })); // as deleting the role it was attached to deletes it in the tier change
    await own.send(new UpdateStackCommand({ StackName: 'policies', TemplateBody: template(true) }));
    expect(await extraOf(own)).toBe(ownFirst);
    await expect(ownIam.send(new GetPolicyCommand({ PolicyArn: ownFirst }))).rejects.toBeInstanceOf(NoSuchEntityException);
  }, 60_000);
});

describe('Cognito AdminCreateUser Username and ListUsers Filter lengths, which moto does not check (refuse_cognito_parameters_as_aws)', () => {
  const servers = motoPair();
  const cognito = (endpoint: string) => new CognitoIdentityProviderClient({
    endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' },
  });
  /** A pool that signs in by email, as the platform's (constructs/inference-api.ts). */
  const pool = async (c: CognitoIdentityProviderClient) => (await c.send(new CreateUserPoolCommand({ PoolName: 'users', UsernameAttributes: ['email'] }))).UserPool!.Id!;
  const create = (c: CognitoIdentityProviderClient, UserPoolId: string, email: string) => c.send(new AdminCreateUserCommand({
    UserPoolId, Username: email, UserAttributes: [{ Name: 'email', Value: email }], MessageAction: 'SUPPRESS',
  }));
  const long = `${'a'.repeat(117)}@example.com`; // 129 characters
  const longest = `${'a'.repeat(116)}@example.com`; // 128

  it('refuses a Username over 128 characters or with a space (InvalidParameterException), takes one of 128; refuses a Filter over 256; moto alone takes both', async () => {
    // GIVEN a pool that signs in by email
    const c = cognito(servers.moto.endpoint);
    const id = await pool(c);
    // THEN AdminCreateUser refuses a 129-character Username, as AWS does (UsernameType: 1-128), and makes nothing
    await expect(create(c, id, long)).rejects.toSatisfy((e: Error) => e instanceof InvalidParameterException && /'username'.*less than or equal to 128/.test(e.message));
    expect((await c.send(new ListUsersCommand({ UserPoolId: id }))).Users).toEqual([]);
    await expect(create(c, id, 'a b@example.com')).rejects.toBeInstanceOf(InvalidParameterException);
    // AND takes one of 128
    await expect(create(c, id, longest)).resolves.toMatchObject({ User: { Attributes: expect.arrayContaining([{ Name: 'email', Value: longest }]) } });
    // AND ListUsers refuses a Filter of 257 characters, answers one of 256 (no address starts with 245 a's: none listed)
    const filter = (n: number) => `email ^= "${'a'.repeat(n - 'email ^= ""'.length)}"`;
    await expect(c.send(new ListUsersCommand({ UserPoolId: id, Filter: filter(257) }))).rejects.toSatisfy((e: Error) => e instanceof InvalidParameterException && /'filter'.*less than or equal to 256/.test(e.message));
    expect((await c.send(new ListUsersCommand({ UserPoolId: id, Filter: filter(256) }))).Users).toEqual([]);

    // moto's own code (patches off) makes the 129-character user and lists with the long filter
    const plain = cognito(servers.own.endpoint);
    const plainId = await pool(plain);
    await expect(create(plain, plainId, long)).resolves.toBeDefined();
    await expect(plain.send(new AdminGetUserCommand({ UserPoolId: plainId, Username: long }))).resolves.toBeDefined();
    await expect(plain.send(new ListUsersCommand({ UserPoolId: plainId, Filter: filter(257) }))).resolves.toBeDefined();
  }, 60_000);
});

describe('SageMaker CreateTrainingJob and CreateModel lengths, which moto does not check (refuse_sagemaker_parameters_as_aws)', () => {
  const servers = motoPair();
  const sageMaker = (endpoint: string) => new SageMakerClient({
    endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' },
  });
  const role = 'arn:aws:iam::123456789012:role/training';
  /** An ECR image URI of exactly `n` characters (a valid one: ECR repository names reach 256 characters). */
  const image = (n: number) => { const head = '123456789012.dkr.ecr.us-east-1.amazonaws.com/'; const tag = ':1'; return `${head}${'r'.repeat(n - head.length - tag.length)}${tag}`; };
  /** An s3:// URI of exactly `n` characters. */
  const uri = (n: number) => `s3://bucket/${'k'.repeat(n - 's3://bucket/'.length)}`;
  const job = (c: SageMakerClient, name: string, trainingImage: string, trainUri: string) => c.send(new CreateTrainingJobCommand({
    TrainingJobName: name, RoleArn: role, AlgorithmSpecification: { TrainingImage: trainingImage, TrainingInputMode: 'File' },
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: trainUri } } }],
    OutputDataConfig: { S3OutputPath: 's3://bucket/models/' }, ResourceConfig: { InstanceType: 'ml.g5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 200 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  }));
  const model = (c: SageMakerClient, name: string, img: string, data: string) => c.send(new CreateModelCommand({
    ModelName: name, ExecutionRoleArn: role, PrimaryContainer: { Image: img, ModelDataUrl: data },
  }));
  const refusal = (member: string, most: number) => (e: Error) => e.name === 'ValidationException' && e.message.includes(`at '${member}'`) && e.message.includes(`less than or equal to ${most}`);

  it('refuses a TrainingImage or Image over 255, an S3Uri or ModelDataUrl over 1024, a name over 63 (ValidationException), takes the longest; moto alone takes them all', async () => {
    const c = sageMaker(servers.moto.endpoint);
    // THEN CreateTrainingJob refuses a 256-character TrainingImage, a 1025-character channel S3Uri and a 64-character name, as AWS does
    await expect(job(c, 'a-ft-1', image(256), uri(1024))).rejects.toSatisfy(refusal('algorithmSpecification.trainingImage', 255));
    await expect(job(c, 'a-ft-2', image(255), uri(1025))).rejects.toSatisfy(refusal('inputDataConfig.1.member.dataSource.s3DataSource.s3Uri', 1024));
    await expect(job(c, 'n'.repeat(64), image(255), uri(1024))).rejects.toSatisfy(refusal('trainingJobName', 63));
    await expect(job(c, 'a_b', image(255), uri(1024))).rejects.toSatisfy((e: Error) => e.name === 'ValidationException' && /'trainingJobName'.*regular expression/.test(e.message));
    // AND makes nothing of them, and takes the longest it allows
    await expect(c.send(new DescribeTrainingJobCommand({ TrainingJobName: 'a-ft-1' }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(job(c, 'n'.repeat(63), image(255), uri(1024))).resolves.toMatchObject({ TrainingJobArn: expect.stringContaining('n'.repeat(63)) });
    // AND CreateModel refuses a 256-character Image and a 1025-character ModelDataUrl, takes 255 and 1024
    await expect(model(c, 'm-1', image(256), uri(1024))).rejects.toSatisfy(refusal('primaryContainer.image', 255));
    await expect(model(c, 'm-2', image(255), uri(1025))).rejects.toSatisfy(refusal('primaryContainer.modelDataUrl', 1024));
    await expect(model(c, 'm-3', image(255), uri(1024))).resolves.toMatchObject({ ModelArn: expect.stringContaining('m-3') });

    // moto's own code (patches off) makes the job with the 256-character image and the model with the 1025-character URL
    const plain = sageMaker(servers.own.endpoint);
    await expect(job(plain, 'a-ft-1', image(256), uri(1025))).resolves.toBeDefined();
    await expect(model(plain, 'm-1', image(256), uri(1025))).resolves.toBeDefined();
  }, 60_000);
});

/** A DynamoDB client of the moto server at `endpoint` (no retries: a refusal is the answer). */
const dynamo = (endpoint: string) => new DynamoDBClient({
  endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' },
});
/** The key of item `pk` of table `t`. */
const key = (pk: string): Record<string, AttributeValue> => ({ pk: { S: pk } });
/** Table `t` (partition key `pk`, on demand). */
const createTable = (c: DynamoDBClient) => c.send(new CreateTableCommand({
  TableName: 't', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST',
}));

describe('DynamoDB unused ExpressionAttributeValues and BatchWriteItem limits, which moto checks only in part (refuse_dynamodb_requests_as_aws)', () => {
  const servers = motoPair();
  const table = async (c: DynamoDBClient) => {
    await createTable(c);
    await c.send(new PutItemCommand({ TableName: 't', Item: { ...key('held'), n: { N: '1' } } }));
  };
  const unused = (e: Error) => e.name === 'ValidationException' && e.message.includes('Value provided in ExpressionAttributeValues unused in expressions: keys: {:u}');
  const duplicates = (e: Error) => e.name === 'ValidationException' && e.message === 'Provided list of item keys contains duplicates';
  const extra = { ':u': { S: 'unused' } };
  /** The answers, in turn, to requests each with a value `:u` none of its expressions uses (the DeleteItem's condition holds: moto alone deletes). */
  const requests = async (c: DynamoDBClient) => {
    const answers: PromiseSettledResult<unknown>[] = [];
    for (const send of sends(c)) answers.push(...await Promise.allSettled([send()]));
    return answers;
  };
  const sends = (c: DynamoDBClient) => [
    () => c.send(new PutItemCommand({ TableName: 't', Item: key('new'), ConditionExpression: 'attribute_not_exists(pk)', ExpressionAttributeValues: extra })),
    () => c.send(new DeleteItemCommand({ TableName: 't', Key: key('held'), ConditionExpression: 'n = :one', ExpressionAttributeValues: { ':one': { N: '1' }, ...extra } })),
    () => c.send(new QueryCommand({ TableName: 't', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'held' }, ...extra } })),
    () => c.send(new ScanCommand({ TableName: 't', FilterExpression: 'n = :one', ExpressionAttributeValues: { ':one': { N: '1' }, ...extra } })),
    () => c.send(new TransactWriteItemsCommand({ TransactItems: [
      { Update: { TableName: 't', Key: key('held'), UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': { N: '1' }, ...extra } } },
    ] })),
    () => c.send(new TransactWriteItemsCommand({ TransactItems: [
      { ConditionCheck: { TableName: 't', Key: key('held'), ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: extra } },
      { Put: { TableName: 't', Item: key('other') } },
    ] })),
  ];
  const puts = (n: number, pk = (i: number) => `b${i}`): WriteRequest[] => Array.from({ length: n }, (_, i) => ({ PutRequest: { Item: key(pk(i)) } }));

  it('refuses an ExpressionAttributeValues entry no expression uses in PutItem, DeleteItem, Query, Scan and TransactWriteItems, 26 BatchWriteItem requests, a key put and deleted or put twice in one batch (ValidationException); moto alone takes them', async () => {
    // GIVEN a table with one item
    const c = dynamo(servers.moto.endpoint);
    await table(c);
    // THEN every request with an unused value is refused, as DynamoDB refuses it, and writes nothing
    for (const answer of await requests(c)) expect(answer.status === 'rejected' && unused(answer.reason as Error), JSON.stringify(answer)).toBe(true);
    expect((await c.send(new GetItemCommand({ TableName: 't', Key: key('held') }))).Item).toEqual({ ...key('held'), n: { N: '1' } });
    expect((await c.send(new ScanCommand({ TableName: 't' }))).Count).toBe(1);
    // AND BatchWriteItem refuses 26 requests, takes 25
    await expect(c.send(new BatchWriteItemCommand({ RequestItems: { t: puts(26) } }))).rejects.toSatisfy((e: Error) => e.name === 'ValidationException' && e.message.includes('less than or equal to 25'));
    await expect(c.send(new BatchWriteItemCommand({ RequestItems: { t: puts(25) } }))).resolves.toMatchObject({ UnprocessedItems: {} });
    // AND refuses a key put and deleted, or put twice with other attributes, in one batch
    await expect(c.send(new BatchWriteItemCommand({ RequestItems: { t: [{ PutRequest: { Item: { ...key('b0'), n: { N: '2' } } } }, { DeleteRequest: { Key: key('b0') } }] } }))).rejects.toSatisfy(duplicates);
    await expect(c.send(new BatchWriteItemCommand({ RequestItems: { t: [{ PutRequest: { Item: { ...key('b0'), n: { N: '2' } } } }, { PutRequest: { Item: key('b0') } }] } }))).rejects.toSatisfy(duplicates);
    expect((await c.send(new GetItemCommand({ TableName: 't', Key: key('b0') }))).Item).toEqual(key('b0'));

    // moto's own code (patches off) takes them all
    const plain = dynamo(servers.own.endpoint);
    await table(plain);
    for (const answer of await requests(plain)) expect(answer.status).toBe('fulfilled');
    await expect(plain.send(new BatchWriteItemCommand({ RequestItems: { t: puts(26) } }))).resolves.toBeDefined();
    await expect(plain.send(new BatchWriteItemCommand({ RequestItems: { t: [{ PutRequest: { Item: { ...key('b0'), n: { N: '2' } } } }, { DeleteRequest: { Key: key('b0') } }] } }))).resolves.toBeDefined();
  }, 60_000);
});

describe('DynamoDB item size after an update, which moto counts only on assignment, with the old value too (refuse_dynamodb_item_growth_as_aws)', () => {
  const servers = motoPair();
  /** A table with a 1 KB string set at `set` and a 250,000-character string at `big`. */
  const table = async (c: DynamoDBClient) => {
    await createTable(c);
    await c.send(new PutItemCommand({ TableName: 't', Item: { ...key('set'), s: { SS: ['a'.repeat(1000)] } } }));
    await c.send(new PutItemCommand({ TableName: 't', Item: { ...key('big'), b: { S: 'x'.repeat(250_000) } } }));
  };
  /** `n` members of about 1,004 bytes each. */
  const members = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag.repeat(1000)}${i}`);
  const grow = (n: number, tag: string) => ({ TableName: 't', Key: key('set'), UpdateExpression: 'ADD s :s', ExpressionAttributeValues: { ':s': { SS: members(n, tag) } } });
  const replace = new UpdateItemCommand({ TableName: 't', Key: key('big'), UpdateExpression: 'SET b = :b', ExpressionAttributeValues: { ':b': { S: 'y'.repeat(250_000) } } });
  const tooLarge = (e: Error) => e.name === 'ValidationException' && e.message === 'Item size to update has exceeded the maximum allowed size';

  it('refuses an ADD that grows a string set past 400 KB (UpdateItem and TransactWriteItems), leaving the item as it was; takes one that stays under it, and a SET replacing a 250 KB string; moto alone takes the growth and refuses the replacement', async () => {
    // GIVEN an item with a 1 KB string set
    const c = dynamo(servers.moto.endpoint);
    await table(c);
    // THEN adding 420 members of 1 KB (about 422 KB) is refused, alone or in a transaction, and the set keeps its one member
    await expect(c.send(new UpdateItemCommand(grow(420, 'b')))).rejects.toSatisfy(tooLarge);
    await expect(c.send(new TransactWriteItemsCommand({ TransactItems: [{ Update: grow(420, 'b') }] }))).rejects.toSatisfy((e: Error) => e.name === 'ValidationException');
    expect((await c.send(new GetItemCommand({ TableName: 't', Key: key('set') }))).Item?.s?.SS).toHaveLength(1);
    // AND 390 (about 393 KB) are taken
    await expect(c.send(new UpdateItemCommand(grow(390, 'c')))).resolves.toBeDefined();
    expect((await c.send(new GetItemCommand({ TableName: 't', Key: key('set') }))).Item?.s?.SS).toHaveLength(391);
    // AND a 250 KB string replaced by another (the item stays at 250 KB) is taken
    await expect(c.send(replace)).resolves.toBeDefined();

    // moto's own code (patches off) grows the set past 400 KB and refuses the replacement (it counts the old string with the new)
    const plain = dynamo(servers.own.endpoint);
    await table(plain);
    await expect(plain.send(new UpdateItemCommand(grow(420, 'b')))).resolves.toBeDefined();
    expect((await plain.send(new GetItemCommand({ TableName: 't', Key: key('set') }))).Item?.s?.SS).toHaveLength(421);
    await expect(plain.send(replace)).rejects.toSatisfy(tooLarge);
  }, 60_000);
});

describe('CloudFormation\'s AWS::SSM::Parameter with Tags as a map, as CloudFormation takes them (ssm_parameter_tags_as_cloudformation)', () => {
  const servers = motoPair();
  const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' } });
  // The Template Reference's AWS::SSM::Parameter: "Tags: Type: Json" (a map of key to value, not a list of Key/Value pairs).
  const template = JSON.stringify({ Resources: { Param: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/team/colour', Type: 'String', Value: 'blue', Tags: { team: 'security', tier: 'enterprise' } } } } });

  it('creates the parameter with those tags; moto alone answers CreateStack HTTP 500 (a TypeError in its model), its stack left CREATE_IN_PROGRESS', async () => {
    const cfn = new CloudFormationClient(config(servers.moto.endpoint));
    await cfn.send(new CreateStackCommand({ StackName: 'tagged', TemplateBody: template }));
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'tagged' }))).Stacks![0].StackStatus).toBe('CREATE_COMPLETE');
    const ssm = new SSMClient(config(servers.moto.endpoint));
    expect((await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/team/colour' }))).TagList).toEqual([{ Key: 'team', Value: 'security' }, { Key: 'tier', Value: 'enterprise' }]);

    const own = new CloudFormationClient(config(servers.own.endpoint));
    await expect(own.send(new CreateStackCommand({ StackName: 'tagged', TemplateBody: template }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect((await own.send(new DescribeStacksCommand({ StackName: 'tagged' }))).Stacks![0].StackStatus).toBe('CREATE_IN_PROGRESS');
  }, 60_000);
});

describe('IAM trust policies and S3 bucket policies naming a role that does not exist, refused as AWS refuses them (refuse_missing_principals_as_aws)', () => {
  const servers = motoPair();
  const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, forcePathStyle: true, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' } });
  const ACCOUNT = '123456789012';
  const trusting = (aws: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: aws }, Action: 'sts:AssumeRole' }] });
  const bucketPolicy = (aws: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: aws }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::policy-bucket/*' }] });
  const lambdaTrust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  /** A stack whose role `Caller` is trusted by `Target` through a built ARN, with or without DependsOn. */
  const stack = (dependsOn: boolean) => JSON.stringify({
    Resources: {
      Target: {
        Type: 'AWS::IAM::Role', ...(dependsOn ? { DependsOn: 'Caller' } : {}),
        Properties: { RoleName: 'target', AssumeRolePolicyDocument: JSON.parse(trusting(`arn:aws:iam::${ACCOUNT}:role/caller`)) },
      },
      Caller: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'caller', AssumeRolePolicyDocument: JSON.parse(lambdaTrust) } },
    },
  });

  it('refuses CreateRole, UpdateAssumeRolePolicy (MalformedPolicyDocument) and PutBucketPolicy (MalformedPolicy) naming a missing role, takes them once it exists, and an account root; moto alone takes them all', async () => {
    const iam = new IAMClient(config(servers.moto.endpoint));
    const s3 = new S3Client(config(servers.moto.endpoint));
    const missing = `arn:aws:iam::${ACCOUNT}:role/later`;
    await expect(iam.send(new CreateRoleCommand({ RoleName: 'target', AssumeRolePolicyDocument: trusting(missing) }))).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException', message: `Invalid principal in policy: "AWS":"${missing}"` });
    await expect(iam.send(new GetRoleCommand({ RoleName: 'target' }))).rejects.toBeInstanceOf(NoSuchEntityException);
    await iam.send(new CreateRoleCommand({ RoleName: 'target', AssumeRolePolicyDocument: trusting(`arn:aws:iam::${ACCOUNT}:root`) }));
    await expect(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'target', PolicyDocument: trusting(missing) }))).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException' });
    await s3.send(new CreateBucketCommand({ Bucket: 'policy-bucket' }));
    await expect(s3.send(new PutBucketPolicyCommand({ Bucket: 'policy-bucket', Policy: bucketPolicy(missing) }))).rejects.toMatchObject({ name: 'MalformedPolicy', message: 'Invalid principal in policy' });
    // once the role exists
    await iam.send(new CreateRoleCommand({ RoleName: 'later', AssumeRolePolicyDocument: lambdaTrust }));
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'target', PolicyDocument: trusting(missing) }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'policy-bucket', Policy: bucketPolicy(missing) }));
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: 'policy-bucket' }))).Policy).toContain(missing);

    // moto's own code takes a role that does not exist
    const own = new IAMClient(config(servers.own.endpoint));
    await expect(own.send(new CreateRoleCommand({ RoleName: 'target', AssumeRolePolicyDocument: trusting(missing) }))).resolves.toBeDefined();
  }, 60_000);

  it('fails a stack whose role trusts a role of the stack it does not depend on, and creates it with DependsOn', async () => {
    const cfn = new CloudFormationClient(config(servers.moto.endpoint));
    // moto creates a stack's resources within CreateStack: the role's refusal is CreateStack's answer
    await expect(cfn.send(new CreateStackCommand({ StackName: 'unordered', TemplateBody: stack(false) }))).rejects.toMatchObject({ message: expect.stringContaining('Invalid principal in policy') });
    const status = async (name: string) => (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0];
    await cfn.send(new CreateStackCommand({ StackName: 'ordered', TemplateBody: stack(true).replaceAll('caller', 'caller2').replaceAll('"target"', '"target2"') }));
    expect((await status('ordered')).StackStatus).toBe('CREATE_COMPLETE');
  }, 60_000);
});

describe('SQS fair queues: a standard queue\'s messages with a MessageGroupId delivered as AWS delivers them (deliver_fair_queues_as_aws)', () => {
  const servers = motoPair();
  const sqs = (endpoint: string) => new SQSClient({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' } });
  /** A standard queue, as the router's work queues (constructs/batch-work.ts routerWorkQueue: no FifoQueue). */
  const queue = async (c: SQSClient) => (await c.send(new CreateQueueCommand({ QueueName: 'work', Attributes: { VisibilityTimeout: '900' } }))).QueueUrl!;
  /** One receive of one message, as the Lambda event source mapping's batch size 1: its group and body. */
  const receiveOne = async (c: SQSClient, QueueUrl: string) => {
    const m = (await c.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['MessageGroupId'] }))).Messages?.[0];
    return m && { group: m.Attributes?.MessageGroupId, body: m.Body, receipt: m.ReceiptHandle! };
  };
  /** Tenant alpha's 25 messages, 20 of them received and held (in flight, as 20 chunks running), then beta's one. */
  const noisyAlpha = async (c: SQSClient, QueueUrl: string) => {
    for (let i = 0; i < 25; i++) await c.send(new SendMessageCommand({ QueueUrl, MessageBody: `alpha-${i}`, MessageGroupId: 'alpha' }));
    const held = [];
    for (let i = 0; i < 20; i++) held.push(await receiveOne(c, QueueUrl));
    await c.send(new SendMessageCommand({ QueueUrl, MessageBody: 'beta-0', MessageGroupId: 'beta' }));
    return held;
  };

  it('delivers a quiet tenant\'s message before a noisy tenant\'s older backlog, still delivers the backlog when nothing else waits, and returns the group; moto alone delivers the oldest first', async () => {
    // GIVEN alpha holding all 20 consumers with its backlog of 5 older messages waiting, and beta's one message sent after
    const c = sqs(servers.moto.endpoint);
    const url = await queue(c);
    const held = await noisyAlpha(c, url);
    expect(held.map((m) => m!.body)).toEqual(Array.from({ length: 20 }, (_, i) => `alpha-${i}`));
    // THEN the next receive gets beta's message (alpha is over 10% of the in-flight messages and processing time), its group returned
    expect(await receiveOne(c, url)).toMatchObject({ group: 'beta', body: 'beta-0' });
    // AND alpha's backlog is delivered still (nothing is dropped or held back when no quiet tenant's message waits), oldest first
    expect((await receiveOne(c, url))?.body).toBe('alpha-20');
    // AND a delete ends a message's processing as before
    await c.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: held[0]!.receipt }));
    expect((await receiveOne(c, url))?.body).toBe('alpha-21');
    // AND a per-message DelaySeconds is taken beside a MessageGroupId on a standard queue (only FIFO queues refuse it)
    await expect(c.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', MessageGroupId: 'beta', DelaySeconds: 300 }))).resolves.toMatchObject({ MessageId: expect.any(String) });

    // moto's own code (patches off): the same sends, and beta's message waits behind alpha's whole backlog
    const own = sqs(servers.own.endpoint);
    const ownUrl = await queue(own);
    await noisyAlpha(own, ownUrl);
    const after: string[] = [];
    for (let m = await receiveOne(own, ownUrl); m; m = await receiveOne(own, ownUrl)) after.push(m.body!);
    expect(after).toEqual(['alpha-20', 'alpha-21', 'alpha-22', 'alpha-23', 'alpha-24', 'beta-0']);
  }, 60_000);

  it('leaves a queue whose messages have no group in moto\'s order (each message a tenant of its own: no backlog is any one tenant\'s)', async () => {
    const c = sqs(servers.moto.endpoint);
    const url = (await c.send(new CreateQueueCommand({ QueueName: 'plain', Attributes: { VisibilityTimeout: '900' } }))).QueueUrl!;
    for (const body of ['one', 'two', 'three']) await c.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    const got: string[] = [];
    for (let m = await receiveOne(c, url); m; m = await receiveOne(c, url)) got.push(m.body!);
    expect(got).toEqual(['one', 'two', 'three']);
  }, 60_000);
});

describe('RDS DescribeAccountAttributes, which moto does not implement (answer_rds_account_attributes)', () => {
  const servers = motoPair();
  const rds = (endpoint: string, region = 'us-east-1') => new RDSClient({ endpoint, region, maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' } });
  /** The answer's quotas by name, each { Used, Max }; the SDK parsed the answer (AccountQuotas: AccountQuotaName, Used, Max). */
  const quotas = async (c: RDSClient) => Object.fromEntries(((await c.send(new DescribeAccountAttributesCommand({}))).AccountQuotas ?? [])
    .map((q) => [q.AccountQuotaName!, { Used: q.Used, Max: q.Max }]));

  it('answers each AccountQuota AWS lists, ManualSnapshots counting the manual DB instance snapshots of the account and Region (not cluster snapshots) against AWS\'s default 100; moto alone cannot answer', async () => {
    // GIVEN an empty account: every quota AWS's API Reference lists, at AWS's defaults, nothing used
    const c = rds(servers.moto.endpoint);
    const empty = await quotas(c);
    expect(Object.keys(empty).sort()).toEqual([
      'AllocatedStorage', 'AuthorizationsPerDBSecurityGroup', 'CustomEndpointsPerDBCluster', 'DBClusterParameterGroups', 'DBClusterRoles', 'DBClusters',
      'DBInstanceRoles', 'DBInstances', 'DBParameterGroups', 'DBSecurityGroups', 'DBSubnetGroups', 'EventSubscriptions', 'ManualClusterSnapshots',
      'ManualSnapshots', 'OptionGroups', 'ReadReplicasPerMaster', 'ReservedDBInstances', 'SubnetsPerDBSubnetGroup',
    ]);
    expect(empty).toMatchObject({ ManualSnapshots: { Used: 0, Max: 100 }, ManualClusterSnapshots: { Used: 0, Max: 100 }, DBInstances: { Used: 0, Max: 40 }, AllocatedStorage: { Used: 0, Max: 100000 } });
    // WHEN an instance of 20 GiB gets a manual snapshot and a copy of it, and an Aurora cluster a manual cluster snapshot
    await c.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: 'db', DBInstanceClass: 'db.t4g.micro', Engine: 'postgres', AllocatedStorage: 20, MasterUsername: 'tessera', MasterUserPassword: 'not-a-secret-1' }));
    await c.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db', DBSnapshotIdentifier: 'first' }));
    await c.send(new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: 'first', TargetDBSnapshotIdentifier: 'first-copy' }));
    await c.send(new CreateDBClusterCommand({ DBClusterIdentifier: 'cluster', Engine: 'aurora-postgresql', MasterUsername: 'tessera', MasterUserPassword: 'not-a-secret-1' }));
    await c.send(new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: 'cluster', DBClusterSnapshotIdentifier: 'cluster-snap' }));
    // THEN ManualSnapshots counts the two instance snapshots, ManualClusterSnapshots the cluster's (a quota of its own)
    const used = await quotas(c);
    expect(used).toMatchObject({
      ManualSnapshots: { Used: 2, Max: 100 }, ManualClusterSnapshots: { Used: 1, Max: 100 }, DBInstances: { Used: 1, Max: 40 }, DBClusters: { Used: 1, Max: 40 },
      AllocatedStorage: { Used: 20, Max: 100000 },
    });
    // AND a snapshot deleted frees its place; another Region of the account has its own count
    await c.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'first' }));
    expect((await quotas(c)).ManualSnapshots).toEqual({ Used: 1, Max: 100 });
    expect((await quotas(rds(servers.moto.endpoint, 'us-west-2'))).ManualSnapshots).toEqual({ Used: 0, Max: 100 });

    // moto's own code (patches off) does not implement the action: an answer the SDK cannot take
    await expect(rds(servers.own.endpoint).send(new DescribeAccountAttributesCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
  }, 60_000);

  // s43 (refuse_rds_snapshots_past_quota): moto refused a snapshot only past its own 1000 while answering Max 100 above.
  it('refuses a manual snapshot past the Max it answers (100) with AWS\'s SnapshotQuotaExceeded, nothing created: CreateDBSnapshot, CopyDBSnapshot, a final snapshot, cluster snapshots; moto alone took the 101st', async () => {
    const instance = { DBInstanceIdentifier: 'db', DBInstanceClass: 'db.t4g.micro', Engine: 'postgres', AllocatedStorage: 20, MasterUsername: 'tessera', MasterUserPassword: 'not-a-secret-1' };
    /** An account at 100 manual snapshots in eu-west-1 (a Region of its own on this server), of one instance. */
    const full = async (c: RDSClient) => {
      await c.send(new CreateDBInstanceCommand(instance));
      for (let i = 0; i < 100; i++) await c.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db', DBSnapshotIdentifier: `s${i}` }));
    };
    const c = rds(servers.moto.endpoint, 'eu-west-1');
    await full(c);
    expect((await quotas(c)).ManualSnapshots).toEqual({ Used: 100, Max: 100 });
    // WHEN a 101st is asked for, made, copied, or taken as the instance's final snapshot: each refused as AWS refuses it (400)
    // (the SDK's class for RDS's error code SnapshotQuotaExceeded is SnapshotQuotaExceededFault)
    const refusal = { name: 'SnapshotQuotaExceededFault', message: 'Cannot create more than 100 manual snapshots', $metadata: { httpStatusCode: 400 } };
    await expect(c.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db', DBSnapshotIdentifier: 'one-more' }))).rejects.toMatchObject(refusal);
    await expect(c.send(new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: 's0', TargetDBSnapshotIdentifier: 's0-copy' }))).rejects.toMatchObject(refusal);
    await expect(c.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'db', FinalDBSnapshotIdentifier: 'final' }))).rejects.toMatchObject(refusal);
    // THEN nothing was made (and the instance is still there); moto's own checks still come first (a name taken, an unknown instance)
    expect((await quotas(c)).ManualSnapshots).toEqual({ Used: 100, Max: 100 });
    await expect(c.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db' }))).resolves.toMatchObject({ DBInstances: [expect.objectContaining({ DBInstanceIdentifier: 'db' })] });
    await expect(c.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db', DBSnapshotIdentifier: 's1' }))).rejects.toMatchObject({ name: 'DBSnapshotAlreadyExistsFault' });
    await expect(c.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'nope', DBSnapshotIdentifier: 'x' }))).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });
    // AND one deleted makes room for one: the copy is taken, the next refused
    await c.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 's1' }));
    await expect(c.send(new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: 's0', TargetDBSnapshotIdentifier: 's0-copy' }))).resolves.toMatchObject({ DBSnapshot: { DBSnapshotIdentifier: 's0-copy' } });
    await expect(c.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db', DBSnapshotIdentifier: 'one-more' }))).rejects.toMatchObject(refusal);
    // AND cluster snapshots have their own quota (ManualClusterSnapshots), refused the same way at its Max
    await c.send(new CreateDBClusterCommand({ DBClusterIdentifier: 'cluster', Engine: 'aurora-postgresql', MasterUsername: 'tessera', MasterUserPassword: 'not-a-secret-1' }));
    for (let i = 0; i < 100; i++) await c.send(new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: 'cluster', DBClusterSnapshotIdentifier: `c${i}` }));
    await expect(c.send(new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: 'cluster', DBClusterSnapshotIdentifier: 'c-more' }))).rejects.toMatchObject(refusal);
    await expect(c.send(new CopyDBClusterSnapshotCommand({ SourceDBClusterSnapshotIdentifier: 'c0', TargetDBClusterSnapshotIdentifier: 'c0-copy' }))).rejects.toMatchObject(refusal);

    // moto's own code (patches off): the 101st manual snapshot is made
    const own = rds(servers.own.endpoint, 'eu-west-1');
    await full(own);
    await expect(own.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db', DBSnapshotIdentifier: 'one-more' }))).resolves.toMatchObject({ DBSnapshot: { DBSnapshotIdentifier: 'one-more' } });
  }, 120_000);
});

describe('CloudFormation\'s AWS::RDS::DBInstance VPCSecurityGroups, as CloudFormation takes them (rds_security_groups_as_cloudformation)', () => {
  const servers = motoPair();
  const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test' } });
  // The Template Reference's AWS::RDS::DBInstance: "VPCSecurityGroups: A list of the VPC security group IDs to assign to the DB instance."
  const template = JSON.stringify({ Resources: {
    Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.20.0.0/16' } },
    A: { Type: 'AWS::EC2::Subnet', Properties: { VpcId: { Ref: 'Vpc' }, CidrBlock: '10.20.0.0/24', AvailabilityZone: 'us-east-1a' } },
    B: { Type: 'AWS::EC2::Subnet', Properties: { VpcId: { Ref: 'Vpc' }, CidrBlock: '10.20.1.0/24', AvailabilityZone: 'us-east-1b' } },
    Group: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'database', VpcId: { Ref: 'Vpc' } } },
    Subnets: { Type: 'AWS::RDS::DBSubnetGroup', Properties: { DBSubnetGroupDescription: 'database', SubnetIds: [{ Ref: 'A' }, { Ref: 'B' }] } },
    Database: { Type: 'AWS::RDS::DBInstance', Properties: {
      DBInstanceClass: 'db.t4g.micro', Engine: 'postgres', AllocatedStorage: '20', MasterUsername: 'tessera', MasterUserPassword: 'not-a-secret-1',
      DBSubnetGroupName: { Ref: 'Subnets' }, VPCSecurityGroups: [{ 'Fn::GetAtt': ['Group', 'GroupId'] }],
    } },
  } });
  const groupsOf = async (endpoint: string) => {
    const cfn = new CloudFormationClient(config(endpoint));
    await cfn.send(new CreateStackCommand({ StackName: 'database', TemplateBody: template }));
    const resources = (await cfn.send(new ListStackResourcesCommand({ StackName: 'database' }))).StackResourceSummaries!;
    const id = (logical: string) => resources.find((r) => r.LogicalResourceId === logical)!.PhysicalResourceId!;
    const instance = (await new RDSClient(config(endpoint)).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id('Database') }))).DBInstances![0];
    return { group: id('Group'), groups: instance.VpcSecurityGroups!.map((g) => g.VpcSecurityGroupId) };
  };

  it('gives the instance the template\'s security group; moto alone gave it the default VPC\'s default group', async () => {
    const patched = await groupsOf(servers.moto.endpoint);
    expect(patched.groups).toEqual([patched.group]);

    const own = await groupsOf(servers.own.endpoint);
    const ec2 = new EC2Client(config(servers.own.endpoint));
    const defaultVpc = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }))).Vpcs![0].VpcId!;
    const defaultGroup = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [defaultVpc] }, { Name: 'group-name', Values: ['default'] }] }))).SecurityGroups![0].GroupId;
    expect(own.groups).toEqual([defaultGroup]);
  }, 60_000);
});
