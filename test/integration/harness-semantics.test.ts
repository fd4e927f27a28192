import {
  CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CreateAccountCommand, CreateAccountStatusNotFoundException, CreateOrganizationalUnitCommand, DeleteOrganizationalUnitCommand, DescribeCreateAccountStatusCommand, ListAccountsCommand,
  ListCreateAccountStatusCommand, ListParentsCommand, ListRootsCommand, MoveAccountCommand, OrganizationsClient,
  type CreateAccountState,
} from '@aws-sdk/client-organizations';
import { ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand, StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientWith, platformClient } from '../../lambdas/shared/aws-clients.js';
import { configWith } from '../support/config-with.js';
import { LocalPlatform, type ExecutionStatusChange } from './support/local-platform.js';

/**
 * The harness answers as AWS does where moto and aws-local-stepfunctions alone would let a test
 * pass that AWS would refuse: Step Functions execution names (local-platform.ts), Organizations
 * account creation, MoveAccount and DeleteOrganizationalUnit (organizations-emulation.ts), CloudFormation's ClientRequestToken
 * (cloudformation-emulation.ts). Every call goes through a client made the Lambdas' way
 * (lambdas/shared/aws-clients.ts), the path the handlers take. Each test fails without its emulation:
 * the plain services answer otherwise (moto has no such state machine, creates the duplicate
 * account and answers SUCCEEDED at once, moves an account from wherever it is and deletes an OU that holds one,
 * refuses the retried CreateStack).
 */

const config = configWith();
let platform: LocalPlatform;
beforeAll(async () => {
  platform = await LocalPlatform.start(config);
});
afterAll(async () => platform?.stop());

/** Blocks the *Validate request* handler until opened: executions stay RUNNING meanwhile. */
function gateValidation(): { entered: Promise<void>; open: () => void } {
  let open!: () => void;
  let entered!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const reached = new Promise<void>((r) => (entered = r));
  platform.workflows.wrap = (name, handler) => (name === 'validate-request' ? async (event) => {
    entered();
    await opened;
    return handler(event);
  } : handler);
  return { entered: reached, open };
}
afterEach(() => {
  if (platform) platform.workflows.wrap = undefined;
});

/** An onboarding request *Validate request* refuses: the execution fails at its first state, touching nothing. */
const invalid = (tenantId: string) => ({ tenantId, name: 'x', tier: 'gold', adminEmail: 'not-an-email', requestId: `req-${tenantId}` });
const sfn = () => platformClient(SFNClient);
const onboardArn = () => platform.stateMachineArn('onboard');

