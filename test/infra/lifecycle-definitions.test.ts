import { APIGatewayClient, GetUsagePlansCommand, APIGatewayServiceException } from '@aws-sdk/client-api-gateway';
import {
  CloudFormationClient, CreateChangeSetCommand, DeleteChangeSetCommand, DescribeChangeSetCommand, DescribeStackDriftDetectionStatusCommand,
  DescribeStackResourceDriftsCommand, DescribeStacksCommand, DetectStackDriftCommand, ExecuteChangeSetCommand, ListStackResourcesCommand, type Stack, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, DescribeSubnetsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { DBInstanceNotFoundFault, DescribeDBInstancesCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../support/strict-mock.js';
import aslValidator from 'asl-validator';
import { Template } from 'aws-cdk-lib/assertions';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalWorkflows, type Definition, type WorkflowName } from '../integration/support/local-workflows.js';
import { FINE_TUNING_EVENTS_HANDLER } from '../integration/support/workflow-runner.js';
import { cachedJson } from '../integration/support/disk-cache.js';
import { LIFECYCLE_HANDLERS, type LifecycleHandlerName } from '../../lib/lifecycle-handlers.js';
import type { LifecycleStep } from '../../lambdas/shared/handler.js';
import { ACCOUNT_ZONES, blueprintObject, credentials, namespaceDeployerRole, ownedTags, setLifecycleEnv, standingSubnets, tenant, useNamespaceDeployerScope } from '../unit/lifecycle/support.js';
import { GetRoleCommand, IAMClient, IAMServiceException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { records, registryMock } from '../unit/lifecycle/registry-mock.js';

// The runs below (the upgrade's item processor, the drift workflow) use the registry's in-memory
// stand-in; the definitions' assertions do not touch it.
vi.mock('../../lambdas/shared/registry.js', () => registryMock);
import { defaultAppTemplates } from '../support/default-app.js';
import { configWith } from '../support/config-with.js';

/** Functions a Task may run that are not lifecycle handlers, and record no step (the fine-tuning events Lambda: Retire fine-tuned models). */
const NON_LIFECYCLE_TASK_FUNCTIONS: string[] = [FINE_TUNING_EVENTS_HANDLER];
/** The lifecycle handler a Task's function bundles (lambdas/lifecycle/<name>.ts), as lifecycleHandler made it. */
const stepOf = async (fn: LifecycleHandlerName): Promise<LifecycleStep> => ((await import(`../../lambdas/lifecycle/${fn}.ts`)) as { handler: LifecycleStep }).handler;

let workflows: LocalWorkflows;
/** The platform stack's template and the work bucket's logical id (LocalWorkflows renders a Ref as `<logicalId>`). */
let platform: { template: Template; workBucket: string; workflowsPolicy: string };
beforeAll(() => {
  workflows = new LocalWorkflows(configWith());
  // The default app's templates, shared across files (the default config, as configWith() gives it);
  // the logical ids of platform.lifecycle.workBucket and of lifecycle.workflows' Policy by their paths.
  const app = defaultAppTemplates();
  platform = {
    template: app.platform,
    workBucket: app.logicalIdAt('TesseraPlatform/Lifecycle/WorkBucket/Resource'),
    workflowsPolicy: app.logicalIdAt('TesseraPlatform/Lifecycle/Workflows/Policy/Resource'),
  };
});

/** The workflows of a config whose enterprise tier has an account customization (made once, when first asked). */
let customizedWorkflows: LocalWorkflows | undefined;
const customized = () => (customizedWorkflows ??= new LocalWorkflows(configWith({ tiers: { enterprise: {
  accountCustomizations: [{ name: 'security', templateFile: 'test/fixtures/customizations/security.yaml', parameters: { AlertEmail: 'sec@platform.example.com' } }],
  accountCustomizationsRole: { managedPolicyArns: ['arn:aws:iam::aws:policy/AmazonSNSFullAccess'] },
} } })));

/**
 * asl-validator's verdict on `definition` (ARNs and paths checked): `isValid` and `errorsText()`. A valid definition's
 * verdict is kept in the harness's disk cache (test/integration/support/disk-cache.ts: keyed by the definition's JSON,
 * the options and the state of the sources and package-lock.json, which pins asl-validator and Ajv), as
 * validateDefinition keeps the harness's: each validation compiles asl-validator's 15 JSON schemas with a new Ajv
 * (~0.2-0.9 s of CPU), and the 12 here are the same definitions run after run. An invalid one is never kept (it is
 * validated every time); `TESSERA_TEST_CACHE=off` validates every time. The validator adds `QueryLanguage` to every
 * state of what it checks: it checks a copy, so the definitions the runs below use are the same on a hit or a miss.
 */
function validatedAsl(definition: Definition): { isValid: boolean; errorsText: string } {
  const options = { checkArn: true, checkPaths: true } as const;
  const check = () => {
    const result = aslValidator(structuredClone(definition), options);
    return { isValid: result.isValid, errorsText: result.errorsText() };
  };
  try {
    return cachedJson('asl-validator-valid', { definition, options }, () => {
      const verdict = check();
      if (!verdict.isValid) throw new InvalidDefinition(verdict.errorsText);
      return verdict;
    });
  } catch (e) {
    if (e instanceof InvalidDefinition) return { isValid: false, errorsText: e.message };
    throw e;
  }
}
/** asl-validator found the definition invalid (its errorsText as the message): validatedAsl keeps nothing. */
class InvalidDefinition extends Error {}

type State = { Type: string; ToleratedFailurePercentage?: number; ResultWriter?: unknown; Retry?: Array<{ ErrorEquals: string[] }>; Catch?: Array<{ ErrorEquals: string[] }>; ItemProcessor?: { States: Record<string, State> } };
const states = (d: { States: Record<string, State> }): Array<[string, State]> =>
  Object.entries(d.States).flatMap(([n, s]) => [[n, s] as [string, State], ...(s.ItemProcessor ? states(s.ItemProcessor) : [])]);

describe.each(['onboard', 'change', 'status', 'offboard', 'upgrade', 'drift'] as WorkflowName[])('the synthesized %s state machine', (name) => {
  it('passes asl-validator', () => {
    const result = validatedAsl(workflows.definitions[name]);
    expect(result.errorsText).toBe('');
    expect(result.isValid).toBe(true);
  });

  // The definitions with account customizations (tiers.<tier>.accountCustomizations): their Deploy/Check customizations
  // states and Wait loops in the onboarding, the change and the upgrade's item processor.
  it('passes asl-validator with account customizations too', () => {
    const result = validatedAsl(customized().definitions[name]);
    expect(result.errorsText).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('records every Task\'s state name as the registry\'s currentStep (tenants show and list; a stopped execution\'s failure), not its handler\'s name', async () => {
    type Task = State & { Resource?: string; Parameters?: Record<string, unknown> };
    const tasks = states(workflows.definitions[name]).filter(([, s]) => s.Type === 'Task') as Array<[string, Task]>;
    expect(tasks.length).toBeGreaterThan(0);
    for (const [n, s] of tasks) {
      const fn = /:function:(.+)$/.exec(s.Resource ?? '')?.[1];
      // A function outside the lifecycle handlers records no step (the offboarding's Retire fine-tuned models:
      // the fine-tuning events Lambda); any other is unknown here and fails, so a new one is looked at.
      if (fn && NON_LIFECYCLE_TASK_FUNCTIONS.includes(fn)) continue;
      expect(LIFECYCLE_HANDLERS, `${n}: ${s.Resource}`).toContain(fn);
      // What lifecycleHandler sets currentStep to for this Task's payload (undefined: trackStep false, the handler records none).
      const recorded = (await stepOf(fn as LifecycleHandlerName)).recordedStep(s.Parameters ?? {});
      if (recorded !== undefined) expect(recorded, `${n} (${fn})`).toBe(n);
    }
  });

  it('retries throttling on every task and catches every failure', () => {
    const tasks = states(workflows.definitions[name]).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const [n, s] of tasks) {
      expect(s.Retry?.[0].ErrorEquals, n).toEqual(expect.arrayContaining(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'ConcurrentModificationException']));
      // The failure recorders themselves, the upgrade's listing (no tenant is touched yet) and the drift run's listing end the
      // execution as failed. Every other task's last catcher takes every error (a ChangeRefused catcher may come before it).
      if (!/Record (status )?failure|List tier tenants|List active tenants/.test(n)) expect(s.Catch?.at(-1)?.ErrorEquals, n).toEqual(['States.ALL']);
    }
  });

  it('retries Lambda\'s transient service exceptions on every task as the Step Functions guide recommends, and a function timeout only on a poll step', () => {
    // "Handle transient Lambda service exceptions" (Step Functions developer guide), with Lambda's concurrency throttle.
    const transient = ['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'];
    // The steps the workflow runs again after each Wait (constructs/lifecycle-workflows.ts `poll`): a retry is the next poll early.
    const poll = /^(Acquire account slot|Check account|Check (account baseline|DR blueprint|blueprint|namespace)|Check drift)$/;
    type Retrier = { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number };
    const tasks = states(workflows.definitions[name]).filter(([, s]) => s.Type === 'Task') as Array<[string, State & { Retry?: Retrier[] }]>;
    expect(tasks.length).toBeGreaterThan(0);
    for (const [n, s] of tasks) {
      const lambda = s.Retry?.find((r) => r.ErrorEquals.includes('Lambda.ServiceException'));
      expect(lambda?.ErrorEquals, n).toEqual(transient);
      expect(lambda, n).toMatchObject({ IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2 });
      const timeout = s.Retry?.find((r) => r.ErrorEquals.includes('Sandbox.Timedout'));
      expect(timeout?.ErrorEquals, n).toEqual(poll.test(n) ? ['Sandbox.Timedout', 'Lambda.Unknown', 'States.Timeout'] : undefined);
      // Nothing else retries a timeout or any error (States.ALL, States.TaskFailed) on a step that is not a poll.
      if (!poll.test(n)) expect(s.Retry?.flatMap((r) => r.ErrorEquals).filter((e) => /^States\.|^Sandbox\.|^Lambda\.Unknown$/.test(e)), n).toEqual([]);
    }
  });
});

describe('the onboarding state machine', () => {
  it('waits in Wait states, never in a Lambda', () => {
    const waits = states(workflows.definitions.onboard).filter(([, s]) => s.Type === 'Wait').map(([n]) => n);
    expect(waits).toEqual(expect.arrayContaining(['Wait for account slot', 'Wait for account', 'Wait for blueprint', 'Wait for namespace']));
  });
});

describe('the upgrade state machine', () => {
  type MapState = State & {
    MaxConcurrency: number; ToleratedFailurePercentage: number; ItemsPath?: string;
    ItemReader: { Resource: string; ReaderConfig: { InputType: string }; Parameters: Record<string, unknown> };
    ResultWriter: { Resource: string; Parameters: Record<string, unknown> };
  };
  const map = () => states(workflows.definitions.upgrade).find(([n]) => n === 'Upgrade each tenant')![1] as MapState;

  it('rolls out with bounded concurrency and a failure tolerance', () => {
    expect(map().MaxConcurrency).toBe(5);
    expect(map().ToleratedFailurePercentage).toBe(10);
  });

  it('reads its items from the S3 object the listing wrote, never from the state payload', () => {
    // GIVEN the listing's result at $.tenants = { bucket, key, resultsPrefix, count }
    expect(workflows.definitions.upgrade.States['List tier tenants']).toMatchObject({ ResultPath: '$.tenants' });
    // THEN the Map reads a JSON array from that key of the work bucket
    expect(map().ItemsPath).toBeUndefined();
    expect(map().ItemReader).toEqual({
      Resource: 'arn:<AWS::Partition>:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { Bucket: `<${platform.workBucket}>`, 'Key.$': '$.tenants.key' },
    });
  });

  it('writes its results to S3 under the upgrade\'s own prefix', () => {
    expect(map().ResultWriter).toEqual({ Resource: 'arn:<AWS::Partition>:states:::s3:putObject', Parameters: { Bucket: `<${platform.workBucket}>`, 'Prefix.$': '$.tenants.resultsPrefix' } });
  });

  it('lets the state machine role read the item lists and write results under upgrades/, nothing more of any bucket', () => {
    // GIVEN every S3 statement of every policy the state machine role carries
    const policies = { ...platform.template.findResources('AWS::IAM::ManagedPolicy'), ...platform.template.findResources('AWS::IAM::Policy') } as Record<string, { Properties: { PolicyDocument: { Statement: Array<{ Sid?: string; Action: string | string[]; Resource: unknown }> } } }>;
    const objects = (path: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [platform.workBucket, 'Arn'] }, path]] });
    const s3Statements = Object.entries(policies)
      .filter(([id]) => id === platform.workflowsPolicy || id.includes('DistributedMapPolicy'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
      .filter((st) => [st.Action].flat().some((a) => a.startsWith('s3:')));
    // THEN only the item lists are readable and only results/ writable
    expect(s3Statements).toEqual([
      expect.objectContaining({ Sid: 'UpgradeItems', Action: 's3:GetObject', Resource: objects('/upgrades/*/items.json') }),
      expect.objectContaining({ Sid: 'UpgradeResults', Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'], Resource: objects('/upgrades/*/results/*') }),
      // the drift run's Distributed Map results
      expect.objectContaining({ Sid: 'DriftResults', Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'], Resource: objects('/drift/*/results/*') }),
    ]);
  });
});

describe('the account baseline', () => {
  const next = (d: { States: Record<string, State & { Next?: string }> }, name: string) => d.States[name]?.Next;
  it('is deployed and checked before the tenant blueprint, in onboarding and in every change', () => {
    const onboard = workflows.definitions.onboard as unknown as { States: Record<string, State & { Next?: string }> };
    expect(next(onboard, 'Allocate network')).toBe('Deploy account baseline');
    expect(next(onboard, 'Deploy account baseline')).toBe('Wait for account baseline');
    // then the DR blueprint when the tier has a DR region (validate-request's drRegion), else the tenant blueprint
    expect(next(onboard, 'Account baseline ready')).toBe('Has DR region?');
    expect(onboard.States['Has DR region?']).toMatchObject({ Choices: [{ Variable: '$.request.drRegion', IsPresent: true, Next: 'Deploy DR blueprint' }], Default: 'Deploy blueprint' });
    expect(next(onboard, 'DR blueprint ready')).toBe('Deploy blueprint');
    expect(onboard.States['Deploy DR blueprint']).toMatchObject({ Parameters: { blueprint: 'dr' } });
    const change = workflows.definitions.change as unknown as { States: Record<string, State & { Next?: string }> };
    // (an account tenant's tier change or repair moves its account into the tier's OU first: Move the account?)
    expect(next(change, 'Begin change')).toBe('Move the account?');
    expect(change.States['Move the account?']).toMatchObject({ Default: 'Deploy account baseline' });
    expect(next(change, 'Move account')).toBe('Deploy account baseline');
    expect(next(change, 'Account baseline ready')).toBe('Has DR region?');
    expect(change.States['Has DR region?']).toMatchObject({ Choices: [{ Variable: '$.change.drRegion', IsPresent: true, Next: 'Deploy DR blueprint' }], Default: 'Deploy blueprint' });
    expect(next(change, 'DR blueprint ready')).toBe('Deploy blueprint');
    expect(change.States['Deploy account baseline']).toMatchObject({ Parameters: { blueprint: 'baseline' } });
    // Each Check gets its Deploy's answer (the change set it executed): a read from before that update is not taken for it (executed-change-set.ts).
    for (const d of [onboard, change]) {
      for (const [check, blueprint] of [['Check blueprint', 'tenant'], ['Check DR blueprint', 'dr'], ['Check account baseline', 'baseline']]) {
        expect(d.States[check]).toMatchObject({ Parameters: { blueprint, 'deploy.$': '$.deploy' } });
      }
    }
  });
});

describe('the tenant blueprint\'s interim update (the cache\'s failover off while its first replica is added: lambdas/lifecycle/cache-failover-interim.ts)', () => {
  it('once the interim update is complete (`$.deploy.interim`), Deploy blueprint runs again for the target, in onboarding, every change and each upgrade run; no other stack loops so', () => {
    const interim = (deploy: string) => ({
      And: [{ Variable: '$.stack.state', StringEquals: 'COMPLETE' }, { Variable: '$.deploy.interim', IsPresent: true }, { Variable: '$.deploy.interim', BooleanEquals: true }], Next: deploy,
    });
    for (const name of ['onboard', 'change'] as const) {
      const d = workflows.definitions[name] as unknown as { States: Record<string, State & { Choices?: unknown[]; Default?: string }> };
      // first the interim's loop, then the stack complete: the blueprint ready
      expect(d.States['Blueprint deployed?'].Choices).toEqual([interim('Deploy blueprint'), { Variable: '$.stack.state', StringEquals: 'COMPLETE', Next: 'Blueprint ready' }]);
      expect(d.States['Blueprint deployed?'].Default).toBe('Wait for blueprint');
      expect(d.States['Account baseline deployed?'].Choices).toHaveLength(1);
    }
    expect(JSON.stringify(workflows.definitions.upgrade)).toContain(JSON.stringify(interim('Deploy blueprint')));
  });
});

describe('the offboarding state machine', () => {
  type Next = { States: Record<string, State & { Next?: string; Default?: string; Choices?: Array<{ Next: string }> }> };
  it('lifts the blueprint\'s protections (polling until none shows) before deleting the stacks, then inventories what remains before deciding on the key', () => {
    const d = workflows.definitions.offboard as unknown as Next;
    expect(d.States['Snapshot archived?'].Choices![0].Next).toBe('Lift protections');
    expect(d.States['Lift protections'].Next).toBe('Protections lifted?');
    expect(d.States['Protections lifted?']).toMatchObject({ Choices: [{ Next: 'Delete tenant stacks' }], Default: 'Wait for protections' });
    expect(d.States['Wait for protections'].Next).toBe('Lift protections');
    expect(d.States['Stacks deleted?'].Choices![0].Next).toBe('Inventory retained stores');
    expect(d.States['Inventory retained stores']).toMatchObject({ Next: 'Schedule key deletion', Parameters: { 'export.$': '$.export' } });
    expect(d.States['Schedule key deletion'].Next).toBe('Retire account');
  });
});

describe('the offboarding state machine and fine-tuning', () => {
  type Next = { States: Record<string, State & { Next?: string; Default?: string; Choices?: Array<{ Next: string; Variable?: string; StringEquals?: string }>; Resource?: string; Parameters?: Record<string, unknown>; ResultPath?: string; Seconds?: number }> };
  it('retires fine-tuned models after the usage key is revoked and before the export, polling from a Wait state until nothing is deleting', () => {
    const d = workflows.definitions.offboard as unknown as Next;
    expect(d.States['Revoke usage key'].Next).toBe('Retire fine-tuned models');
    const retire = d.States['Retire fine-tuned models'];
    // the fine-tuning events Lambda (rendered by its handler file), invoked synchronously with the direct-invocation payload
    expect(retire).toMatchObject({
      Type: 'Task', Resource: expect.stringMatching(/:function:fine-tuning\/training-events-handler$/), ResultPath: '$.fineTuning', Next: 'Fine-tuned models retired?',
      Parameters: { action: 'retire-fine-tuned-models', 'tenantId.$': '$.request.tenantId', 'requestId.$': '$.request.requestId', 'executionArn.$': '$.executionArn' },
    });
    // bounded: each run gets the previous one's answer (its waitingSince), which starts empty
    expect(retire.Parameters).toMatchObject({ 'previous.$': '$.fineTuning' });
    expect((d.States['Start offboarding'] as { Parameters?: Record<string, unknown> }).Parameters).toMatchObject({ fineTuning: {} });
    expect(retire.Catch?.at(-1)).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'Failed at Retire fine-tuned models' });
    expect(d.States['Failed at Retire fine-tuned models']).toMatchObject({ Type: 'Pass', Result: 'Retire fine-tuned models', ResultPath: '$.failedStep', Next: 'Record failure' });
    expect(d.States['Fine-tuned models retired?']).toMatchObject({ Choices: [{ Variable: '$.fineTuning.state', StringEquals: 'COMPLETE', Next: 'Export tenant data' }], Default: 'Wait for fine-tuned models' });
    expect(d.States['Wait for fine-tuned models']).toMatchObject({ Type: 'Wait', Seconds: 30, Next: 'Retire fine-tuned models' });
    // the export records what was retired (registry offboarding.fineTuning, lifecycle audit)
    expect(d.States['Export tenant data'].Parameters).toMatchObject({ 'fineTuning.$': '$.fineTuning' });
  });

  it('Export tenant data waits about an hour for a tenant stack still being created (StackBusy: its outputs are recorded once the create ends)', () => {
    const d = workflows.definitions.offboard as unknown as { States: Record<string, { Retry?: Array<{ ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number }> }> };
    const retry = d.States['Export tenant data'].Retry!.find((r) => r.ErrorEquals.includes('StackBusy'));
    expect(retry).toMatchObject({ IntervalSeconds: 30, MaxAttempts: 15 });
  });

  it('lets the state machine role invoke that one fine-tuning function, and no other of the fine-tuning construct', () => {
    const policy = platform.template.toJSON().Resources[platform.workflowsPolicy];
    const statement = policy.Properties.PolicyDocument.Statement.find((s: any) => s.Sid === 'InvokeFineTuningRetirement');
    const events = defaultAppTemplates().logicalIdAt('TesseraPlatform/FineTuning/Events/Function/Resource');
    expect(statement).toEqual({ Sid: 'InvokeFineTuningRetirement', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [events, 'Arn'] } });
    const api = defaultAppTemplates().logicalIdAt('TesseraPlatform/FineTuning/Api/Function/Resource');
    expect(JSON.stringify(policy.Properties.PolicyDocument)).not.toContain(api);
  });
});

describe('the first admin\'s invitation (Invite tenant admin)', () => {
  type Task = Omit<State, 'Catch'> & { Next?: string; Resource?: string; Parameters?: Record<string, unknown>; Catch?: Array<{ ErrorEquals: string[]; ResultPath?: string; Next: string }> };
  const onboard = () => workflows.definitions.onboard as unknown as { States: Record<string, Task> };

  it('runs after the usage key, just before Activate tenant (the record says how it went before it says ACTIVE)', () => {
    expect(onboard().States['Issue usage key'].Next).toBe('Invite tenant admin');
    expect(onboard().States['Invite tenant admin'].Next).toBe('Activate tenant');
  });

  it('never fails the onboarding: its one Catch records the invitation FAILED (the same function, with the error) and goes on to Activate tenant', () => {
    expect(onboard().States['Invite tenant admin'].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.inviteError', Next: 'Record invite failure' }]);
    const recorder = onboard().States['Record invite failure'];
    expect(recorder.Next).toBe('Activate tenant');
    expect(recorder.Parameters).toEqual({ 'request.$': '$.request', 'executionArn.$': '$.executionArn', stateName: 'Record invite failure', 'inviteError.$': '$.inviteError' });
    expect(recorder.Resource).toEqual(expect.stringMatching(/^arn:aws:lambda:.*:function:.*invite-tenant-admin/i));
    expect(recorder.Resource).toBe(onboard().States['Invite tenant admin'].Resource);
    // Only a failure to record it (the registry, the lease) goes where every step's failure goes.
    expect(recorder.Catch?.at(-1)?.Next).toBe('Failed at Record invite failure');
  });
});

describe('the Cognito steps\' failures (Invite tenant admin, Revoke tenant identities)', () => {
  type Task = State & { Retry?: Array<{ ErrorEquals: string[] }> };
  const retried = (d: Definition, step: string, name: string) => ((d as unknown as { States: Record<string, Task> }).States[step].Retry ?? []).some((r) => r.ErrorEquals.includes(name) || r.ErrorEquals.includes('States.ALL'));
  const cases: Array<[WorkflowName, string]> = [['onboard', 'Invite tenant admin'], ['offboard', 'Revoke tenant identities']];

  it.each(cases)('%s / %s: a Retry matches the names a retryable Cognito failure is thrown under (retryableCognitoError); none matches CognitoCallError, a refusal', async (machine, step) => {
    const { CognitoCallError, retryableCognitoError } = await import('../../lambdas/identity/cognito-tenant-users.js');
    const thrown = [
      Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $fault: 'client', $metadata: { httpStatusCode: 429 } }),
      Object.assign(new Error('Internal error'), { name: 'InternalErrorException', $fault: 'server', $metadata: { httpStatusCode: 500 } }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    ].map((cause) => retryableCognitoError(new CognitoCallError('ListUsers', cause))!.name);
    expect(thrown).toEqual(['TooManyRequestsException', 'InternalErrorException', 'ServiceUnavailable']);
    for (const name of thrown) expect(retried(workflows.definitions[machine], step, name), name).toBe(true);
    expect(retried(workflows.definitions[machine], step, new CognitoCallError('ListUsers', new Error('denied')).name)).toBe(false);
  });
});

describe('account vending', () => {
  it('requests the compute quotas as soon as the account is reachable, before the network is allocated', () => {
    const d = workflows.definitions.onboard as unknown as { States: Record<string, State & { Next?: string }> };
    expect(d.States['Verify provisioning access'].Next).toBe('Request compute quotas');
    expect(d.States['Request compute quotas'].Next).toBe('Allocate network');
  });
});

/**
 * The rolling upgrade with one tenant whose change set would replace its database. Each tenant of
 * the upgrade runs the synthesized Distributed Map's ItemProcessor as its own child execution
 * (aws-local-stepfunctions, the real handlers). AWS is aws-sdk-client-mock, not moto: moto's
 * DescribeChangeSet reports no Replacement, Details or PolicyAction (moto/cloudformation/models.py
 * ChangeSet.diff), which is all the guard decides on. The registry is the in-memory stand-in of
 * the unit tests (the same conditional-write rules). Here rather than in a file of its own: it
 * reuses this file's synthesized app (a synth costs 20-50 s on this machine).
 */
const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const bus = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const apigw = mockStrict(APIGatewayClient, 'apigateway', APIGatewayServiceException);
/** The tenant account's zones (Deploy blueprint chooses the VPC's). */
const zones = mockStrict(EC2Client, 'ec2', EC2ServiceException);
/** The blueprint catalog (Deploy blueprint reads the template it deploys). */
const templates = mockStrict(S3Client, 's3', S3ServiceException);
/** The tenant account's DB instances (Check rebuilt stack looks for the failover runbook's restored one in the DR region). */
const rds = mockStrict(RDSClient, 'rds', RDSServiceException);
/** The platform account's IAM: each tenant's namespace deployer, which Deploy blueprint makes ready before the namespace stack's update. */
const iam = mockStrict(IAMClient, 'iam', IAMServiceException);

let item: Definition;
beforeAll(() => {
  // The ItemProcessor as a state machine of its own (its ProcessorConfig says DISTRIBUTED/STANDARD: each item is a child execution).
  const { ProcessorConfig: _config, ...processor } = (workflows.definitions.upgrade.States['Upgrade each tenant'] as unknown as { ItemProcessor: Definition & { ProcessorConfig?: unknown } }).ItemProcessor;
  item = processor;
});

const stackOf = (name: string, tags = ownedTags(name.split('-')[1])): Stack => ({
  StackName: name, StackId: `arn:aws:cloudformation:us-east-1:333333333333:stack/${name}/1`, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(),
  Parameters: [{ ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'true' }], Tags: tags,
  Outputs: [{ OutputKey: 'BlueprintVersion', OutputValue: '2.0.0' }],
});

/** The change sets ExecuteChangeSet was sent for (`<stack>/<change set>`), this test's. */
const executed = new Set<string>();
/** DescribeChangeSet of a created change set with `Changes`: AVAILABLE, EXECUTE_COMPLETE once executed (as CloudFormation answers). */
const changeSetAnswer = (Changes: unknown[]) => (input: { StackName?: string; ChangeSetName?: string }) =>
  ({ Status: 'CREATE_COMPLETE', ExecutionStatus: executed.has(`${input.StackName}/${input.ChangeSetName}`) ? 'EXECUTE_COMPLETE' : 'AVAILABLE', Changes });

beforeEach(() => {
  setLifecycleEnv();
  useNamespaceDeployerScope();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, sts, bus, apigw, zones, rds, iam]) m.reset();
  iam.on(GetRoleCommand).callsFake((input: { RoleName?: string }) => namespaceDeployerRole(input.RoleName!.replace(/^tessera-|-namespace-deployer$/g, '')));
  iam.on(PutRolePolicyCommand).resolves({});
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => {
    throw new DBInstanceNotFoundFault({ message: `DBInstance ${input.DBInstanceIdentifier} not found.`, $metadata: { httpStatusCode: 404 } });
  });
  zones.on(DescribeAvailabilityZonesCommand).resolves(ACCOUNT_ZONES);
  // the tenants' standing stacks' subnets (no zones recorded: Deploy blueprint reads them from the stack)
  cfn.on(ListStackResourcesCommand).resolves(standingSubnets().resources);
  zones.on(DescribeSubnetsCommand).resolves(standingSubnets().subnets);
  templates.reset();
  templates.on(GetObjectCommand).resolves(blueprintObject());
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  apigw.on(GetUsagePlansCommand).resolves({ items: [{ id: 'plan-starter', name: 'tessera-starter' }] });
  // Any other stack (the failover runbook's tessera-<id>-restored among them) does not exist, as CloudFormation answers.
  cfn.on(DescribeStacksCommand).callsFake((input: { StackName?: string }) => {
    throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), { name: 'ValidationError' });
  });
  for (const id of ['acme', 'hooli']) {
    records.set(id, tenant({ tenantId: id, status: 'ACTIVE', blueprintVersion: '1.0.0', requestId: `req-${id}-0001`, usageKey: { id: `key-${id}`, value: 'v', plan: 'plan-starter' } }));
    cfn.on(DescribeStacksCommand, { StackName: `tessera-${id}` }).resolves({ Stacks: [stackOf(`tessera-${id}`, ownedTags(id, `req-${id}-0001`))] });
    cfn.on(DescribeStacksCommand, { StackName: `tessera-${id}-namespace` }).resolves({ Stacks: [stackOf(`tessera-${id}-namespace`, ownedTags(id, `req-${id}-0001`))] });
  }
  // The account baseline is already newer than the upgrade: nothing to do there.
  cfn.on(DescribeStacksCommand, { StackName: 'tessera-account-baseline' }).resolves({ Stacks: [{
    StackName: 'tessera-account-baseline', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(),
    Tags: [{ Key: 'tessera:component', Value: 'account-baseline' }, { Key: 'tessera:blueprint-version', Value: '9.0.0' }],
  }] });
  cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
  cfn.on(DeleteChangeSetCommand).resolves({});
  // As CloudFormation: a change set executed answers EXECUTE_COMPLETE from then on (the mocked update completes at once);
  // Check blueprint waits for it before it takes the stack's status for its update (executed-change-set.ts).
  executed.clear();
  cfn.on(ExecuteChangeSetCommand).callsFake((input: { StackName?: string; ChangeSetName?: string }) => {
    executed.add(`${input.StackName}/${input.ChangeSetName}`);
    return {};
  });
  // Version 2.0.0 replaces acme's database (say, its instance was renamed in acme's tier); hooli's change is in place.
  cfn.on(DescribeChangeSetCommand).callsFake(changeSetAnswer([]));
  cfn.on(DescribeChangeSetCommand, { StackName: 'tessera-acme' }).callsFake(changeSetAnswer([
    { Type: 'Resource', ResourceChange: { Action: 'Modify', LogicalResourceId: 'Database', ResourceType: 'AWS::RDS::DBInstance', Replacement: 'True', PhysicalResourceId: 'tessera-acme' } },
  ]));
  cfn.on(DescribeChangeSetCommand, { StackName: 'tessera-hooli' }).callsFake(changeSetAnswer([
    { Type: 'Resource', ResourceChange: { Action: 'Modify', LogicalResourceId: 'Database', ResourceType: 'AWS::RDS::DBInstance', Replacement: 'False' } },
  ]));
});

const itemOf = (tenantId: string) => ({
  request: { tenantId, requestId: `upgrade-7-${tenantId}`, name: 'T', tier: 'starter', adminEmail: `admin@${tenantId}.example.com` },
  change: { tier: 'starter', blueprintVersion: '2.0.0' },
});

describe('a rolling upgrade with one tenant whose change set would replace its database', () => {
  it('upgrades the others; the refused tenant stays on its version, is recorded, and its child execution does not fail (the 10% tolerance is not spent)', async () => {
    // WHEN each tenant's child execution runs the synthesized item processor
    const [acme, hooli] = await Promise.all(['acme', 'hooli'].map((id) => workflows.run(item, itemOf(id), { waitMs: 1 })));

    // THEN hooli is upgraded
    expect(hooli.status).toBe('SUCCEEDED');
    expect(records.get('hooli')).toMatchObject({ status: 'ACTIVE', blueprintVersion: '2.0.0' });
    expect(records.get('hooli')!.lease).toBeUndefined();
    expect(cfn.commandCalls(ExecuteChangeSetCommand).map((c) => c.args[0].input.StackName).sort()).toEqual(['tessera-hooli', 'tessera-hooli-namespace']);

    // AND acme's child SUCCEEDS as refused: Step Functions counts only failed, timed-out and aborted children against ToleratedFailurePercentage
    expect(acme.status).toBe('SUCCEEDED');
    expect(acme.states).toEqual(expect.arrayContaining(['Refused at Deploy blueprint', 'Record refusal', 'Refused, left on its version']));
    expect(acme.output).toMatchObject({ tenantId: 'acme', refused: true, refusal: { changeSetRefused: true, refusedChanges: [{ logicalId: 'Database', type: 'AWS::RDS::DBInstance', replacement: 'True' }] } });
    const record = records.get('acme')!;
    expect(record).toMatchObject({ status: 'ACTIVE', blueprintVersion: '1.0.0', failure: { kind: 'upgrade', step: 'Deploy blueprint', reason: expect.stringContaining('Database (AWS::RDS::DBInstance)') } });
    expect(record.lease).toBeUndefined();
    expect(record.changeSetRefusal).toMatchObject({ kind: 'upgrade', blueprintVersion: '2.0.0', resources: [{ logicalId: 'Database' }] });
    expect(cfn.commandCalls(DeleteChangeSetCommand).map((c) => c.args[0].input.StackName)).toEqual(['tessera-acme']);
    const failed = bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]).filter((e) => e.DetailType === 'Tenant Lifecycle Failed');
    expect(failed.map((e) => JSON.parse(e.Detail!))).toEqual([expect.objectContaining({ tenantId: 'acme', kind: 'upgrade', changeSetRefused: true })]);

    // AND the upgrade's summary (from the map's result files) lists acme as refused, not failed
    const { summarize } = await import('../../lambdas/lifecycle/summarize-upgrade.js');
    const children = [acme, hooli].map((r, i) => ({ Status: r.status, Input: JSON.stringify(itemOf(['acme', 'hooli'][i])), Output: JSON.stringify(r.output) }));
    expect(summarize(children, { upgraded: 0, refused: 0, skipped: 0, failed: 0, refusals: [], skips: [], failures: [] })).toMatchObject({
      upgraded: 1, refused: 1, failed: 0, refusals: [{ tenantId: 'acme', resources: [expect.objectContaining({ logicalId: 'Database' })] }],
    });
  }, 30_000);
});

/**
 * The cache's first replica and its failover (lambdas/lifecycle/cache-failover-interim.ts) through the synthesized item
 * processor of a rolling upgrade (the same deployAndWait as every change): Deploy blueprint answers `interim`, the
 * workflow waits for that update, Check blueprint records it, and the Choice runs Deploy blueprint again for the target.
 */
describe('an upgrade that gives a tenant\'s single-node cache its first replica and turns its failover on', () => {
  it('runs Deploy blueprint twice: the interim template (failover off), then, once it is complete, the target; the child SUCCEEDS with the interim recorded complete', async () => {
    templates.on(GetObjectCommand, { Key: 'blueprints/1.0.0/starter.template.json' }).resolves(blueprintObject(undefined, undefined, { cacheNodes: 1, cacheAutomaticFailover: false }));
    templates.on(GetObjectCommand, { Key: 'blueprints/2.0.0/starter.template.json' }).resolves(blueprintObject(undefined, undefined, { cacheNodes: 2, cacheAutomaticFailover: true }));
    templates.on(PutObjectCommand).resolves({});

    const hooli = await workflows.run(item, itemOf('hooli'), { waitMs: 1 });

    expect(hooli.status).toBe('SUCCEEDED');
    expect(hooli.states.filter((s) => s === 'Deploy blueprint')).toHaveLength(2);
    const url = (key: string) => `https://tessera-blueprints.s3.us-east-1.amazonaws.com/${key}`;
    expect(cfn.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input).filter((i) => i.StackName === 'tessera-hooli').map((i) => i.TemplateURL)).toEqual([
      url('blueprints/2.0.0/interim/starter.cache-failover-off.template.json'), url('blueprints/2.0.0/starter.template.json'),
    ]);
    expect(templates.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['blueprints/2.0.0/interim/starter.cache-failover-off.template.json']);
    const record = records.get('hooli')!;
    expect(record).toMatchObject({ status: 'ACTIVE', blueprintVersion: '2.0.0' });
    expect(record.executions.at(-1)).toMatchObject({ kind: 'upgrade', status: 'SUCCEEDED', interimDeploy: { what: 'cache-failover-off', blueprintVersion: '2.0.0', completedAt: expect.any(String) } });
  }, 30_000);
});

