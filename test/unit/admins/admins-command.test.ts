import { GetUserIdCommand, IdentitystoreClient, ListUsersCommand, DescribeUserCommand, DescribeGroupCommand, IdentitystoreServiceException } from '@aws-sdk/client-identitystore';
import {
  AttachCustomerManagedPolicyReferenceToPermissionSetCommand, CreateAccountAssignmentCommand, CreatePermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand, DescribePermissionSetCommand, DescribePermissionSetProvisioningStatusCommand,
  ListAccountAssignmentsCommand, ListCustomerManagedPolicyReferencesInPermissionSetCommand, ListInstancesCommand, ListPermissionSetsCommand,
  ProvisionPermissionSetCommand, SSOAdminClient, SSOAdminServiceException } from '@aws-sdk/client-sso-admin';
import { mockStrict } from '../../support/strict-mock.js';
import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { adminsCommand } from '../../../lib/cli/admins-command.js';
import { CliError } from '../../../lib/cli/cli-error.js';
import { tempDir } from '../../support/temp-dirs.js';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const STORE = 'd-1234567890';
const PS = 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-0123456789abcdef';
const ACCOUNT = '444455556666';
const USER_ID = '90676d1a-1011-70bf-1d2c-3e4f5a6b7c8d';

const sso = mockStrict(SSOAdminClient, 'sso-admin', SSOAdminServiceException);
const store = mockStrict(IdentitystoreClient, 'identitystore', IdentitystoreServiceException);
let config: string;
let out: string[];

const awsError = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: {} });

/** Runs `tessera <args>` with the mocked clients; returns what it printed, or throws its CliError. */
async function run(...args: string[]): Promise<string> {
  out = [];
  const program = new Command('tessera').option('--region <region>').option('--json').exitOverride();
  program.addCommand(adminsCommand({
    out: (t) => void out.push(t),
    clients: (region) => ({ sso: new SSOAdminClient({ region }), store: new IdentitystoreClient({ region }) }),
    waiting: { sleep: async () => {}, maxPolls: 3 },
  }));
  await program.parseAsync(['node', 'tessera', ...args]);
  return out.join('\n');
}

async function failure(...args: string[]): Promise<CliError> {
  const e = await run(...args).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CliError);
  return e as CliError;
}

beforeEach(() => {
  sso.reset();
  store.reset();
  const dir = tempDir('tessera-test-admins-');
  config = join(dir, 'tessera.config.yaml');
  writeFileSync(config, `platformAccountId: '${ACCOUNT}'\n`);
  // GIVEN one Identity Center instance and the user alice
  sso.on(ListInstancesCommand).resolves({ Instances: [{ InstanceArn: INSTANCE, IdentityStoreId: STORE }] });
  store.on(GetUserIdCommand).resolves({ UserId: USER_ID, IdentityStoreId: STORE });
  sso.on(ListPermissionSetsCommand).resolves({ PermissionSets: [] });
  sso.on(CreatePermissionSetCommand).resolves({ PermissionSet: { Name: 'TesseraPlatformAdmin', PermissionSetArn: PS } });
  sso.on(ListCustomerManagedPolicyReferencesInPermissionSetCommand).resolves({ CustomerManagedPolicyReferences: [] });
  sso.on(AttachCustomerManagedPolicyReferenceToPermissionSetCommand).resolves({});
  sso.on(ListAccountAssignmentsCommand).resolves({ AccountAssignments: [] });
  sso.on(CreateAccountAssignmentCommand).resolves({ AccountAssignmentCreationStatus: { Status: 'IN_PROGRESS', RequestId: 'b0f0c3a4-1d2e-4f5a-8b6c-7d8e9f0a1b2c' } });
  sso.on(DescribeAccountAssignmentCreationStatusCommand).resolves({ AccountAssignmentCreationStatus: { Status: 'SUCCEEDED', RequestId: 'b0f0c3a4-1d2e-4f5a-8b6c-7d8e9f0a1b2c' } });
  sso.on(ProvisionPermissionSetCommand).resolves({ PermissionSetProvisioningStatus: { Status: 'IN_PROGRESS', RequestId: 'c1e1d4b5-2e3f-4a6b-9c7d-8e9f0a1b2c3d' } });
  sso.on(DescribePermissionSetProvisioningStatusCommand).resolves({ PermissionSetProvisioningStatus: { Status: 'SUCCEEDED', RequestId: 'c1e1d4b5-2e3f-4a6b-9c7d-8e9f0a1b2c3d' } });
});

