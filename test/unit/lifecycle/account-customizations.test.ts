import {
  CloudFormationClient, CloudFormationServiceException, CreateChangeSetCommand, CreateStackCommand, DeleteChangeSetCommand, DeleteStackCommand, DescribeChangeSetCommand, DescribeStackEventsCommand,
  DescribeStacksCommand, ExecuteChangeSetCommand, UpdateStackCommand, type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetSessions } from '../../../lambdas/shared/sessions.js';
import { configWith } from '../../support/config-with.js';
import { mockStrict } from '../../support/strict-mock.js';
import { loseLease, records, registryMock } from './registry-mock.js';
import { deletesAfterRecreate } from './late-delete.js';
import { blueprintObject, credentials, DELETE_TOKEN, EXECUTION_ARN, leased, ownedTags, setLifecycleEnv, state, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const bus = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);

/** Enterprise (account isolation) with two customizations; starter (vpc) with none. */
const customized = configWith({
  tiers: {
    enterprise: {
      accountCustomizations: [
        { name: 'security', templateFile: 'customizations/security.yaml', parameters: { AlertEmail: 'sec@platform.example.com' } },
        { name: 'budgets', templateFile: 'customizations/budgets.json' },
      ],
      accountCustomizationsRole: { managedPolicyArns: ['arn:aws:iam::aws:policy/AWSBudgetsActionsWithAWSResourceControlAccess', 'arn:aws:iam::{accountId}:policy/SecurityTooling'] },
    },
  },
});

beforeEach(() => {
  setLifecycleEnv();
  useConfig(customized);
  forgetSessions();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, sts, s3]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
});

const CUSTOMIZATIONS_ROLE = 'arn:aws:iam::333333333333:role/tessera-account-customizations';
const notFound = (name: string) => Object.assign(new Error(`Stack with id ${name} does not exist`), { name: 'ValidationError' });
const stackOf = (name: string, StackStatus: string) => ({ Stacks: [{
  StackName: name, StackId: `arn:aws:cloudformation:us-east-1:333333333333:stack/${name}/1`, StackStatus: StackStatus as StackStatus, CreationTime: new Date(),
  Tags: [...ownedTags(), { Key: 'tessera:component', Value: 'account-customization' }],
}] });
const enterprise = (kind: 'onboard' | 'change' = 'onboard', extra = {}) => leased(kind, { tier: 'enterprise', isolation: 'account', ...extra });
const onboarding = (extra: Record<string, unknown> = {}) => ({ ...state(), request: { ...state().request, tier: 'enterprise', isolation: 'account' as const, computeMode: 'dedicated' as const }, ...extra });