/**
 * *Check rebuilt stack* (check-rebuilt-stack.ts) comes before the lease-taking *Begin change* / *Begin offboarding*: it
 * reads the tenant's account, which those may not (test/isolation/lifecycle-role-grants.test.ts), and a rebuilt tenant
 * is refused before anything is done. In a rolling upgrade its run is skipped there (the child SUCCEEDS with `skipped`).
 */
describe('Check rebuilt stack, first in the offboarding, the change and each upgrade run', () => {
  type Defn = { StartAt: string; States: Record<string, State & { Next?: string; Default?: string; Choices?: Array<{ Next: string }>; Parameters?: Record<string, unknown>; ResultPath?: string; Resource?: string }> };
  it('runs right after the start, before Begin offboarding or Begin change, its failure caught into Record failure', async () => {
    const { FIRST_STEPS, OFFBOARDING_FIRST_STEP, UNTOUCHED_OFFBOARDING_STEPS } = await import('../../lambdas/lifecycle/lease.js');
    const offboard = workflows.definitions.offboard as unknown as Defn;
    expect(offboard.States[offboard.StartAt].Next).toBe('Check rebuilt stack');
    // The step the admin API's lease write records for an offboarding it starts (lease.ts): the one it starts at, then Begin offboarding.
    expect(OFFBOARDING_FIRST_STEP).toBe(offboard.States[offboard.StartAt].Next);
    expect([...UNTOUCHED_OFFBOARDING_STEPS]).toEqual([OFFBOARDING_FIRST_STEP, offboard.States[OFFBOARDING_FIRST_STEP].Next]);
    expect(offboard.States['Check rebuilt stack']).toMatchObject({ Next: 'Begin offboarding', ResultPath: '$.rebuiltCheck', Parameters: { kind: 'offboard' } });
    expect(offboard.States['Check rebuilt stack'].Resource).toMatch(/:function:check-rebuilt-stack$/);
    expect(offboard.States['Begin offboarding'].Next).toBe('Revoke tenant identities');
    const change = workflows.definitions.change as unknown as Defn;
    expect(change.States[change.StartAt].Next).toBe('Check rebuilt stack');
    // The step the admin API's lease write records for each operation it starts: the workflow's first Task state.
    const status = workflows.definitions.status as unknown as Defn;
    expect(FIRST_STEPS).toEqual({ change: change.States[change.StartAt].Next, suspend: status.States[status.StartAt].Next, resume: status.States[status.StartAt].Next, offboard: offboard.States[offboard.StartAt].Next });
    expect(status.States[status.States[status.StartAt].Next!].Resource).toMatch(/:function:set-status$/);
    expect(change.States['Check rebuilt stack']).toMatchObject({ Next: 'Begin change', Parameters: { kind: 'change', 'change.$': '$.change' } });
    for (const d of [offboard, change]) {
      const caughtAt = (d.States['Check rebuilt stack'] as unknown as { Catch: Array<{ Next: string }> }).Catch.at(-1)!.Next;
      expect(d.States[caughtAt].Next).toBe('Record failure');
    }
    const upgrade = item as unknown as Defn;
    expect(upgrade.States[upgrade.StartAt].Next).toBe('Check rebuilt stack');
    expect(upgrade.States['Check rebuilt stack']).toMatchObject({ Next: 'Rebuilt, skipped?', Parameters: { kind: 'upgrade' } });
    expect(upgrade.States['Rebuilt, skipped?']).toMatchObject({ Choices: [{ Next: 'Rebuilt skip recorded' }], Default: 'Begin change' });
  });

  it('a rolling upgrade skips a tenant rebuilt in its DR region: no lease, nothing deployed, history SKIPPED, the child SUCCEEDED', async () => {
    // GIVEN acme recorded with a DR region, where the failover runbook's stack tessera-acme answers (the stub ignores the region)
    records.set('acme', { ...records.get('acme')!, accountId: '333333333333', disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', stackId: 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/1', status: 'ACTIVE', updatedAt: '2026-12-02T00:00:00.000Z' } });
    // WHEN its run of the upgrade executes the synthesized item processor
    const run = await workflows.run(item, itemOf('acme'), { waitMs: 1 });
    // THEN it stops at Check rebuilt stack, before Begin change, skipped with the reason naming the rebuilt stack
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual(expect.arrayContaining(['Check rebuilt stack', 'Rebuilt, skipped?', 'Rebuilt skip recorded']));
    expect(run.states).not.toContain('Begin change');
    expect(run.output).toEqual({ tenantId: 'acme', skipped: true, reason: expect.stringContaining('stack tessera-acme in us-west-2 is UPDATE_COMPLETE, and the tenant runs from it') });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    const record = records.get('acme')!;
    expect(record).toMatchObject({ status: 'ACTIVE', blueprintVersion: '1.0.0' });
    expect(record.lease).toBeUndefined();
    expect(record.executions.at(-1)).toMatchObject({ kind: 'upgrade', status: 'SKIPPED', reason: run.output.reason });
    expect(bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].DetailType)).not.toContain('Tenant Lifecycle Failed');
  });
});

