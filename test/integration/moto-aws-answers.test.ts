import {
  AccountAlreadyClosedException, CloseAccountCommand, CreateAccountCommand, CreateOrganizationCommand, DescribeAccountCommand, ListAccountsCommand,
  ListAccountsForParentCommand, ListRootsCommand, OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type MotoServer } from './support/moto-server.js';

/**
 * The answers support/moto-python/tessera_moto_patches.py changes on purpose (`CHANGED`), each
 * where moto answers otherwise than AWS: each test asks a test moto server (the patches loaded, as
 * every suite's server) what AWS answers, and fails on moto's own answer (a server started with
 * `TESSERA_MOTO_PATCHES=off`, also asked here so that the test says what moto alone would answer).
 */

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
  let moto: MotoServer;
  let own: MotoServer;
  beforeAll(async () => {
    [moto, own] = await Promise.all([startMoto(), startMoto({ env: { TESSERA_MOTO_PATCHES: 'off' } })]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([moto?.stop(), own?.stop()]);
  });

  it('a closed account is State PENDING_CLOSURE (not SUSPENDED, an account AWS restricted) in DescribeAccount, ListAccounts and ListAccountsForParent; closing it again answers AccountAlreadyClosedException', async () => {
    // GIVEN a member account closed with CloseAccount
    const orgs = client(moto.endpoint);
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
    const plain = client(own.endpoint);
    const plainId = await closedMember(plain);
    expect((await plain.send(new DescribeAccountCommand({ AccountId: plainId }))).Account).toMatchObject({ State: 'SUSPENDED', Status: 'SUSPENDED' });
    expect(await closeAgain(plain, plainId)).toBe('AccountAlreadyClosedException');
  }, 60_000);
});