describe('Deploy customizations', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-customizations.js')).handler;

  it('creates the first customization as its own stack in the tenant account, as the account customizations role (never the blueprint execution role), from the catalog, protected, with its parameters', async () => {
    records.set('acme', enterprise());
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => Promise.reject(notFound(input.StackName)));
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await expect(deploy(onboarding())).resolves.toEqual({ state: 'IN_PROGRESS', done: [], current: 'security' });
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(1);
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input).toMatchObject({
      StackName: 'tessera-acme-custom-security',
      TemplateURL: 'https://tessera-blueprints.s3.us-east-1.amazonaws.com/blueprints/1.0.0/customizations/enterprise/security.template.json',
      Parameters: [{ ParameterKey: 'AlertEmail', ParameterValue: 'sec@platform.example.com' }],
      RoleARN: CUSTOMIZATIONS_ROLE,
      EnableTerminationProtection: true,
      OnFailure: 'ROLLBACK',
      Tags: expect.arrayContaining([{ Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:request-id', Value: 'req-acme-0001' }, { Key: 'tessera:component', Value: 'account-customization' }]),
    });
    expect(records.get('acme')!.customizations).toEqual({ security: expect.objectContaining({ stackName: 'tessera-acme-custom-security', status: 'DEPLOYING', tier: 'enterprise', blueprintVersion: '1.0.0' }) });
  });

  it('records one ACTIVE once its create is complete, then starts the next; COMPLETE when every one stands', async () => {
    records.set('acme', enterprise());
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-custom-security' }).resolves(stackOf('tessera-acme-custom-security', 'CREATE_COMPLETE'));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-custom-budgets' }).rejects(notFound('tessera-acme-custom-budgets'));
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await expect(deploy(onboarding({ customizations: { state: 'IN_PROGRESS', done: [], current: 'security' } }))).resolves.toEqual({ state: 'IN_PROGRESS', done: ['security'], current: 'budgets' });
    expect(cfn.commandCalls(CreateStackCommand).map((c) => c.args[0].input.StackName)).toEqual(['tessera-acme-custom-budgets']);
    expect(records.get('acme')!.customizations).toMatchObject({ security: { status: 'ACTIVE' }, budgets: { status: 'DEPLOYING' } });
    // AND once the second stands too
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-custom-budgets' }).resolves(stackOf('tessera-acme-custom-budgets', 'CREATE_COMPLETE'));
    await expect(deploy(onboarding({ customizations: { state: 'IN_PROGRESS', done: ['security'], current: 'budgets' } }))).resolves.toEqual({ state: 'COMPLETE', done: ['security', 'budgets'] });
    expect(records.get('acme')!.customizations).toMatchObject({ security: { status: 'ACTIVE' }, budgets: { status: 'ACTIVE' } });
  });

  it('fails naming the stack and CloudFormation\'s reason when the create rolled back, and records it FAILED with that reason', async () => {
    records.set('acme', enterprise());
    cfn.on(DescribeStacksCommand).resolves(stackOf('tessera-acme-custom-security', 'ROLLBACK_COMPLETE'));
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [
      { StackId: 's', EventId: '2', StackName: 'tessera-acme-custom-security', LogicalResourceId: 'tessera-acme-custom-security', ResourceStatus: 'ROLLBACK_COMPLETE', Timestamp: new Date() },
      { StackId: 's', EventId: '1', StackName: 'tessera-acme-custom-security', LogicalResourceId: 'Detector', ResourceType: 'AWS::GuardDuty::Detector', ResourceStatus: 'CREATE_FAILED', ResourceStatusReason: 'The request is rejected because a detector already exists for the current account.', Timestamp: new Date() },
    ] });
    const reason = 'customization security: stack tessera-acme-custom-security is ROLLBACK_COMPLETE (its create failed): Detector CREATE_FAILED: The request is rejected because a detector already exists for the current account.';
    await expect(deploy(onboarding({ customizations: { state: 'IN_PROGRESS', done: [], current: 'security' } }))).rejects.toMatchObject({ name: 'StackFailed', message: reason });
    expect(records.get('acme')!.customizations!.security).toMatchObject({ status: 'FAILED', reason });
  });

  it('fails naming the bucket and key when CloudFormation cannot read the template from the catalog, and records it FAILED with that reason (not DEPLOYING)', async () => {
    records.set('acme', enterprise());
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => Promise.reject(notFound(input.StackName)));
    // CloudFormation's answer to a TemplateURL whose object does not exist.
    cfn.on(CreateStackCommand).rejects(Object.assign(new Error('S3 error: The specified key does not exist.\nFor more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html'), { name: 'ValidationError' }));
    const failed = deploy(onboarding());
    await expect(failed).rejects.toMatchObject({ name: 'StackFailed' });
    const reason = (await failed.catch((e: Error) => e.message)) as string;
    expect(reason).toContain('customization security: CloudFormation could not read its template s3://tessera-blueprints/blueprints/1.0.0/customizations/enterprise/security.template.json (ValidationError: S3 error: The specified key does not exist.)');
    expect(records.get('acme')!.customizations!.security).toMatchObject({ status: 'FAILED', reason });
  });

  it('records it FAILED (not DEPLOYING, not absent) with CloudFormation\'s answer when the create fails for another reason; the error is the step\'s, retried or caught', async () => {
    records.set('acme', enterprise());
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => Promise.reject(notFound(input.StackName)));
    cfn.on(CreateStackCommand).rejects(Object.assign(new Error('Template format error: Unresolved resource dependencies [NoSuchThing] in the Resources block of the template'), { name: 'ValidationError' }));
    await expect(deploy(onboarding())).rejects.toMatchObject({ name: 'ValidationError' });
    // Before, no entry: `tessera tenants show` printed no line for the customization that failed.
    expect(records.get('acme')!.customizations!.security).toMatchObject({ status: 'FAILED', stackName: 'tessera-acme-custom-security',
      reason: 'customization security: CreateStack of stack tessera-acme-custom-security failed: ValidationError: Template format error: Unresolved resource dependencies [NoSuchThing] in the Resources block of the template; whether CloudFormation started the create is not known (the next attempt finds the stack if it did)' });
    // A retried step (Throttling) that then creates it records DEPLOYING over it.
    cfn.on(CreateStackCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(deploy(onboarding())).rejects.toMatchObject({ name: 'Throttling' });
    expect(records.get('acme')!.customizations!.security).toMatchObject({ status: 'FAILED', reason: expect.stringContaining('failed: Throttling: Rate exceeded') });
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await expect(deploy(onboarding())).resolves.toMatchObject({ state: 'IN_PROGRESS', current: 'security' });
    expect(records.get('acme')!.customizations!.security).toMatchObject({ status: 'DEPLOYING' });
  });

  it('an answer the SDK cannot parse (HTTP 500 with an HTML page: an emulator that crashed, a proxy) is said as the endpoint and its status, not the XML parser\'s words, StackFailed', async () => {
    records.set('acme', enterprise());
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => Promise.reject(notFound(input.StackName)));
    cfn.on(CreateStackCommand).rejects(Object.assign(new Error('@aws-sdk XML parse error: mismatched tags <html>\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), { name: 'Error', $metadata: { httpStatusCode: 500 } }));
    const failed = deploy(onboarding());
    await expect(failed).rejects.toMatchObject({ name: 'StackFailed', message: expect.stringMatching(/^customization security: CreateStack of stack tessera-acme-custom-security failed: CloudFormation's endpoint.* answered HTTP 500 with a body that is not a CloudFormation answer/) });
    expect(records.get('acme')!.customizations!.security).toMatchObject({ status: 'FAILED', reason: expect.not.stringContaining('XML parse error') });
  });

  it('a retry that meets the stack CREATE_IN_PROGRESS from an earlier execution: StackBusy naming that execution\'s token, or events without one as such (not "not by Tessera"), and no "waiting" claimed of a failure', async () => {
    records.set('acme', enterprise());
    const stack = stackOf('tessera-acme-custom-security', 'CREATE_IN_PROGRESS');
    cfn.on(DescribeStacksCommand).resolves(stack);
    const ownEvent = (token?: string) => ({ StackEvents: [{ StackId: stack.Stacks[0].StackId, EventId: '1', StackName: 'tessera-acme-custom-security', LogicalResourceId: 'tessera-acme-custom-security',
      PhysicalResourceId: stack.Stacks[0].StackId, ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'CREATE_IN_PROGRESS' as const, Timestamp: new Date('2026-12-05T10:00:00Z'), ...(token ? { ClientRequestToken: token } : {}) }] });
    cfn.on(DescribeStackEventsCommand).resolves(ownEvent('tessera-deploy-custom-security-0123456789abcdef01234567'));
    await expect(deploy(onboarding())).rejects.toMatchObject({ name: 'StackBusy', message: expect.stringContaining('another Tessera execution\'s operation (ClientRequestToken tessera-deploy-custom-security-0123456789abcdef01234567), not this execution\'s; the step waits for it to end (retried on StackBusy for about an hour: a failure with this reason means it still ran when the retries ran out)') });
    cfn.on(DescribeStackEventsCommand).resolves(ownEvent());
    const busy = await deploy(onboarding()).catch((e: Error) => e);
    expect(busy).toMatchObject({ name: 'StackBusy', message: expect.stringContaining('an operation whose stack events carry no ClientRequestToken (Tessera passes one with every call, so likely not Tessera\'s') });
    expect((busy as Error).message).not.toMatch(/not by Tessera|; waiting for it/);
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(0);
  });

  it('fails naming the bucket and key when the change set cannot read the template on a change, and records it FAILED', async () => {
    records.set('acme', enterprise('change', { customizations: { security: { stackName: 'tessera-acme-custom-security', status: 'ACTIVE', tier: 'enterprise', updatedAt: '2026-11-01T00:00:00.000Z' } } }));
    cfn.on(DescribeStacksCommand).resolves(stackOf('tessera-acme-custom-security', 'UPDATE_COMPLETE'));
    cfn.on(CreateChangeSetCommand).rejects(Object.assign(new Error('S3 error: The specified key does not exist.\nFor more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html'), { name: 'ValidationError' }));
    const change = { ...state(), kind: 'change' as const, change: { tier: 'enterprise', blueprintVersion: '1.0.0' } };
    await expect(deploy(change)).rejects.toMatchObject({ name: 'StackFailed', message: expect.stringContaining('s3://tessera-blueprints/blueprints/1.0.0/customizations/enterprise/security.template.json') });
    expect(records.get('acme')!.customizations!.security).toMatchObject({ status: 'FAILED', reason: expect.stringContaining('could not read its template') });
  });

  it('re-applies each customization of the target tier through a change set on a tier change, and records one the tier no longer lists RETAINED', async () => {
    records.set('acme', enterprise('change', { customizations: { legacy: { stackName: 'tessera-acme-custom-legacy', status: 'ACTIVE', tier: 'enterprise', updatedAt: '2026-11-01T00:00:00.000Z' } } }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-custom-security' }).resolves(stackOf('tessera-acme-custom-security', 'UPDATE_COMPLETE'));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-custom-budgets' }).resolves(stackOf('tessera-acme-custom-budgets', 'CREATE_COMPLETE'));
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand, { StackName: 'tessera-acme-custom-security' }).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [{ Type: 'Resource', ResourceChange: { Action: 'Modify', LogicalResourceId: 'Topic', ResourceType: 'AWS::SNS::Topic', Replacement: 'False' } }] });
    cfn.on(DescribeChangeSetCommand, { StackName: 'tessera-acme-custom-budgets' }).resolves({ Status: 'FAILED', StatusReason: 'The submitted information didn\'t contain changes. Submit different information to create a change set.', Changes: [] });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    cfn.on(DeleteChangeSetCommand).resolves({});
    const change = { ...state(), kind: 'change' as const, change: { tier: 'enterprise', blueprintVersion: '1.0.0' } };
    // WHEN: the first is updated (its change set executed), waited for
    await expect(deploy(change)).resolves.toEqual({ state: 'IN_PROGRESS', done: [], current: 'security' });
    expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input).toMatchObject({ StackName: 'tessera-acme-custom-security', ChangeSetType: 'UPDATE', RoleARN: CUSTOMIZATIONS_ROLE,
      TemplateURL: 'https://tessera-blueprints.s3.us-east-1.amazonaws.com/blueprints/1.0.0/customizations/enterprise/security.template.json' });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
    // THEN once complete, the second has nothing to change, and the one no longer listed is RETAINED
    await expect(deploy({ ...change, customizations: { state: 'IN_PROGRESS', done: [], current: 'security' } })).resolves.toEqual({ state: 'COMPLETE', done: ['security', 'budgets'] });
    expect(records.get('acme')!.customizations).toMatchObject({ security: { status: 'ACTIVE' }, budgets: { status: 'ACTIVE' }, legacy: { status: 'RETAINED' } });
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(0);
  });

  it('puts the change\'s tags (change.tags, replacing the recorded ones) on the customization stack\'s change set, after Tessera\'s', async () => {
    records.set('acme', enterprise('change', { tags: { CostCenter: '4711', Owner: 'team-x' } }));
    cfn.on(DescribeStacksCommand).resolves(stackOf('tessera-acme-custom-security', 'UPDATE_COMPLETE'));
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'The submitted information didn\'t contain changes. Submit different information to create a change set.', Changes: [] });
    cfn.on(DeleteChangeSetCommand).resolves({});
    await deploy({ ...state(), kind: 'change' as const, change: { tier: 'enterprise', blueprintVersion: '1.0.0', tags: { CostCenter: '4712' } } });
    const tags = cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.Tags!;
    expect(tags.filter((t) => !t.Key!.startsWith('tessera:'))).toEqual([{ Key: 'CostCenter', Value: '4712' }]);
    expect(tags.at(-1)).toEqual({ Key: 'tessera:component', Value: 'account-customization' });
  });

  // A move from professional to enterprise whose customization update did not take: the stack stands on what it ran before.
  const runningOn = (name: string, status: string, tier: string, version: string) => {
    const out = stackOf(name, status);
    out.Stacks[0].Tags.push({ Key: 'tessera:tier', Value: tier }, { Key: 'tessera:blueprint-version', Value: version });
    return out;
  };
  const moveToEnterprise = { ...state(), kind: 'change' as const, change: { tier: 'enterprise', blueprintVersion: '1.0.0' } };
  const securityActive = () => enterprise('change', { customizations: { security: { stackName: 'tessera-acme-custom-security', status: 'ACTIVE', tier: 'professional', blueprintVersion: '0.9.0', updatedAt: '2026-11-01T00:00:00.000Z' } } });

  it('an update that rolled back: recorded FAILED with the tier and version the stack still runs (its tags), not the ones attempted', async () => {
    records.set('acme', securityActive());
    cfn.on(DescribeStacksCommand).resolves(runningOn('tessera-acme-custom-security', 'UPDATE_ROLLBACK_COMPLETE', 'professional', '0.9.0'));
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
    await expect(deploy({ ...moveToEnterprise, customizations: { state: 'IN_PROGRESS', done: [], current: 'security' } })).rejects.toMatchObject({ name: 'StackFailed', message: expect.stringContaining('UPDATE_ROLLBACK_COMPLETE') });
    expect(records.get('acme')!.customizations!.security).toMatchObject({
      status: 'FAILED', tier: 'professional', blueprintVersion: '0.9.0',
      reason: expect.stringContaining('stack tessera-acme-custom-security still runs tier professional\'s template at version 0.9.0 (the update to tier enterprise, version 1.0.0 did not take)'),
    });
  });

  it('a change set the guard refused: the stack untouched, recorded FAILED with the tier and version it still runs, ChangeRefused', async () => {
    records.set('acme', securityActive());
    cfn.on(DescribeStacksCommand).resolves(runningOn('tessera-acme-custom-security', 'UPDATE_COMPLETE', 'professional', '0.9.0'));
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [{ Type: 'Resource', ResourceChange: { Action: 'Remove', LogicalResourceId: 'Archive', ResourceType: 'AWS::S3::Bucket', PhysicalResourceId: 'acme-archive' } }] });
    cfn.on(DeleteChangeSetCommand).resolves({});
    await expect(deploy(moveToEnterprise)).rejects.toMatchObject({ name: 'ChangeRefused', message: expect.stringContaining('refused (the change set is deleted, the stack untouched)') });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(records.get('acme')!.customizations!.security).toMatchObject({
      status: 'FAILED', tier: 'professional', blueprintVersion: '0.9.0', reason: expect.stringContaining('still runs tier professional\'s template at version 0.9.0'),
    });
  });

  it('does nothing for a tier without customizations (a VPC tier): COMPLETE, no call into any account', async () => {
    records.set('acme', leased('onboard'));
    await expect(deploy(state())).resolves.toEqual({ state: 'COMPLETE', done: [] });
    expect(cfn.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);
  });

  it('never adopts a stack of the name that Tessera did not create for the tenant', async () => {
    records.set('acme', enterprise());
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ ...stackOf('tessera-acme-custom-security', 'CREATE_COMPLETE').Stacks[0], Tags: [] }] });
    await expect(deploy(onboarding())).rejects.toMatchObject({ name: 'StackNotOwned' });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });
});