/**
 * A tenant changed while its run of the upgrade waits for the lease (found by the hostile lc, s12):
 * the run queues behind the running operation (TenantBusy, retried) and then decides on what that
 * operation left. A tenant moved to another tier, or offboarded, is skipped: no stack update, its
 * history SKIPPED with the reason, the child SUCCEEDED with `skipped` (not counted against the
 * tolerance), and the upgrade's summary lists it apart.
 */
describe('a rolling upgrade\'s run that waits for the lease behind another operation', () => {
  const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
  const changeArn = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:change-acme-1';
  const listedItem = (tenantId: string) => ({ ...itemOf(tenantId), change: { tier: 'starter', blueprintVersion: '2.0.0', listedVersion: '1.0.0' } });
  /** acme held by a running operation that, by the time the run asks again, has left `after`. */
  const heldUntil = (kind: 'change' | 'offboard', after: Partial<ReturnType<typeof tenant>>) => {
    records.set('acme', { ...records.get('acme')!, status: kind === 'change' ? 'UPDATING' : 'OFFBOARDING', lease: { kind, executionArn: changeArn, requestId: 'chg-1', acquiredAt: '2026-12-01T00:00:00.000Z', previousStatus: 'ACTIVE' } });
    sfn.reset();
    sfn.on(DescribeExecutionCommand).callsFake(() => {
      // the operation ends while this run waits: its last write releases the lease
      const { lease: _held, ...rest } = records.get('acme')!;
      records.set('acme', { ...rest, ...after, updatedAt: new Date().toISOString() });
      return { status: 'RUNNING' };
    });
  };

  it('behind a tier change to professional: skipped once the change ends, nothing deployed, history SKIPPED', async () => {
    heldUntil('change', { status: 'ACTIVE', tier: 'professional' });
    const run = await workflows.run(item, listedItem('acme'), { waitMs: 1 });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ tenantId: 'acme', skipped: true, reason: expect.stringMatching(/^tenant "acme" is on tier professional since the upgrade of tier starter to 2.0.0 listed it/) });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    expect(records.get('acme')).toMatchObject({ tier: 'professional', status: 'ACTIVE', blueprintVersion: '1.0.0' });
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ kind: 'upgrade', requestId: 'upgrade-7-acme', status: 'SKIPPED', reason: run.output.reason });
    expect(bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].DetailType)).not.toContain('Tenant Lifecycle Failed');
  });

  it('behind a change to a newer version (3.0.0), or to the upgrade\'s own: skipped, not taken back to 2.0.0', async () => {
    heldUntil('change', { status: 'ACTIVE', blueprintVersion: '3.0.0' });
    const newer = await workflows.run(item, listedItem('acme'), { waitMs: 1 });
    expect(newer.output).toMatchObject({ skipped: true, reason: expect.stringContaining('is on blueprint version 3.0.0 since the upgrade of tier starter to 2.0.0 listed it on 1.0.0') });
    records.set('acme', { ...records.get('acme')!, blueprintVersion: '1.0.0' });
    heldUntil('change', { status: 'ACTIVE', blueprintVersion: '2.0.0' });
    const same = await workflows.run(item, listedItem('acme'), { waitMs: 1 });
    expect(same.output).toMatchObject({ skipped: true, reason: expect.stringContaining('is already on blueprint version 2.0.0') });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    expect(records.get('acme')!.blueprintVersion).toBe('2.0.0');
  });

  // lcleft (s16): two upgrades, the older one's run late, its item written before listedVersion existed (itemOf: no listedVersion).
  it('an item without listedVersion, behind an upgrade to a newer version (3.0.0): skipped, not taken back to 2.0.0', async () => {
    heldUntil('change', { status: 'ACTIVE', blueprintVersion: '3.0.0' });
    const late = await workflows.run(item, itemOf('acme'), { waitMs: 1 });
    expect(late.status).toBe('SUCCEEDED');
    expect(late.output).toMatchObject({ tenantId: 'acme', skipped: true, reason: expect.stringContaining('is on blueprint version 3.0.0, newer than 2.0.0') });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', blueprintVersion: '3.0.0' });
    expect(records.get('acme')!.lease).toBeUndefined();
  });

  it('behind an offboarding: skipped at once (it does not wait for the offboarding), and summarized as skipped beside an upgraded tenant', async () => {
    heldUntil('offboard', { status: 'OFFBOARDED' });
    const [acme, hooli] = await Promise.all(['acme', 'hooli'].map((id) => workflows.run(item, listedItem(id), { waitMs: 1 })));
    expect(acme.status).toBe('SUCCEEDED');
    expect(acme.output).toMatchObject({ tenantId: 'acme', skipped: true, reason: expect.stringMatching(/^tenant "acme" is OFFBOARDING; the upgrade of tier starter to 2\.0\.0 leaves it as it is/) });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    expect(hooli.status).toBe('SUCCEEDED');
    const { summarize } = await import('../../lambdas/lifecycle/summarize-upgrade.js');
    const children = [acme, hooli].map((r, i) => ({ Status: r.status, Input: JSON.stringify(listedItem(['acme', 'hooli'][i])), Output: JSON.stringify(r.output) }));
    expect(summarize(children, { upgraded: 0, refused: 0, skipped: 0, failed: 0, refusals: [], skips: [], failures: [] })).toMatchObject({
      upgraded: 1, refused: 0, skipped: 1, failed: 0, skips: [{ tenantId: 'acme', reason: acme.output.reason }],
    });
  });
});