describe('tessera admins create', () => {
  it('creates the permission set, references TesseraPlatformAdminAccess, assigns the user on the platform account and provisions it', async () => {
    // WHEN
    const text = await run('admins', 'create', '--user', 'alice', '--config', config);
    // THEN
    expect(sso.commandCalls(CreatePermissionSetCommand)[0].args[0].input).toMatchObject({ InstanceArn: INSTANCE, Name: 'TesseraPlatformAdmin', SessionDuration: 'PT4H' });
    expect(sso.commandCalls(AttachCustomerManagedPolicyReferenceToPermissionSetCommand)[0].args[0].input).toEqual({
      InstanceArn: INSTANCE, PermissionSetArn: PS, CustomerManagedPolicyReference: { Name: 'TesseraPlatformAdminAccess', Path: '/' },
    });
    expect(store.commandCalls(GetUserIdCommand)[0].args[0].input).toEqual({ IdentityStoreId: STORE, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } } });
    expect(sso.commandCalls(CreateAccountAssignmentCommand)[0].args[0].input).toEqual({
      InstanceArn: INSTANCE, PermissionSetArn: PS, PrincipalType: 'USER', PrincipalId: USER_ID, TargetType: 'AWS_ACCOUNT', TargetId: ACCOUNT,
    });
    expect(sso.commandCalls(DescribeAccountAssignmentCreationStatusCommand)[0].args[0].input).toMatchObject({ AccountAssignmentCreationRequestId: 'b0f0c3a4-1d2e-4f5a-8b6c-7d8e9f0a1b2c' });
    expect(sso.commandCalls(ProvisionPermissionSetCommand)[0].args[0].input).toEqual({ InstanceArn: INSTANCE, PermissionSetArn: PS, TargetType: 'AWS_ACCOUNT', TargetId: ACCOUNT });
    expect(sso.commandCalls(DescribePermissionSetProvisioningStatusCommand)[0].args[0].input).toMatchObject({ ProvisionPermissionSetRequestId: 'c1e1d4b5-2e3f-4a6b-9c7d-8e9f0a1b2c3d' });
    expect(text).toContain('TesseraPlatformAdmin: created');
    expect(text).toContain(`alice on account ${ACCOUNT}: assigned; provisioned`);
  });

  it('changes nothing that exists: a second run only provisions again (idempotent)', async () => {
    // GIVEN the permission set, its policy reference and alice's assignment exist
    sso.on(ListPermissionSetsCommand).resolves({ PermissionSets: ['arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-00000000000other', PS] });
    sso.on(DescribePermissionSetCommand, { PermissionSetArn: PS }).resolves({ PermissionSet: { Name: 'TesseraPlatformAdmin', PermissionSetArn: PS } });
    sso.on(DescribePermissionSetCommand, { PermissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-00000000000other' }).resolves({ PermissionSet: { Name: 'ReadOnly' } });
    sso.on(ListCustomerManagedPolicyReferencesInPermissionSetCommand).resolves({ CustomerManagedPolicyReferences: [{ Name: 'TesseraPlatformAdminAccess', Path: '/' }] });
    sso.on(ListAccountAssignmentsCommand).resolves({ AccountAssignments: [{ AccountId: ACCOUNT, PermissionSetArn: PS, PrincipalType: 'USER', PrincipalId: USER_ID }] });
    // WHEN
    const json = JSON.parse(await run('--json', 'admins', 'create', '--user', 'alice', '--config', config));
    // THEN
    expect(sso.commandCalls(CreatePermissionSetCommand)).toHaveLength(0);
    expect(sso.commandCalls(AttachCustomerManagedPolicyReferenceToPermissionSetCommand)).toHaveLength(0);
    expect(sso.commandCalls(CreateAccountAssignmentCommand)).toHaveLength(0);
    expect(sso.commandCalls(ProvisionPermissionSetCommand)).toHaveLength(1);
    expect(json).toMatchObject({ user: 'alice', permissionSetArn: PS, permissionSetCreated: false, policyAttached: false, assignmentCreated: false, provisioned: true, accountId: ACCOUNT, instanceArn: INSTANCE, identityStoreId: STORE });
  });

  it('takes the permission set another run created in between (ConflictException)', async () => {
    sso.on(ListPermissionSetsCommand).resolvesOnce({ PermissionSets: [] }).resolves({ PermissionSets: [PS] });
    sso.on(DescribePermissionSetCommand).resolves({ PermissionSet: { Name: 'TesseraPlatformAdmin', PermissionSetArn: PS } });
    sso.on(CreatePermissionSetCommand).rejects(awsError('ConflictException', 'Permission set with name TesseraPlatformAdmin already exists'));
    const json = JSON.parse(await run('--json', 'admins', 'create', '--user', 'alice', '--config', config));
    expect(json).toMatchObject({ permissionSetArn: PS, permissionSetCreated: false });
  });

  it('uses --instance-arn and --identity-store-id without listing instances', async () => {
    await run('admins', 'create', '--user', 'alice', '--config', config, '--instance-arn', INSTANCE, '--identity-store-id', STORE);
    expect(sso.commandCalls(ListInstancesCommand)).toHaveLength(0);
  });

  it('says how to enable Identity Center when the region has no instance', async () => {
    sso.on(ListInstancesCommand).resolves({ Instances: [] });
    const e = await failure('--region', 'eu-west-1', 'admins', 'create', '--user', 'alice', '--config', config);
    expect(e.message).toBe('IAM Identity Center has no instance in eu-west-1: enable it in the management account (console: IAM Identity Center → Enable, an organization instance), or pass --region with the region it runs in');
    expect(e.exitCode).toBe(1);
  });

  it('names the nearest user names when the user does not exist', async () => {
    store.on(GetUserIdCommand).rejects(awsError('ResourceNotFoundException', 'USER not found.'));
    store.on(ListUsersCommand).resolvesOnce({ Users: [{ UserName: 'alice.smith', UserId: '1', IdentityStoreId: STORE }, { UserName: 'bob', UserId: '2', IdentityStoreId: STORE }], NextToken: 't' })
      .resolves({ Users: [{ UserName: 'Alicia', UserId: '3', IdentityStoreId: STORE }, { UserName: 'zed-the-operator', UserId: '4', IdentityStoreId: STORE }] });
    const e = await failure('admins', 'create', '--user', 'alice', '--config', config);
    expect(e.message).toBe(`--user alice: no such user in identity store ${STORE}; nearest user names: Alicia, bob, alice.smith`);
    expect(e.exitCode).toBe(1);
    expect(sso.commandCalls(CreatePermissionSetCommand)).toHaveLength(0);
  });

  it('says which call was refused and which permission it needs (AccessDenied)', async () => {
    sso.on(CreatePermissionSetCommand).rejects(awsError('AccessDeniedException', 'User: arn:aws:sts::444455556666:assumed-role/Dev/me is not authorized to perform: sso:CreatePermissionSet'));
    const e = await failure('admins', 'create', '--user', 'alice', '--config', config);
    expect(e.message.split('\n')).toEqual([
      'sso:CreatePermissionSet failed: AccessDeniedException: User: arn:aws:sts::444455556666:assumed-role/Dev/me is not authorized to perform: sso:CreatePermissionSet',
      '  your credentials may not make this call: they need sso:CreatePermissionSet (Identity Center is administered from the management account or its delegated administrator account)',
    ]);
    expect(e.exitCode).toBe(1);
  });

  it('says to deploy TesseraPlatform first when provisioning fails on the missing policy', async () => {
    sso.on(DescribePermissionSetProvisioningStatusCommand).resolves({ PermissionSetProvisioningStatus: { Status: 'FAILED', FailureReason: 'Received a 404 status error: Policy TesseraPlatformAdminAccess does not exist in account 444455556666' } });
    const e = await failure('admins', 'create', '--user', 'alice', '--config', config);
    expect(e.message).toMatch(/^Identity Center failed provisioning the permission set in account 444455556666: Received a 404/);
    expect(e.message).toContain('deploy TesseraPlatform to account 444455556666 first');
  });

  it('gives up politely when Identity Center stays IN_PROGRESS', async () => {
    sso.on(DescribeAccountAssignmentCreationStatusCommand).resolves({ AccountAssignmentCreationStatus: { Status: 'IN_PROGRESS', RequestId: 'b0f0c3a4-1d2e-4f5a-8b6c-7d8e9f0a1b2c' } });
    const e = await failure('admins', 'create', '--user', 'alice', '--config', config);
    expect(e.message).toBe(`Identity Center is still the account assignment in account ${ACCOUNT}: run the command again in a minute (it is idempotent)`);
  });

  it('refuses without --config, with the placeholder platform account, and with a malformed --instance-arn (exit 2)', async () => {
    expect((await failure('admins', 'create', '--user', 'alice')).message).toMatch(/^--config <file> is required/);
    const placeholder = join(tempDir('tessera-test-admins-'), 'c.yaml');
    writeFileSync(placeholder, 'homeRegion: us-east-1\n');
    const e = await failure('admins', 'create', '--user', 'alice', '--config', placeholder);
    expect(e.message).toBe(`--config ${placeholder}: platformAccountId is still the placeholder 222222222222; set it to your platform account id`);
    expect(e.exitCode).toBe(2);
    const arn = await failure('admins', 'create', '--user', 'alice', '--config', config, '--instance-arn', 'ssoins-1');
    expect(arn.message).toMatch(/^--instance-arn ssoins-1: not an Identity Center instance ARN/);
    expect(sso.calls()).toHaveLength(0);
  });

  it('asks for --instance-arn when the region has several instances', async () => {
    sso.on(ListInstancesCommand).resolves({ Instances: [{ InstanceArn: INSTANCE, IdentityStoreId: STORE }, { InstanceArn: 'arn:aws:sso:::instance/ssoins-abcdefabcdefabcd', IdentityStoreId: 'd-abcdefabcd' }] });
    const e = await failure('admins', 'create', '--user', 'alice', '--config', config);
    expect(e.message).toMatch(/has 2 Identity Center instances .*: pass --instance-arn with the organization instance$/);
  });
});

