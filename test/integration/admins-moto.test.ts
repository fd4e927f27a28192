import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { DescribePermissionSetCommand, ListCustomerManagedPolicyReferencesInPermissionSetCommand, ListInstancesCommand, ListPermissionSetsCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tesseraBundle } from '../support/cli-bundle.js';
import { tempDir } from '../support/temp-dirs.js';
import { startMoto, type MotoServer } from './support/moto-server.js';

/**
 * `tessera admins create` and `list` as an engineer runs them, as real processes, against
 * moto's IAM Identity Center (sso-admin) and Identity Store. moto supports every call the commands
 * make except DescribePermissionSetProvisioningStatus; it answers CreateAccountAssignment and
 * ProvisionPermissionSet with SUCCEEDED at once, so the status polls are exercised by the mock
 * tests (test/unit/admins) only. moto creates one instance per account and region, and names
 * permission sets `arn:aws:sso:::instance/<instance>/ps-…` where AWS writes `permissionSet/`.
 */
const bin = join(import.meta.dirname, '..', '..', 'bin', 'tessera.mjs');
/** The CLI bundled once (test/support/cli-bundle.ts: the same program without tsx's start-up cost); the first run goes through bin/tessera.mjs, the entry point `npx tessera` starts. */
const cli = await tesseraBundle();
const ACCOUNT = '444455556666';
const REGION = 'us-east-1';
let moto: MotoServer;
let dir: string;
let env: NodeJS.ProcessEnv;
let sso: SSOAdminClient;
let identityStoreId: string;
let instanceArn: string;
let userId: string;

interface Run { code: number; stdout: string; stderr: string }
function tessera(args: string[], entry = cli): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [entry, ...args], { cwd: dir, timeout: 60_000, killSignal: 'SIGKILL', env }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
    child.stdin?.end();
  });
}

beforeAll(async () => {
  moto = await startMoto();
  dir = tempDir('tessera-test-admins-moto-');
  writeFileSync(join(dir, 'tessera.config.yaml'), `platformAccountId: '${ACCOUNT}'\n`);
  env = { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: REGION, AWS_PROFILE: '' };
  delete env.AWS_PROFILE;
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  sso = new SSOAdminClient({ endpoint: moto.endpoint, region: REGION, credentials });
  const store = new IdentitystoreClient({ endpoint: moto.endpoint, region: REGION, credentials });
  // GIVEN Identity Center with the user alice
  const instance = (await sso.send(new ListInstancesCommand({}))).Instances![0];
  identityStoreId = instance.IdentityStoreId!;
  instanceArn = instance.InstanceArn!;
  userId = (await store.send(new CreateUserCommand({ IdentityStoreId: identityStoreId, UserName: 'alice', DisplayName: 'Alice Example', Name: { GivenName: 'Alice', FamilyName: 'Example' } }))).UserId!;
  await store.send(new CreateUserCommand({ IdentityStoreId: identityStoreId, UserName: 'bob', DisplayName: 'Bob Example', Name: { GivenName: 'Bob', FamilyName: 'Example' } }));
}, 120_000);

afterAll(async () => {
  await moto?.stop();
});

describe('tessera admins against moto', () => {
  it('list before any admin says how to create the first one', async () => {
    const run = await tessera(['admins', 'list', '--config', 'tessera.config.yaml'], bin);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^no permission set TesseraPlatformAdmin in arn:aws:sso:::instance\/ssoins-\w{16}: create the first admin with tessera admins create --user <name> --config tessera.config.yaml\n$/);
  });

  it('create → list → create again: one permission set, one policy reference, one assignment', async () => {
    // WHEN
    const first = await tessera(['admins', 'create', '--user', 'alice', '--config', 'tessera.config.yaml']);
    // THEN
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^TesseraPlatformAdmin: created \(arn:aws:sso:::(permissionSet|instance)\/ssoins-\w+\/ps-\w+\)\npolicy TesseraPlatformAdminAccess: referenced\nalice on account 444455556666: assigned; provisioned\n/);

    const list = await tessera(['--json', 'admins', 'list', '--config', 'tessera.config.yaml']);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout);
    expect(listed.admins).toEqual([{ accountId: ACCOUNT, principalType: 'USER', principalId: userId, name: 'alice' }]);

    const again = await tessera(['--json', 'admins', 'create', '--user', 'alice', '--config', 'tessera.config.yaml']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ permissionSetCreated: false, policyAttached: false, assignmentCreated: false, provisioned: true, userId, accountId: ACCOUNT, identityStoreId });

    const sets = (await sso.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn }))).PermissionSets!;
    expect(sets).toEqual([listed.permissionSetArn]);
    const described = await sso.send(new DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: sets[0] }));
    expect(described.PermissionSet).toMatchObject({ Name: 'TesseraPlatformAdmin', SessionDuration: 'PT4H' });
    const refs = await sso.send(new ListCustomerManagedPolicyReferencesInPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: sets[0] }));
    expect(refs.CustomerManagedPolicyReferences).toEqual([{ Name: 'TesseraPlatformAdminAccess', Path: '/' }]);
    expect((await tessera(['--json', 'admins', 'list', '--config', 'tessera.config.yaml'])).stdout).toBe(list.stdout);
  });

  it('an unknown user: exit 1, one message naming the nearest user names, no stack trace', async () => {
    const run = await tessera(['admins', 'create', '--user', 'alicia', '--config', 'tessera.config.yaml']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`error: --user alicia: no such user in identity store ${identityStoreId}; nearest user names: alice, bob\n`);
  });
});