/**
 * lcleft (s16): a tenant's operation that took effect (its completing write made, history SUCCEEDED)
 * and whose announcement then failed ended its execution FAILED in Step Functions while the registry
 * said SUCCEEDED: an upgrade counted the upgraded tenant as failed against its tolerance, and
 * `--watch` said "failed" of an ACTIVE tenant. Now the execution ends SUCCEEDED, as recorded, in a
 * state that names what happened to the announcement.
 */
describe('an operation that took effect and whose announcement failed after it', () => {
  const changed = (e: { DetailType?: string }) => e.DetailType === 'Tenant Changed';
  it('ends the child SUCCEEDED (Took effect, announcement owed), history SUCCEEDED naming the owed announcement, counted upgraded; sent by Record failure: Took effect, announced late', async () => {
    // GIVEN the bus refuses Tenant Changed (not a retryable error: Finish change fails at once)
    bus.on(PutEventsCommand).callsFake((input: { Entries: Array<{ DetailType?: string }> }) => {
      if (changed(input.Entries[0])) throw Object.assign(new Error('not authorized to perform events:PutEvents'), { name: 'AccessDeniedException' });
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
    });
    // WHEN hooli's run of the upgrade (an in-place change) completes its write and fails to announce
    const owed = await workflows.run(item, itemOf('hooli'), { waitMs: 1 });
    // THEN (was FAILED at "Upgrade failed")
    expect(owed.status).toBe('SUCCEEDED');
    expect(owed.states).toEqual(expect.arrayContaining(['Finish change', 'Record failure', 'Took effect, announcement owed']));
    expect(owed.states).not.toContain('Upgrade failed');
    const record = records.get('hooli')!;
    expect(record).toMatchObject({ status: 'ACTIVE', blueprintVersion: '2.0.0', owedAnnouncements: [{ detailType: 'Tenant Changed' }] });
    expect(record.executions.at(-1)).toMatchObject({ kind: 'upgrade', status: 'SUCCEEDED', reason: expect.stringContaining('its announcement Tenant Changed was not sent') });
    const { summarize } = await import('../../lambdas/lifecycle/summarize-upgrade.js');
    expect(summarize([{ Status: owed.status, Input: JSON.stringify(itemOf('hooli')), Output: JSON.stringify(owed.output) }], { upgraded: 0, refused: 0, skipped: 0, failed: 0, refusals: [], skips: [], failures: [] }))
      .toMatchObject({ upgraded: 1, failed: 0 });

    // GIVEN acme, whose Tenant Changed the bus refuses once only
    let refusals = 0;
    bus.on(PutEventsCommand).callsFake((input: { Entries: Array<{ DetailType?: string }> }) => {
      if (changed(input.Entries[0]) && refusals++ === 0) throw Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
    });
    cfn.on(DescribeChangeSetCommand, { StackName: 'tessera-acme' }).callsFake(changeSetAnswer([]));
    // WHEN its run completes and Record failure sends the announcement
    const late = await workflows.run(item, itemOf('acme'), { waitMs: 1 });
    // THEN
    expect(late.status).toBe('SUCCEEDED');
    expect(late.states).toEqual(expect.arrayContaining(['Record failure', 'Took effect, announced late']));
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', blueprintVersion: '2.0.0' });
    expect(records.get('acme')!.owedAnnouncements).toBeUndefined();
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ kind: 'upgrade', status: 'SUCCEEDED' });
  }, 30_000);

  it('a suspension whose Tenant Suspended fails after its status write: SUCCEEDED (Took effect, announcement owed), the history SUCCEEDED and the announcement owed; sent by Record status failure: announced late', async () => {
    // GIVEN the bus refuses Tenant Suspended (not retryable)
    const suspended = (e: { DetailType?: string }) => e.DetailType === 'Tenant Suspended';
    bus.on(PutEventsCommand).callsFake((input: { Entries: Array<{ DetailType?: string }> }) => {
      if (suspended(input.Entries[0])) throw Object.assign(new Error('not authorized to perform events:PutEvents'), { name: 'AccessDeniedException' });
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
    });
    // WHEN hooli is suspended
    const suspend = (id: string) => ({ request: { tenantId: id, requestId: `suspend-${id}-1` }, action: 'suspend' });
    const owed = await workflows.run('status', suspend('hooli'), { waitMs: 1 });
    // THEN (hlc4: was FAILED at "Status change failed", the history corrected to FAILED while hooli was SUSPENDED, and
    // Tenant Suspended neither sent nor owed: the registry said the suspension failed, the gateway refused hooli)
    expect(owed.status).toBe('SUCCEEDED');
    expect(owed.states).toEqual(expect.arrayContaining(['Set status', 'Record status failure', 'Took effect, announcement owed']));
    expect(owed.states).not.toContain('Status change failed');
    const record = records.get('hooli')!;
    expect(record).toMatchObject({ status: 'SUSPENDED', owedAnnouncements: [{ detailType: 'Tenant Suspended', detail: { tenantId: 'hooli', previousStatus: 'ACTIVE', status: 'SUSPENDED' } }] });
    expect(record.executions.at(-1)).toMatchObject({ kind: 'suspend', status: 'SUCCEEDED', reason: expect.stringContaining('its announcement Tenant Suspended was not sent') });
    expect(record.lease).toBeUndefined();

    // GIVEN acme, whose Tenant Suspended the bus refuses once only
    let refusals = 0;
    bus.on(PutEventsCommand).callsFake((input: { Entries: Array<{ DetailType?: string }> }) => {
      if (suspended(input.Entries[0]) && refusals++ === 0) throw Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
    });
    // WHEN
    const late = await workflows.run('status', suspend('acme'), { waitMs: 1 });
    // THEN
    expect(late.status).toBe('SUCCEEDED');
    expect(late.states).toEqual(expect.arrayContaining(['Record status failure', 'Took effect, announced late']));
    expect(records.get('acme')).toMatchObject({ status: 'SUSPENDED' });
    expect(records.get('acme')!.owedAnnouncements).toBeUndefined();
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ kind: 'suspend', status: 'SUCCEEDED' });
    expect(bus.commandCalls(PutEventsCommand).filter((c) => c.args[0].input.Entries![0].DetailType === 'Tenant Lifecycle Failed')).toHaveLength(0);
  }, 30_000);

  it('in every workflow whose operation announces: Record failure chooses, and anything else still fails the execution', () => {
    for (const [name, fail] of [['onboard', 'Onboard failed'], ['change', 'Change failed'], ['offboard', 'Offboard failed']] as const) {
      const states = workflows.definitions[name].States as unknown as Record<string, { Type: string; Next?: string; Default?: string; Choices?: Array<{ Next: string }> }>;
      expect(states['Record failure'].Next).toBe('Took effect?');
      expect(states['Took effect?']).toMatchObject({ Type: 'Choice', Default: fail });
      expect(states['Took effect?'].Choices!.map((c) => c.Next)).toEqual(['Took effect, announced late', 'Took effect, announcement owed']);
      expect(states[fail].Type).toBe('Fail');
    }
  });
});