// s39g: Step Functions does not stop a running Lambda; an execution whose lease was ended (the status-change rule) or
// taken over while the step read the customization stack must start no operation on it (stack-operation-lease.ts).
// s39k: a DeleteStack by name that arrives after the stack it read was deleted and created again under the name (by the
// next holder of the tenant) deleted that new create; by the StackId read it deletes nothing.
describe('a late DeleteStack of a customization stack created again since', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-customizations.js')).handler;
  const deleteStacks = (await import('../../../lambdas/lifecycle/delete-tenant-stacks.js')).handler;

  it('Deploy customizations (a ROLLBACK_COMPLETE stack from an earlier attempt) deletes nothing: by the StackId read', async () => {
    records.set('acme', enterprise());
    const read = stackOf('tessera-acme-custom-security', 'ROLLBACK_COMPLETE');
    cfn.on(DescribeStacksCommand).resolves(read);
    const { deleted } = deletesAfterRecreate(cfn, read.Stacks[0]);
    await expect(deploy(onboarding())).rejects.toMatchObject({ name: 'StackBusy' });
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual([read.Stacks[0].StackId]);
    expect(deleted).toEqual([]);
  });

  it('Delete tenant stacks deletes nothing: by the StackId read', async () => {
    records.set('acme', leased('offboard', { tier: 'enterprise', isolation: 'account', stackName: 'tessera-acme', customizations: {
      security: { stackName: 'tessera-acme-custom-security', status: 'ACTIVE', tier: 'enterprise', updatedAt: '2026-11-01T00:00:00.000Z' },
    } }));
    const read = stackOf('tessera-acme-custom-security', 'CREATE_COMPLETE');
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-custom-security' }).resolves(read);
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-custom-budgets' }).rejects(notFound('tessera-acme-custom-budgets'));
    const { deleted } = deletesAfterRecreate(cfn, read.Stacks[0]);
    await deleteStacks({ ...state(), executionArn: EXECUTION_ARN });
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual([read.Stacks[0].StackId]);
    expect(deleted).toEqual([]);
  });
});