describe('Step Functions execution names, as AWS answers them', () => {
  it('keeps the name of a closed execution: StartExecution with it fails with ExecutionAlreadyExists, same input or not', async () => {
    // GIVEN an execution that ran to its end (FAILED)
    const input = JSON.stringify(invalid('closed-name'));
    const { executionArn } = await sfn().send(new StartExecutionCommand({ stateMachineArn: onboardArn(), name: 'closed-name', input }));
    const closed = await platform.awaitExecution(executionArn!);
    expect(closed.status).toBe('FAILED');
    // THEN DescribeExecution answers the fields AWS returns
    expect(await sfn().send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({
      executionArn, stateMachineArn: onboardArn(), name: 'closed-name', status: 'FAILED', input,
      startDate: expect.any(Date), stopDate: expect.any(Date), error: expect.any(String), cause: expect.any(String),
    });
    // WHEN the same name is started again, with the same input or another
    await expect(sfn().send(new StartExecutionCommand({ stateMachineArn: onboardArn(), name: 'closed-name', input }))).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await expect(platform.startExecution('onboard', invalid('other-input'), 'closed-name')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    // THEN no second execution of that name exists
    const listed = (await sfn().send(new ListExecutionsCommand({ stateMachineArn: onboardArn() }))).executions!.filter((e) => e.name === 'closed-name');
    expect(listed).toEqual([expect.objectContaining({ executionArn, status: 'FAILED', stopDate: expect.any(Date) })]);
  });

  it('answers StartExecution of a RUNNING execution\'s name and input with that execution; another input conflicts', async () => {
    // GIVEN a running execution
    const gate = gateValidation();
    const input = JSON.stringify(invalid('running-name'));
    const first = await sfn().send(new StartExecutionCommand({ stateMachineArn: onboardArn(), name: 'running-name', input }));
    await gate.entered;
    // WHEN the same request comes again, then the name with another input
    const again = await sfn().send(new StartExecutionCommand({ stateMachineArn: onboardArn(), name: 'running-name', input }));
    const other = sfn().send(new StartExecutionCommand({ stateMachineArn: onboardArn(), name: 'running-name', input: JSON.stringify(invalid('running-other')) }));
    // THEN the same execution, and a conflict
    expect(again).toMatchObject({ executionArn: first.executionArn, startDate: first.startDate });
    await expect(other).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    const running = (await sfn().send(new ListExecutionsCommand({ stateMachineArn: onboardArn(), statusFilter: 'RUNNING' }))).executions!;
    expect(running.map((e) => e.name)).toEqual(['running-name']);
    gate.open();
    await platform.awaitExecution(first.executionArn!);
  });

  it('answers DescribeExecution and GetExecutionHistory of an unknown execution with ExecutionDoesNotExist, of a known one with it', async () => {
    const known = await platform.startExecution('onboard', invalid('known'), 'known');
    await platform.awaitExecution(known.executionArn);
    expect((await sfn().send(new DescribeExecutionCommand({ executionArn: known.executionArn }))).name).toBe('known');
    expect((await sfn().send(new GetExecutionHistoryCommand({ executionArn: known.executionArn }))).events?.[0]).toMatchObject({ id: 1, type: 'ExecutionStarted' });
    const executionArn = `${onboardArn().replace(':stateMachine:', ':execution:')}:never-started`;
    await expect(sfn().send(new DescribeExecutionCommand({ executionArn }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(sfn().send(new GetExecutionHistoryCommand({ executionArn }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(sfn().send(new StopExecutionCommand({ executionArn }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });

  it('stops a running execution with StopExecution: ABORTED at once, no further state, the name kept, and the status change announced', async () => {
    // GIVEN a listener of status changes and an execution started outside the API, in its first state
    const changes: ExecutionStatusChange[] = [];
    platform.onStatusChange.push((detail) => void changes.push(detail));
    const gate = gateValidation();
    const input = invalid('stopped');
    const { executionArn, startDate } = await platform.startExecution('onboard', input, 'stopped');
    await gate.entered;
    // WHEN it is stopped
    const stopped = await sfn().send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped by the harness test' }));
    // THEN it is ABORTED at once, with the error and cause given
    expect(await sfn().send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({
      status: 'ABORTED', stopDate: stopped.stopDate, error: 'Operator', cause: 'stopped by the harness test',
    });
    expect((await sfn().send(new ListExecutionsCommand({ stateMachineArn: onboardArn(), statusFilter: 'ABORTED' }))).executions!.map((e) => e.name)).toEqual(['stopped']);
    // and once the state in flight returns, nothing after it runs
    gate.open();
    await platform.awaitExecution(executionArn);
    const history = (await sfn().send(new GetExecutionHistoryCommand({ executionArn }))).events!;
    const entered = history.filter((e) => e.stateEnteredEventDetails).map((e) => e.stateEnteredEventDetails!.name);
    expect(entered.at(-1)).toBe('Validate request');
    expect(history.map((e) => e.type)).toContain('ExecutionAborted');
    expect((await sfn().send(new DescribeExecutionCommand({ executionArn }))).status).toBe('ABORTED');
    // and its name is taken
    await expect(platform.startExecution('onboard', input, 'stopped')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    // and the listener got the detail of AWS's "Step Functions Execution Status Change" event, once
    expect(changes.filter((c) => c.executionArn === executionArn)).toEqual([{
      executionArn, stateMachineArn: onboardArn(), name: 'stopped', status: 'ABORTED', startDate: startDate.getTime(), stopDate: stopped.stopDate!.getTime(),
      input: JSON.stringify(input), inputDetails: { included: true }, output: null, outputDetails: null, error: 'Operator', cause: 'stopped by the harness test',
    }]);
  });

  it('announces an execution that fails, with its error and cause, and names an unnamed one as AWS does', async () => {
    const changes: ExecutionStatusChange[] = [];
    platform.onStatusChange.push((detail) => void changes.push(detail));
    const { executionArn } = await platform.startExecution('onboard', invalid('announced'));
    const described = await platform.awaitExecution(executionArn);
    expect(described.name).toMatch(/^[0-9a-f-]{36}$/); // no name given: a UUID, as AWS generates
    expect(changes.filter((c) => c.executionArn === executionArn)).toEqual([expect.objectContaining({ status: 'FAILED', error: described.error, cause: described.cause, stopDate: described.stopDate!.getTime() })]);
  });
});

describe('Organizations account creation, as AWS answers it', () => {
  const orgs = () => clientWith(OrganizationsClient, platform.fixture.management);
  const create = async (name: string, email: string) => (await orgs().send(new CreateAccountCommand({ AccountName: name, Email: email }))).CreateAccountStatus!;
  const status = async (id: string) => (await orgs().send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: id }))).CreateAccountStatus!;
  const accounts = async () => {
    const all = [];
    let NextToken: string | undefined;
    do {
      const page = await orgs().send(new ListAccountsCommand({ NextToken }));
      all.push(...page.Accounts!);
      NextToken = page.NextToken;
    } while (NextToken);
    return all;
  };
  const listed = async (States?: CreateAccountState[]) => {
    const all = [];
    let NextToken: string | undefined;
    do {
      const page = await orgs().send(new ListCreateAccountStatusCommand({ States, NextToken, MaxResults: 5 }));
      all.push(...page.CreateAccountStatuses!);
      NextToken = page.NextToken;
    } while (NextToken);
    return all;
  };
  afterEach(async () => {
    if (platform?.fixture.organizations.held().length) await platform.fixture.organizations.release();
  });

  it('refuses a second account with an email already in use: CreateAccount IN_PROGRESS, then FAILED EMAIL_ALREADY_EXISTS, and no account', async () => {
    // GIVEN an account with an email
    const first = await create('dup-first', 'dup@harness.example.com');
    expect(first.State).toBe('IN_PROGRESS'); // AWS answers every CreateAccount so
    const made = await status(first.Id!);
    expect(made).toMatchObject({ State: 'SUCCEEDED', AccountId: expect.stringMatching(/^\d{12}$/) });
    // WHEN another account is asked for with the same email (in another case)
    const second = await create('dup-second', 'DUP@harness.example.com');
    // THEN the request is accepted, and fails
    expect(second).toMatchObject({ State: 'IN_PROGRESS', Id: expect.stringMatching(/^car-[0-9a-f]{32}$/) });
    const refused = await status(second.Id!);
    expect(refused).toMatchObject({ State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS', AccountName: 'dup-second' });
    expect(refused.AccountId).toBeUndefined();
    // and no second account exists
    const same = (await accounts()).filter((a) => a.Email!.toLowerCase() === 'dup@harness.example.com');
    expect(same.map((a) => a.Id)).toEqual([made.AccountId]);
    expect((await accounts()).map((a) => a.Name)).not.toContain('dup-second');
    // the management account's email is taken too
    expect(await status((await create('as-management', 'master@example.com')).Id!)).toMatchObject({ State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS' });
  });

  it('keeps held requests IN_PROGRESS, with no account, until released; the first request for an email wins', async () => {
    // GIVEN account creation held (AWS takes minutes)
    platform.fixture.organizations.hold();
    const a = await create('held-a', 'held-a@harness.example.com');
    const b = await create('held-b', 'held-b@harness.example.com');
    const c = await create('held-c', 'HELD-A@harness.example.com');
    // THEN each request is in progress under an id of AWS's shape, and no account exists yet
    for (const r of [a, b, c]) {
      expect(r).toMatchObject({ State: 'IN_PROGRESS', Id: expect.stringMatching(/^car-[0-9a-f]{32}$/) });
      expect((await status(r.Id!)).State).toBe('IN_PROGRESS');
    }
    expect((await accounts()).map((x) => x.Name)).not.toEqual(expect.arrayContaining(['held-a']));
    expect((await accounts()).map((x) => x.Name)).not.toContain('held-b');
    expect(platform.fixture.organizations.held()).toEqual([a.Id, b.Id, c.Id]);
    // WHEN one request is released
    const [doneB] = await platform.fixture.organizations.release(b.Id);
    // THEN that account exists, the others still wait
    expect(doneB).toMatchObject({ Id: b.Id, State: 'SUCCEEDED', AccountId: expect.stringMatching(/^\d{12}$/) });
    expect(await status(b.Id!)).toMatchObject({ State: 'SUCCEEDED', AccountId: doneB.AccountId });
    expect((await accounts()).find((x) => x.Name === 'held-b')?.Id).toBe(doneB.AccountId);
    expect((await status(a.Id!)).State).toBe('IN_PROGRESS');
    // WHEN the rest are released
    await platform.fixture.organizations.release();
    // THEN the first request for the email got the account, the later one failed
    expect(await status(a.Id!)).toMatchObject({ State: 'SUCCEEDED', AccountId: expect.stringMatching(/^\d{12}$/) });
    expect(await status(c.Id!)).toMatchObject({ State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS' });
    expect((await accounts()).filter((x) => x.Email!.toLowerCase() === 'held-a@harness.example.com').map((x) => x.Name)).toEqual(['held-a']);
    // and with holding off, a request completes at once again
    expect((await status((await create('after-hold', 'after-hold@harness.example.com')).Id!)).State).toBe('SUCCEEDED');
  });

  it('lists held, refused and created requests in ListCreateAccountStatus, by state', async () => {
    // GIVEN a request held, one refused and one created
    const created = await create('list-created', 'list-created@harness.example.com');
    const refused = await create('list-refused', 'list-created@harness.example.com');
    platform.fixture.organizations.hold();
    const held = await create('list-held', 'list-held@harness.example.com');
    // THEN each is listed under its state, once, under the id CreateAccount answered
    const ids = (states?: CreateAccountState[]) => listed(states).then((l) => l.map((s) => s.Id));
    expect(await ids(['IN_PROGRESS'])).toEqual([held.Id]);
    expect(await ids(['FAILED'])).toContain(refused.Id);
    expect(await ids(['FAILED'])).not.toContain(created.Id);
    expect(await ids(['SUCCEEDED'])).toContain(created.Id);
    expect(await ids(['SUCCEEDED'])).not.toContain(held.Id);
    const everything = await listed();
    expect(everything.filter((s) => s.AccountName?.startsWith('list-')).map((s) => [s.AccountName, s.State]).sort()).toEqual([
      ['list-created', 'SUCCEEDED'], ['list-held', 'IN_PROGRESS'], ['list-refused', 'FAILED'],
    ]);
    // WHEN the held one is released, it is listed as SUCCEEDED under its own id (not moto's as well)
    await platform.fixture.organizations.release();
    const succeeded = (await listed(['SUCCEEDED'])).filter((s) => s.AccountName === 'list-held');
    expect(succeeded).toEqual([expect.objectContaining({ Id: held.Id, AccountId: expect.stringMatching(/^\d{12}$/) })]);
    expect(await ids(['IN_PROGRESS'])).toEqual([]);
    // and a request id nobody issued is AWS's CreateAccountStatusNotFoundException
    await expect(status('car-00000000000000000000000000000000')).rejects.toBeInstanceOf(CreateAccountStatusNotFoundException);
  });
});

// moto moves an account from wherever it is and deletes an OU with accounts in it.
describe('Organizations MoveAccount and DeleteOrganizationalUnit, as AWS answers them', () => {
  const orgs = () => clientWith(OrganizationsClient, platform.fixture.management);
  const parentOf = async (id: string) => (await orgs().send(new ListParentsCommand({ ChildId: id }))).Parents![0].Id!;

  it('refuses a MoveAccount into the parent the account is in (DuplicateAccountException) or from one it is not in (SourceParentNotFoundException); an OU with an account is not deleted', async () => {
    // GIVEN an account in the root and two OUs
    const made = await orgs().send(new CreateAccountCommand({ AccountName: 'mover', Email: 'mover@harness.example.com' }));
    const accountId = (await orgs().send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: made.CreateAccountStatus!.Id! }))).CreateAccountStatus!.AccountId!;
    const root = (await orgs().send(new ListRootsCommand({}))).Roots![0].Id!;
    const ou = async (Name: string) => (await orgs().send(new CreateOrganizationalUnitCommand({ ParentId: root, Name }))).OrganizationalUnit!.Id!;
    const [first, second] = [await ou('harness-move-1'), await ou('harness-move-2')];
    // WHEN it is moved into the first (its parent as ListParents names it)
    await orgs().send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: root, DestinationParentId: first }));
    expect(await parentOf(accountId)).toBe(first);
    // THEN the same call again (a call resent after its answer was lost) is refused, the account where it is
    await expect(orgs().send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: root, DestinationParentId: first }))).rejects.toMatchObject({ name: 'DuplicateAccountException' });
    // and a move that names a parent it is not in, refused too
    await expect(orgs().send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: root, DestinationParentId: second }))).rejects.toMatchObject({ name: 'SourceParentNotFoundException' });
    expect(await parentOf(accountId)).toBe(first);
    // and the OU it is in is not deleted; once it left, the OU is
    await expect(orgs().send(new DeleteOrganizationalUnitCommand({ OrganizationalUnitId: first }))).rejects.toMatchObject({ name: 'OrganizationalUnitNotEmptyException' });
    await orgs().send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: first, DestinationParentId: second }));
    await orgs().send(new DeleteOrganizationalUnitCommand({ OrganizationalUnitId: first }));
    expect(await parentOf(accountId)).toBe(second);
  });
});

describe('CloudFormation ClientRequestToken, as AWS reads it', () => {
  const cfn = async () => clientWith(CloudFormationClient, await platform.fixture.as(config.workloadAccountId));
  const topic = (name: string) => JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: name } } } });
  const events = async (stack: string) => (await (await cfn()).send(new DescribeStackEventsCommand({ StackName: stack }))).StackEvents!;

  it('answers a retried CreateStack (same token) with the stack it created, and refuses the name with another token or none', async () => {
    // GIVEN a stack created with a token
    const client = await cfn();
    const { StackId } = await client.send(new CreateStackCommand({ StackName: 'token-create', TemplateBody: topic('token-create'), ClientRequestToken: 'req-1-tenant' }));
    const before = (await events('token-create')).length;
    // WHEN the same request comes again
    const retry = await client.send(new CreateStackCommand({ StackName: 'token-create', TemplateBody: topic('token-create'), ClientRequestToken: 'req-1-tenant' }));
    // THEN the same stack, and no new operation
    expect(retry.StackId).toBe(StackId);
    expect(await events('token-create')).toHaveLength(before);
    expect((await client.send(new DescribeStacksCommand({ StackName: 'token-create' }))).Stacks![0]).toMatchObject({ StackId, StackStatus: 'CREATE_COMPLETE' });
    // WHEN another request (another token, or none) creates the name
    for (const ClientRequestToken of ['req-2-tenant', undefined]) {
      await expect(client.send(new CreateStackCommand({ StackName: 'token-create', TemplateBody: topic('token-create'), ClientRequestToken }))).rejects.toMatchObject({
        name: 'AlreadyExistsException', message: 'Stack [token-create] already exists',
      });
    }
  });

  it('answers a retried UpdateStack (the last update\'s token) without a new update; another token updates', async () => {
    const client = await cfn();
    await client.send(new CreateStackCommand({ StackName: 'token-update', TemplateBody: topic('token-update-1') }));
    await client.send(new UpdateStackCommand({ StackName: 'token-update', TemplateBody: topic('token-update-2'), ClientRequestToken: 'upd-1' }));
    const before = (await events('token-update')).length;
    // WHEN the update is retried with its token (the template is now what it applies: AWS would otherwise say "No updates")
    const retry = await client.send(new UpdateStackCommand({ StackName: 'token-update', TemplateBody: topic('token-update-2'), ClientRequestToken: 'upd-1' }));
    // THEN its answer, and no new operation
    expect(retry.StackId).toMatch(/:stack\/token-update\//);
    expect(await events('token-update')).toHaveLength(before);
    // WHEN another request with the same template comes
    await expect(client.send(new UpdateStackCommand({ StackName: 'token-update', TemplateBody: topic('token-update-2'), ClientRequestToken: 'upd-2' }))).rejects.toThrow('No updates are to be performed.');
  });

  it('answers a retried DeleteStack (the last delete\'s token) without a new delete, records the token on the events, and a new token deletes again', async () => {
    // GIVEN a stack whose deletion fails (a protected database) under a token
    const client = await cfn();
    const db = JSON.stringify({
      Resources: { Db: { Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Delete', Properties: { DBInstanceIdentifier: 'token-db', Engine: 'postgres', EngineVersion: '17', DBInstanceClass: 'db.t4g.medium', AllocatedStorage: '20', MasterUsername: 'u', ManageMasterUserPassword: true, DeletionProtection: true } } },
    });
    await client.send(new CreateStackCommand({ StackName: 'token-delete', TemplateBody: db }));
    await client.send(new DeleteStackCommand({ StackName: 'token-delete', ClientRequestToken: 'del-1' }));
    expect((await client.send(new DescribeStacksCommand({ StackName: 'token-delete' }))).Stacks![0].StackStatus).toBe('DELETE_FAILED');
    const failed = await events('token-delete');
    expect(failed.filter((e) => e.ResourceStatus?.startsWith('DELETE_')).map((e) => e.ClientRequestToken)).toEqual(['del-1', 'del-1', 'del-1']);
    // WHEN the delete is retried with its token
    await client.send(new DeleteStackCommand({ StackName: 'token-delete', ClientRequestToken: 'del-1' }));
    // THEN nothing new happens
    expect(await events('token-delete')).toHaveLength(failed.length);
    // WHEN the protection is lifted and a new request deletes
    await clientWith(RDSClient, await platform.fixture.as(config.workloadAccountId)).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'token-db', DeletionProtection: false, ApplyImmediately: true }));
    await client.send(new DeleteStackCommand({ StackName: 'token-delete', ClientRequestToken: 'del-2' }));
    await expect(client.send(new DescribeStacksCommand({ StackName: 'token-delete' }))).rejects.toThrow(/does not exist/);
  });

  it('records the create\'s token on a rollback\'s events, and answers its retry with the rolled-back stack', async () => {
    const client = await cfn();
    platform.fixture.cloudFormation.failCreate('token-rollback', 'Topic', 'injected by the harness test');
    const { StackId } = await client.send(new CreateStackCommand({ StackName: 'token-rollback', TemplateBody: topic('token-rollback'), ClientRequestToken: 'roll-1' }));
    const rolled = await events('token-rollback');
    expect(rolled.length).toBeGreaterThan(0);
    expect(new Set(rolled.map((e) => e.ClientRequestToken))).toEqual(new Set(['roll-1']));
    expect((await client.send(new CreateStackCommand({ StackName: 'token-rollback', TemplateBody: topic('token-rollback'), ClientRequestToken: 'roll-1' }))).StackId).toBe(StackId);
    await expect(client.send(new CreateStackCommand({ StackName: 'token-rollback', TemplateBody: topic('token-rollback'), ClientRequestToken: 'roll-2' }))).rejects.toMatchObject({ name: 'AlreadyExistsException' });
  });
});