/**
 * A failure recorder that fails itself (its registry write throttled for good, its Lambda timed out): the execution's error
 * and cause were the recorder's, so End stopped execution recorded "execution FAILED: States.Timeout at "Check account"" and
 * the step's own error (an account that Organizations refused, naming the reason and the fix) was in no record.
 */
describe('a failure recorder that fails itself', () => {
  const failing = (name: string, message: string) => async () => {
    throw Object.assign(new Error(message), { name });
  };
  afterEach(() => {
    workflows.wrap = undefined;
  });

  it.each([
    ['change', 'check-rebuilt-stack', { request: { tenantId: 'acme', requestId: 'change-acme-1' }, change: { tier: 'business' } }, 'Change failed, not recorded'],
    ['status', 'set-status', { request: { tenantId: 'acme', requestId: 'suspend-acme-1' }, action: 'suspend' }, 'Status change failed, not recorded'],
  ] as const)('the %s workflow fails with the step\'s error, the recorder\'s beside it in the cause', async (workflow, step, input, failState) => {
    // GIVEN the step fails (a terminal error), and so does the failure recorder
    workflows.wrap = (name, handler) => (name === step ? failing('AccountCreationFailed', 'EMAIL_ALREADY_EXISTS: the root email is taken')
      : name === 'record-failure' ? failing('ProvisionedThroughputExceededException', 'registry write throttled') : handler);
    // WHEN
    const run = await workflows.run(workflow, input, { waitMs: 1 });
    // THEN the execution fails in the Fail state that says so, with the step's error
    expect(run.status).toBe('FAILED');
    expect(run.states.at(-1)).toBe(failState);
    expect(run.error?.error).toBe('AccountCreationFailed');
    // AND its cause carries both errors, as End stopped execution reads them
    const { failedRecorderCause } = await import('../../lambdas/lifecycle/stopped-reason.js');
    expect(failedRecorderCause(run.error?.cause)).toEqual({
      failed: { Error: 'AccountCreationFailed', Cause: expect.stringContaining('EMAIL_ALREADY_EXISTS: the root email is taken') },
      recordFailure: { Error: 'ProvisionedThroughputExceededException', Cause: expect.stringContaining('registry write throttled') },
    });
  }, 30_000);
});