describe('Deploy customizations and an execution that lost its lease', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-customizations.js')).handler;
  /** The stack operations sent: none is expected. */
  const started = () => [...cfn.commandCalls(CreateStackCommand), ...cfn.commandCalls(DeleteStackCommand), ...cfn.commandCalls(ExecuteChangeSetCommand)];
  const change = { ...state(), kind: 'change' as const, change: { tier: 'enterprise', blueprintVersion: '1.0.0' } };
  const ACTIVE = { security: { stackName: 'tessera-acme-custom-security', status: 'ACTIVE' as const, tier: 'enterprise', updatedAt: '2026-11-01T00:00:00.000Z' } };
  it.each([
    { operation: 'CreateStack', record: () => enterprise(), read: () => Promise.reject(notFound('tessera-acme-custom-security')), run: () => deploy(onboarding()) },
    { operation: 'DeleteStack', record: () => enterprise(), read: async () => stackOf('tessera-acme-custom-security', 'ROLLBACK_COMPLETE'), run: () => deploy(onboarding()) },
    { operation: 'ExecuteChangeSet', record: () => enterprise('change', { customizations: ACTIVE }), read: async () => stackOf('tessera-acme-custom-security', 'UPDATE_COMPLETE'), run: () => deploy(change) },
  ])('starts no $operation of a customization stack once the lease was taken over while the step read it (TenantBusy naming it)', async ({ operation, record, read, run }) => {
    records.set('acme', record());
    const takenBy = { kind: 'suspend' as const, executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-suspend:2', requestId: 'sus-1', acquiredAt: '2026-12-06T00:00:00.000Z', previousStatus: 'ACTIVE' as const };
    cfn.on(DescribeStacksCommand).callsFake(() => {
      loseLease('acme', { takenBy });
      return read();
    });
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [{ Type: 'Resource', ResourceChange: { Action: 'Modify', LogicalResourceId: 'Topic', ResourceType: 'AWS::SNS::Topic', Replacement: 'False' } }] });
    cfn.on(DeleteChangeSetCommand).resolves({});
    cfn.on(CreateStackCommand).resolves({});
    cfn.on(DeleteStackCommand).resolves({});
    cfn.on(ExecuteChangeSetCommand).resolves({});
    const before = structuredClone(records.get('acme'));
    await expect(run()).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringMatching(new RegExp(`${operation} of (change set \\S+ on )?stack tessera-acme-custom-security not started: the execution lost the tenant's lease`)) });
    expect(started()).toEqual([]);
    // the new holder's record: the customization not recorded (no FAILED for a create never asked for)
    expect(records.get('acme')).toMatchObject({ lease: takenBy });
    expect(records.get('acme')!.customizations).toEqual(before!.customizations);
  });
});