describe('tessera admins list', () => {
  it('lists the assignments on the platform account with user and group names', async () => {
    sso.on(ListPermissionSetsCommand).resolves({ PermissionSets: [PS] });
    sso.on(DescribePermissionSetCommand).resolves({ PermissionSet: { Name: 'TesseraPlatformAdmin', PermissionSetArn: PS } });
    sso.on(ListAccountAssignmentsCommand).resolves({ AccountAssignments: [
      { AccountId: ACCOUNT, PermissionSetArn: PS, PrincipalType: 'USER', PrincipalId: USER_ID },
      { AccountId: ACCOUNT, PermissionSetArn: PS, PrincipalType: 'GROUP', PrincipalId: 'a0b1c2d3-4e5f-6071-8293-a4b5c6d7e8f9' },
    ] });
    store.on(DescribeUserCommand).resolves({ UserName: 'alice', UserId: USER_ID, IdentityStoreId: STORE });
    store.on(DescribeGroupCommand).resolves({ DisplayName: 'platform-admins', GroupId: 'a0b1c2d3-4e5f-6071-8293-a4b5c6d7e8f9', IdentityStoreId: STORE });
    expect(await run('admins', 'list', '--config', config)).toBe([
      'NAME             TYPE   PRINCIPAL ID                          ACCOUNT',
      `alice            USER   ${USER_ID}  ${ACCOUNT}`,
      `platform-admins  GROUP  a0b1c2d3-4e5f-6071-8293-a4b5c6d7e8f9  ${ACCOUNT}`,
    ].join('\n'));
    expect(sso.commandCalls(ListAccountAssignmentsCommand)[0].args[0].input).toMatchObject({ AccountId: ACCOUNT, PermissionSetArn: PS });
    const json = JSON.parse(await run('--json', 'admins', 'list', '--config', config));
    expect(json).toEqual({ accountId: ACCOUNT, permissionSet: 'TesseraPlatformAdmin', permissionSetArn: PS, admins: [
      { accountId: ACCOUNT, principalType: 'USER', principalId: USER_ID, name: 'alice' },
      { accountId: ACCOUNT, principalType: 'GROUP', principalId: 'a0b1c2d3-4e5f-6071-8293-a4b5c6d7e8f9', name: 'platform-admins' },
    ] });
  });

  it('says how to create the first admin when the permission set does not exist', async () => {
    expect(await run('admins', 'list', '--config', config)).toBe(`no permission set TesseraPlatformAdmin in ${INSTANCE}: create the first admin with tessera admins create --user <name> --config ${config}`);
    expect(JSON.parse(await run('--json', 'admins', 'list', '--config', config))).toEqual({ accountId: ACCOUNT, permissionSet: 'TesseraPlatformAdmin', permissionSetArn: null, admins: [] });
  });

  it('translates AccessDenied on ListAccountAssignments', async () => {
    sso.on(ListPermissionSetsCommand).resolves({ PermissionSets: [PS] });
    sso.on(DescribePermissionSetCommand).resolves({ PermissionSet: { Name: 'TesseraPlatformAdmin', PermissionSetArn: PS } });
    sso.on(ListAccountAssignmentsCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: sso:ListAccountAssignments'));
    const e = await failure('admins', 'list', '--config', config);
    expect(e.message).toMatch(/^sso:ListAccountAssignments failed: AccessDeniedException: .*\n {2}your credentials may not make this call: they need sso:ListAccountAssignments/);
  });
});