/**
 * The cause of a `… failed, not recorded` Fail state carries both errors as JSON, and Step Functions' execution cause is at
 * most 32,768 characters (ExecutionFailedEventDetails): two long errors (a step's message naming many resources, a
 * recorder's echoing a large answer) made it longer. Each lifecycle step's error is cut (lambdas/shared/error-size.ts).
 */
describe('a failure not recorded, with long errors', () => {
  afterEach(() => {
    workflows.wrap = undefined;
  });

  it('ends with the step\'s error and a cause within 32,768 characters, each message cut with a marker saying how much', async () => {
    // GIVEN the step and the failure recorder both fail, as lifecycle steps, with messages of 40,000 characters
    const { lifecycleHandler } = await import('../../lambdas/shared/handler.js');
    const failing = (step: string, name: string, text: string) => lifecycleHandler(step, async () => {
      // (no quotes: the local runner's States.JsonToString does not escape them; the unit test of error-size.ts has them)
      throw Object.assign(new Error(`${text} ${'stack '.repeat(7_000)}`.slice(0, 40_000)), { name });
    }, { trackStep: false });
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    workflows.wrap = (name, handler) => (name === 'set-status' ? failing('Set status', 'TenantRebuiltInDrRegion', 'tenant acme was rebuilt:')
      : name === 'record-failure' ? failing('Record failure', 'ProvisionedThroughputExceededException', 'registry write throttled:') : handler);
    // WHEN
    const run = await workflows.run('status', { request: { tenantId: 'acme', requestId: 'suspend-acme-1' }, action: 'suspend' }, { waitMs: 1 });
    write.mockRestore();
    // THEN the execution fails with the step's error, its cause within Step Functions' limit (was: over 80,000 characters)
    expect(run.status).toBe('FAILED');
    expect(run.states.at(-1)).toBe('Status change failed, not recorded');
    expect(run.error?.error).toBe('TenantRebuiltInDrRegion');
    expect(run.error!.cause!.length).toBeLessThanOrEqual(32_768);
    // AND End stopped execution still reads both errors from it, each cut with its marker
    const { failedRecorderCause } = await import('../../lambdas/lifecycle/stopped-reason.js');
    const both = failedRecorderCause(run.error?.cause);
    expect(both).toEqual({
      failed: { Error: 'TenantRebuiltInDrRegion', Cause: expect.stringMatching(/^tenant acme was rebuilt:[\s\S]*… \[\d+ of 40000 characters cut\]/) },
      recordFailure: { Error: 'ProvisionedThroughputExceededException', Cause: expect.stringMatching(/^registry write throttled:[\s\S]*… \[\d+ of 40000 characters cut\]/) },
    });
  }, 30_000);
});