describe('Record failure: a customization left DEPLOYING', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-customizations.js')).handler;
  const recordFailure = (await import('../../../lambdas/lifecycle/record-failure.js')).handler;

  it('a check that failed other than through the paths that record FAILED (AccessDenied) leaves it DEPLOYING; Record failure records it FAILED with the operation\'s reason', async () => {
    // GIVEN a tier change that started the security stack's create (DEPLOYING)
    records.set('acme', enterprise('change'));
    const change = { ...state(), kind: 'change' as const, change: { tier: 'enterprise', blueprintVersion: '1.0.0' } };
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => Promise.reject(notFound(input.StackName)));
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await expect(deploy(change)).resolves.toMatchObject({ state: 'IN_PROGRESS', current: 'security' });
    // AND the next check cannot read the stack: the step throws, nothing records FAILED
    const denied = 'User: arn:aws:sts::333333333333:assumed-role/OrganizationAccountAccessRole/acme-deploy is not authorized to perform: cloudformation:DescribeStacks';
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error(denied), { name: 'AccessDenied' }));
    await expect(deploy({ ...change, customizations: { state: 'IN_PROGRESS', done: [], current: 'security' } })).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(records.get('acme')!.customizations!.security.status).toBe('DEPLOYING');
    // WHEN the workflow's Catch runs Record failure
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    await recordFailure({ ...change, failedStep: 'Check customizations', error: { Error: 'AccessDenied', Cause: JSON.stringify({ errorType: 'AccessDenied', errorMessage: denied }) } });
    // THEN tenants show no longer says a deploy is in progress
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', failure: { step: 'Check customizations' } });
    expect(records.get('acme')!.customizations!.security).toMatchObject({
      status: 'FAILED', tier: 'enterprise', blueprintVersion: '1.0.0',
      reason: expect.stringMatching(/^the change failed at Check customizations while stack tessera-acme-custom-security was being deployed \(tier enterprise, version 1\.0\.0\), before its create or update was seen to complete: AccessDenied: User: .* is not authorized to perform: cloudformation:DescribeStacks/),
    });
  });
});

describe('Delete tenant stacks', async () => {
  const deleteStacks = (await import('../../../lambdas/lifecycle/delete-tenant-stacks.js')).handler;

  it('deletes the customization stacks first, as the execution role, before the namespace and tenant stacks, and records them DELETED once gone', async () => {
    records.set('acme', leased('offboard', { tier: 'enterprise', isolation: 'account', stackName: 'tessera-acme', customizations: {
      security: { stackName: 'tessera-acme-custom-security', status: 'ACTIVE', tier: 'enterprise', updatedAt: '2026-11-01T00:00:00.000Z' },
    } }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-custom-security' }).resolves(stackOf('tessera-acme-custom-security', 'CREATE_COMPLETE'));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-custom-budgets' }).rejects(notFound('tessera-acme-custom-budgets'));
    cfn.on(DeleteStackCommand).resolves({});
    await expect(deleteStacks({ ...state(), executionArn: EXECUTION_ARN })).resolves.toMatchObject({ state: 'IN_PROGRESS', stack: 'tessera-acme-custom-security' });
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input)).toEqual([{ StackName: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme-custom-security/1', RoleARN: CUSTOMIZATIONS_ROLE, ClientRequestToken: DELETE_TOKEN }]);
    expect(cfn.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input.StackName)).not.toContain('tessera-acme');
    // WHEN it is gone, THEN recorded DELETED, and the offboarding goes on to the tenant stack
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-custom-security' }).rejects(notFound('tessera-acme-custom-security'));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(notFound('tessera-acme-namespace'));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'DELETE_IN_PROGRESS', CreationTime: new Date(), Tags: ownedTags() }] });
    await expect(deleteStacks({ ...state(), executionArn: EXECUTION_ARN })).resolves.toMatchObject({ state: 'IN_PROGRESS', stack: 'tessera-acme' });
    expect(records.get('acme')!.customizations!.security).toMatchObject({ status: 'DELETED' });
  });
});