describe('the change-set guard in the change and upgrade state machines', () => {
  type Task = State & { Next?: string; Parameters?: Record<string, unknown>; Retry?: Array<{ ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number }>; Catch?: Array<{ ErrorEquals: string[]; Next: string }> };
  const upgradeItem = () => (workflows.definitions.upgrade.States['Upgrade each tenant'] as unknown as { ItemProcessor: { States: Record<string, Task> } }).ItemProcessor.States;
  const change = () => workflows.definitions.change.States as unknown as Record<string, Task>;

  it('in the upgrade, catches ChangeRefused of the tenant and namespace deploys first, records it, and ends the child execution SUCCEEDED as refused', () => {
    const states = upgradeItem();
    for (const deploy of ['Deploy blueprint', 'Deploy namespace']) {
      expect(states[deploy].Catch![0]).toMatchObject({ ErrorEquals: ['ChangeRefused'], Next: `Refused at ${deploy}` });
      expect(states[deploy].Catch!.at(-1)!.ErrorEquals).toEqual(['States.ALL']);
      expect(states[`Refused at ${deploy}`].Next).toBe('Record refusal');
    }
    expect(states['Record refusal']).toMatchObject({ Parameters: { kind: 'upgrade' }, Next: 'Refusal recorded' });
    expect(states['Refusal recorded'].Next).toBe('Refused, left on its version');
    expect(states['Refused, left on its version'].Type).toBe('Succeed');
    expect(states['Deploy account baseline'].Catch).toHaveLength(1);
  });

  it('in a single change, lets ChangeRefused fail the execution (the admin sees the failure)', () => {
    expect(change()['Deploy blueprint'].Catch!.map((c) => c.ErrorEquals)).toEqual([['States.ALL']]);
    expect(change()['Deploy blueprint'].Parameters).toMatchObject({ kind: 'change', 'change.$': '$.change' });
  });

  it('waits for a change set being created by retrying the deploy step, never in a Lambda', () => {
    const retry = change()['Deploy blueprint'].Retry!.find((r) => r.ErrorEquals.includes('ChangeSetPending'));
    expect(retry).toMatchObject({ IntervalSeconds: 10, MaxAttempts: 15 });
  });

  it('summarizes the upgrade after the map: upgraded, refused and failed tenants from the result files', () => {
    expect((workflows.definitions.upgrade.States['Upgrade each tenant'] as Task).Next).toBe('Summarize upgrade');
    expect(workflows.definitions.upgrade.States['Summarize upgrade']).toMatchObject({ Parameters: { 'results.$': '$.results' }, Next: 'Upgrade finished' });
    // every tenant is done by then: an unreadable summary does not fail the upgrade
    expect((workflows.definitions.upgrade.States['Summarize upgrade'] as Task).Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Summary unavailable' })]);
    // the listing gets the whole execution input (UpgradeRequest, with an optional allowReplacement for the run)
    expect((workflows.definitions.upgrade.States['List tier tenants'] as Task).Parameters).toBeUndefined();
  });
});

describe('the drift state machine', () => {
  type Task = State & { Next?: string; MaxConcurrency?: number; ItemsPath?: string; ItemSelector?: unknown; Catch?: Array<{ ErrorEquals: string[]; Next: string }>; ItemProcessor?: { States: Record<string, Task>; StartAt: string } };
  const drift = () => workflows.definitions.drift.States as unknown as Record<string, Task>;

  it('checks ACTIVE tenants 10 at a time, each a child execution (its own history), polling each detection from a Wait state', () => {
    const map = drift()['Check each tenant'];
    expect(map).toMatchObject({
      Type: 'Map', MaxConcurrency: 10, ItemsPath: '$.tenants.tenants', ItemSelector: { 'tenantId.$': '$$.Map.Item.Value.tenantId' }, ToleratedFailurePercentage: 100,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ResultWriter: { Parameters: { Bucket: `<${platform.workBucket}>`, 'Prefix.$': '$.tenants.resultsPrefix' } },
    });
    // The execution input goes to the listing: {} from the schedule, { tenantId } from POST /admin/drift
    expect(drift()['List active tenants']).toMatchObject({ Parameters: { 'executionName.$': '$$.Execution.Name', 'request.$': '$$.Execution.Input' } });
    const inner = map.ItemProcessor!.States;
    expect(map.ItemProcessor!.StartAt).toBe('Detect drift');
    expect(inner['Detect drift'].Next).toBe('Detections started?');
    // A throttled attempt's detections ride in the state (seeded empty): the next attempt starts only the pending stacks
    expect(map.ItemSelector).toEqual({ 'tenantId.$': '$$.Map.Item.Value.tenantId', detection: { detections: [], attempt: 0 } });
    expect((inner['Detect drift'] as { Parameters?: unknown }).Parameters).toEqual({ 'tenantId.$': '$.tenantId', 'detections.$': '$.detection.detections', 'attempt.$': '$.detection.attempt' });
    expect(inner['Detections started?']).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.detection.pending', IsPresent: true, Next: 'Wait before detecting again' }], Default: 'Wait for drift detection' });
    expect(inner['Wait before detecting again']).toMatchObject({ Type: 'Wait', SecondsPath: '$.detection.waitSeconds', Next: 'Detect drift' });
    expect(inner['Wait for drift detection'].Next).toBe('Check drift');
    expect(inner['Detection finished?'].Type).toBe('Choice');
    // One tenant's failure is recorded (UNKNOWN, with the error) and the others go on.
    for (const t of ['Detect drift', 'Check drift']) expect(inner[t].Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Record drift error' })]);
  });

  it('runs daily from an EventBridge rule with a role that may start only this state machine', () => {
    // The rule lives in the EventRules nested stack: read with its parameters replaced, so that its target names the machine.
    const rules = defaultAppTemplates().platformWithEventRules.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'cron(0 3 * * ? *)' } });
    expect(Object.values(rules)).toHaveLength(1);
    const target = (Object.values(rules)[0] as { Properties: { Targets: Array<{ Arn: { Ref: string }; RoleArn: unknown }> } }).Properties.Targets[0];
    expect(target.Arn.Ref).toMatch(/WorkflowsDrift/);
    // The role's policy lives in the FunctionPolicies nested stack (TenantLifecycle.eventRolePolicies), naming the
    // machine by its name (a reference would make the nested stack wait for the machine, which waits for it).
    const policies = Object.values(defaultAppTemplates().functionPolicies.findResources('AWS::IAM::ManagedPolicy')) as Array<{ Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }>;
    const starting = policies.filter((p) => p.Properties.PolicyDocument.Statement.some((st) => st.Action === 'states:StartExecution' && JSON.stringify(st.Resource).includes(':stateMachine:tessera-drift"')));
    expect(starting).toHaveLength(1);
    expect(starting[0].Properties.PolicyDocument.Statement).toHaveLength(1);
    expect(Object.keys(platform.template.findResources('AWS::IAM::ManagedPolicy', { Properties: { PolicyDocument: { Statement: [{ Action: 'states:StartExecution', Resource: { Ref: target.Arn.Ref } }] } } }))).toHaveLength(0);
  });
});