describe('Deploy account baseline: the customizations role', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const baselineStack = { Stacks: [{
    StackName: 'tessera-account-baseline', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-account-baseline/1', StackStatus: 'UPDATE_COMPLETE' as StackStatus, CreationTime: new Date(),
    Tags: [{ Key: 'tessera:blueprint-version', Value: '1.0.0' }, { Key: 'tessera:component', Value: 'account-baseline' }],
  }] };

  it('passes the tier\'s accountCustomizationsRole policies, {accountId} filled in, as AccountCustomizationsPolicyArns to a baseline that declares it', async () => {
    records.set('acme', enterprise());
    s3.on(GetObjectCommand).resolves(blueprintObject(['AccountCustomizationsPolicyArns']));
    cfn.on(DescribeStacksCommand).rejects(notFound('tessera-account-baseline'));
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await expect(deploy(onboarding({ blueprint: 'baseline' }))).resolves.toMatchObject({ kind: 'baseline', action: 'CREATED' });
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input).toMatchObject({
      StackName: 'tessera-account-baseline',
      Parameters: [{ ParameterKey: 'AccountCustomizationsPolicyArns', ParameterValue: 'arn:aws:iam::aws:policy/AWSBudgetsActionsWithAWSResourceControlAccess,arn:aws:iam::333333333333:policy/SecurityTooling' }],
    });
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input.RoleARN).toBeUndefined();
  });

  it('passes them too when Check blueprint updates a baseline found older than the target (else the update set the empty default: no role)', async () => {
    const check = (await import('../../../lambdas/lifecycle/check-stack.js')).handler;
    records.set('acme', enterprise());
    s3.on(GetObjectCommand).resolves(blueprintObject(['AccountCustomizationsPolicyArns']));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ ...baselineStack.Stacks[0], Tags: [{ Key: 'tessera:blueprint-version', Value: '0.9.0' }, { Key: 'tessera:component', Value: 'account-baseline' }] }] });
    cfn.on(UpdateStackCommand).resolves({});
    await expect(check(onboarding({ blueprint: 'baseline' }))).resolves.toMatchObject({ state: 'IN_PROGRESS', action: 'UPDATED' });
    expect(cfn.commandCalls(UpdateStackCommand)[0].args[0].input.Parameters).toEqual([
      { ParameterKey: 'AccountCustomizationsPolicyArns', ParameterValue: 'arn:aws:iam::aws:policy/AWSBudgetsActionsWithAWSResourceControlAccess,arn:aws:iam::333333333333:policy/SecurityTooling' },
    ]);
  });

  it('keeps the role (UsePreviousValue) while customization stacks it made stand, on a tier without customizations: CloudFormation deletes a stack only as its role', async () => {
    // GIVEN the tier's customizations (and so its accountCustomizationsRole) taken out of the config; the tenant's stack RETAINED
    useConfig(configWith());
    records.set('acme', enterprise('change', { customizations: {
      security: { stackName: 'tessera-acme-custom-security', status: 'RETAINED', tier: 'enterprise', updatedAt: '2026-11-01T00:00:00.000Z' },
    } }));
    s3.on(GetObjectCommand).resolves(blueprintObject(['AccountCustomizationsPolicyArns']));
    cfn.on(DescribeStacksCommand).resolves(baselineStack);
    cfn.on(UpdateStackCommand).resolves({});
    await expect(deploy({ ...onboarding({ blueprint: 'baseline' }), kind: 'change' as const, change: { tier: 'enterprise', blueprintVersion: '1.0.0' } })).resolves.toMatchObject({ action: 'UPDATED' });
    expect(cfn.commandCalls(UpdateStackCommand)[0].args[0].input.Parameters).toEqual([{ ParameterKey: 'AccountCustomizationsPolicyArns', UsePreviousValue: true }]);
    // A baseline created afresh (a ROLLBACK_COMPLETE one deleted) has no previous value: CreateStack gets none
    cfn.on(DescribeStacksCommand).rejects(notFound('tessera-account-baseline'));
    cfn.on(CreateStackCommand).resolves({ StackId: 'id' });
    await expect(deploy({ ...onboarding({ blueprint: 'baseline' }), kind: 'change' as const, change: { tier: 'enterprise', blueprintVersion: '1.0.0' } })).resolves.toMatchObject({ action: 'CREATED' });
    expect(cfn.commandCalls(CreateStackCommand)[0].args[0].input.Parameters).toBeUndefined();
    cfn.on(DescribeStacksCommand).resolves(baselineStack);
    // WHEN offboarding has deleted them: the parameter's empty default, no role
    records.set('acme', enterprise('change', { customizations: {
      security: { stackName: 'tessera-acme-custom-security', status: 'DELETED', tier: 'enterprise', updatedAt: '2026-11-02T00:00:00.000Z' },
    } }));
    await expect(deploy({ ...onboarding({ blueprint: 'baseline' }), kind: 'change' as const, change: { tier: 'enterprise', blueprintVersion: '1.0.0' } })).resolves.toMatchObject({ action: 'UPDATED' });
    expect(cfn.commandCalls(UpdateStackCommand)[1].args[0].input.Parameters).toBeUndefined();
  });

  // s36b: a customization stack kept (RETAINED) across a move from another account tier with customizations was deleted at
  // offboarding by the role the baseline had given the new tier's policies alone: CloudFormation deletes a stack's
  // resources with its service role's permissions, and the old tier's were gone.
  it('keeps the policies of the tier a standing customization stack was deployed under beside the new tier\'s (offboarding deletes it as this role); refuses a sum above IAM\'s quota', async () => {
    const sovereign = (managedPolicyArns: string[]) => configWith({ tiers: {
      enterprise: customized.tiers.enterprise,
      sovereign: { ...structuredClone(customized.tiers.enterprise), network: { ...customized.tiers.enterprise.network, tenantCidrPool: '10.112.0.0/12' }, accountCustomizations: [{ name: 'audit', templateFile: 'customizations/security.yaml' }], accountCustomizationsRole: { managedPolicyArns } },
    } });
    // GIVEN acme moved from sovereign to enterprise; sovereign's `audit` stack stays RETAINED (enterprise does not list it)
    useConfig(sovereign(['arn:aws:iam::aws:policy/AWSSecurityHubFullAccess', 'arn:aws:iam::{accountId}:policy/SecurityTooling', 'arn:aws:iam::{accountId}:policy/AuditTrail']));
    records.set('acme', enterprise('change', { customizations: {
      audit: { stackName: 'tessera-acme-custom-audit', status: 'RETAINED', tier: 'sovereign', updatedAt: '2026-11-01T00:00:00.000Z' },
      security: { stackName: 'tessera-acme-custom-security', status: 'ACTIVE', tier: 'enterprise', updatedAt: '2026-11-01T00:00:00.000Z' },
    } }));
    s3.on(GetObjectCommand).resolves(blueprintObject(['AccountCustomizationsPolicyArns']));
    cfn.on(DescribeStacksCommand).resolves(baselineStack);
    cfn.on(UpdateStackCommand).resolves({});
    const change = { ...onboarding({ blueprint: 'baseline' }), kind: 'change' as const, change: { tier: 'enterprise', blueprintVersion: '1.0.0' } };
    await expect(deploy(change)).resolves.toMatchObject({ action: 'UPDATED' });
    // THEN enterprise's policies, then sovereign's not among them (before: enterprise's alone)
    expect(cfn.commandCalls(UpdateStackCommand)[0].args[0].input.Parameters).toEqual([{ ParameterKey: 'AccountCustomizationsPolicyArns', ParameterValue: [
      'arn:aws:iam::aws:policy/AWSBudgetsActionsWithAWSResourceControlAccess', 'arn:aws:iam::333333333333:policy/SecurityTooling',
      'arn:aws:iam::aws:policy/AWSSecurityHubFullAccess', 'arn:aws:iam::333333333333:policy/AuditTrail',
    ].join(',') }]);
    // WHEN the sum would pass IAM's 10 managed policies per role: refused before the baseline is touched, naming the stack
    useConfig(sovereign(Array.from({ length: 9 }, (_, i) => `arn:aws:iam::{accountId}:policy/Audit${i}`)));
    await expect(deploy(change)).rejects.toMatchObject({ name: 'ChangeRefused', message: expect.stringContaining('would need 11 managed policies (IAM attaches at most 10 to a role by default)') });
    await expect(deploy(change)).rejects.toMatchObject({ message: expect.stringContaining('tessera-acme-custom-audit (tier sovereign)') });
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(1);
  });

  it('passes none to an older baseline without the parameter (CloudFormation refuses an undeclared one), nor for a tier without customizations', async () => {
    records.set('acme', enterprise('change'));
    s3.on(GetObjectCommand).resolves(blueprintObject([]));
    cfn.on(DescribeStacksCommand).resolves(baselineStack);
    cfn.on(UpdateStackCommand).resolves({});
    await expect(deploy({ ...onboarding({ blueprint: 'baseline' }), kind: 'change' as const, change: { tier: 'enterprise', blueprintVersion: '1.0.0' } })).resolves.toMatchObject({ action: 'UPDATED' });
    expect(cfn.commandCalls(UpdateStackCommand)[0].args[0].input.Parameters).toBeUndefined();
    // A VPC tier's tenant in the shared workload account: no catalog read, no parameter
    records.set('beta', leased('onboard', { tenantId: 'beta' }));
    s3.reset();
    await expect(deploy(state('beta', { blueprint: 'baseline' }))).resolves.toMatchObject({ action: 'UPDATED' });
    expect(cfn.commandCalls(UpdateStackCommand)[1].args[0].input.Parameters).toBeUndefined();
    expect(s3.calls()).toHaveLength(0);
  });
});