describe('a drift run over two ACTIVE tenants, one drifted by hand', () => {
  beforeEach(() => {
    for (const id of ['acme', 'hooli']) {
      for (const name of [`tessera-${id}`, `tessera-${id}-namespace`]) cfn.on(DetectStackDriftCommand, { StackName: name }).resolves({ StackDriftDetectionId: `det-${name}` });
    }
    // acme's detection needs a second poll; hooli's is done at once
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: 'IN_SYNC' });
    cfn.on(DescribeStackDriftDetectionStatusCommand, { StackDriftDetectionId: 'det-tessera-acme' })
      .resolvesOnce({ DetectionStatus: 'DETECTION_IN_PROGRESS' })
      .resolves({ DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: 'DRIFTED' });
    cfn.on(DescribeStackResourceDriftsCommand).resolves({ StackResourceDrifts: [] });
    cfn.on(DescribeStackResourceDriftsCommand, { StackName: 'tessera-acme', NextToken: undefined }).resolves({ NextToken: 'p2', StackResourceDrifts: [{
      StackId: 's', LogicalResourceId: 'Database', ResourceType: 'AWS::RDS::DBInstance', PhysicalResourceId: 'tessera-acme', StackResourceDriftStatus: 'MODIFIED', Timestamp: new Date(),
      PropertyDifferences: [{ PropertyPath: '/BackupRetentionPeriod', ExpectedValue: '14', ActualValue: '1', DifferenceType: 'NOT_EQUAL' }],
    }] });
    cfn.on(DescribeStackResourceDriftsCommand, { StackName: 'tessera-acme', NextToken: 'p2' }).resolves({ StackResourceDrifts: [{
      StackId: 's', LogicalResourceId: 'DataBucketPolicy', ResourceType: 'AWS::S3::BucketPolicy', StackResourceDriftStatus: 'DELETED', Timestamp: new Date(),
    }] });
  });

  it('records DRIFTED with the resources and property paths for acme, IN_SYNC for hooli, and emits Tenant Drift Detected for acme only', async () => {
    const run = await workflows.run('drift', {}, { waitMs: 1 });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    expect(records.get('acme')!.drift).toMatchObject({
      status: 'DRIFTED',
      stacks: [{ stack: 'tessera-acme', status: 'DRIFTED', detectionId: 'det-tessera-acme' }, { stack: 'tessera-acme-namespace', status: 'IN_SYNC' }],
      resources: [
        { stack: 'tessera-acme', logicalId: 'Database', type: 'AWS::RDS::DBInstance', status: 'MODIFIED', differences: [{ path: '/BackupRetentionPeriod', type: 'NOT_EQUAL' }] },
        { stack: 'tessera-acme', logicalId: 'DataBucketPolicy', type: 'AWS::S3::BucketPolicy', status: 'DELETED', differences: [] },
      ],
    });
    // Values are not kept (a drifted property may hold a secret)
    expect(JSON.stringify(records.get('acme')!.drift)).not.toContain('"14"');
    expect(records.get('hooli')!.drift).toMatchObject({ status: 'IN_SYNC', resources: [] });
    const events = bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]).filter((e) => e.DetailType === 'Tenant Drift Detected');
    expect(events.map((e) => JSON.parse(e.Detail!))).toEqual([expect.objectContaining({ tenantId: 'acme', driftedCount: 2 })]);
  }, 30_000);

  /**
   * Found by the drift review (s16): a Detect drift retried after throttling ran again on its first input and started
   * DetectStackDrift a second time on the stacks it had already started, adding calls while the account was throttled.
   */
  it('starts each stack\'s detection once when the account throttles: the retry starts only the stack still pending', async () => {
    cfn.on(DetectStackDriftCommand, { StackName: 'tessera-acme-namespace' })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }))
      .resolves({ StackDriftDetectionId: 'det-tessera-acme-namespace' });
    const run = await workflows.run('drift', {}, { waitMs: 1 });
    expect(run.status).toBe('SUCCEEDED');
    const started = cfn.commandCalls(DetectStackDriftCommand).map((c) => c.args[0].input.StackName).filter((n) => n!.startsWith('tessera-acme'));
    expect(started.sort()).toEqual(['tessera-acme', 'tessera-acme-namespace', 'tessera-acme-namespace']);
    expect(records.get('acme')!.drift).toMatchObject({ status: 'DRIFTED', stacks: [{ stack: 'tessera-acme', detectionId: 'det-tessera-acme' }, { stack: 'tessera-acme-namespace', detectionId: 'det-tessera-acme-namespace' }] });
  }, 30_000);

  /** Found in s23: the drift workflow knew only "every ACTIVE tenant"; POST /admin/drift starts it with { tenantId }. */
  it('with { tenantId } as its input (POST /admin/drift), checks that tenant only', async () => {
    const run = await workflows.run('drift', { tenantId: 'acme' }, { waitMs: 1 });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    expect(records.get('acme')!.drift).toMatchObject({ status: 'DRIFTED' });
    expect(records.get('hooli')!.drift).toBeUndefined();
    expect(cfn.commandCalls(DetectStackDriftCommand).map((c) => c.args[0].input.StackName).sort()).toEqual(['tessera-acme', 'tessera-acme-namespace']);
  }, 30_000);

  it('with { tenantId } of a tenant no longer ACTIVE (suspended since the API checked it): checks nothing, and ends', async () => {
    records.set('acme', { ...records.get('acme')!, status: 'SUSPENDED' });
    const run = await workflows.run('drift', { tenantId: 'acme' }, { waitMs: 1 });
    expect(run.status).toBe('SUCCEEDED');
    expect(cfn.commandCalls(DetectStackDriftCommand)).toEqual([]);
    expect(records.get('acme')!.drift).toBeUndefined();
  }, 30_000);

  it('records a tenant whose detection cannot run as UNKNOWN with the error, and checks the others', async () => {
    cfn.on(DetectStackDriftCommand, { StackName: 'tessera-acme' }).rejects(Object.assign(new Error('User is not authorized to perform cloudformation:DetectStackDrift'), { name: 'AccessDenied' }));
    const run = await workflows.run('drift', {}, { waitMs: 1 });
    expect(run.status).toBe('SUCCEEDED');
    expect(records.get('acme')!.drift).toMatchObject({ status: 'UNKNOWN', error: expect.stringContaining('AccessDenied') });
    expect(records.get('hooli')!.drift).toMatchObject({ status: 'IN_SYNC' });
  }, 30_000);
});
