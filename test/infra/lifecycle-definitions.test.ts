import aslValidator from 'asl-validator';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalWorkflows, type WorkflowName } from '../integration/support/local-workflows.js';
import { buildApp, configWith } from '../support/synth.js';

let workflows: LocalWorkflows;
/** The platform stack's template and the work bucket's logical id (LocalWorkflows renders a Ref as `<logicalId>`). */
let platform: { template: Template; workBucket: string; workflowsPolicy: string };
beforeAll(() => {
  workflows = new LocalWorkflows(configWith());
  const built = buildApp(configWith());
  const stack = built.platform;
  platform = {
    template: Template.fromStack(stack),
    workBucket: stack.getLogicalId(built.platform.lifecycle.workBucket.node.defaultChild as never),
    workflowsPolicy: stack.getLogicalId(built.platform.lifecycle.workflows.node.findChild('Policy').node.defaultChild as never),
  };
});

type State = { Type: string; Retry?: Array<{ ErrorEquals: string[] }>; Catch?: Array<{ ErrorEquals: string[] }>; ItemProcessor?: { States: Record<string, State> } };
const states = (d: { States: Record<string, State> }): Array<[string, State]> =>
  Object.entries(d.States).flatMap(([n, s]) => [[n, s] as [string, State], ...(s.ItemProcessor ? states(s.ItemProcessor) : [])]);

describe.each(['onboard', 'change', 'status', 'offboard', 'upgrade'] as WorkflowName[])('the synthesized %s state machine', (name) => {
  it('passes asl-validator', () => {
    const result = aslValidator(workflows.definitions[name], { checkArn: true, checkPaths: true });
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('retries throttling on every task and catches every failure', () => {
    const tasks = states(workflows.definitions[name]).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const [n, s] of tasks) {
      expect(s.Retry?.[0].ErrorEquals, n).toEqual(expect.arrayContaining(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'ConcurrentModificationException']));
      // The failure recorders themselves, and the upgrade's listing (no tenant is touched yet), end the execution as failed.
      if (!/Record (status )?failure|List tier tenants/.test(n)) expect(s.Catch?.[0].ErrorEquals, n).toEqual(['States.ALL']);
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
      .filter(([id]) => id === platform.workflowsPolicy || id.includes('UpgradeDistributedMapPolicy'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
      .filter((st) => [st.Action].flat().some((a) => a.startsWith('s3:')));
    // THEN only the item lists are readable and only results/ writable
    expect(s3Statements).toEqual([
      expect.objectContaining({ Sid: 'UpgradeItems', Action: 's3:GetObject', Resource: objects('/upgrades/*/items.json') }),
      expect.objectContaining({ Sid: 'UpgradeResults', Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'], Resource: objects('/upgrades/*/results/*') }),
    ]);
  });
});

describe('the account baseline', () => {
  const next = (d: { States: Record<string, State & { Next?: string }> }, name: string) => d.States[name]?.Next;
  it('is deployed and checked before the tenant blueprint, in onboarding and in every change', () => {
    const onboard = workflows.definitions.onboard as unknown as { States: Record<string, State & { Next?: string }> };
    expect(next(onboard, 'Allocate network')).toBe('Deploy account baseline');
    expect(next(onboard, 'Deploy account baseline')).toBe('Wait for account baseline');
    expect(next(onboard, 'Account baseline ready')).toBe('Deploy blueprint');
    const change = workflows.definitions.change as unknown as { States: Record<string, State & { Next?: string }> };
    expect(next(change, 'Begin change')).toBe('Deploy account baseline');
    expect(next(change, 'Account baseline ready')).toBe('Deploy blueprint');
    expect(change.States['Deploy account baseline']).toMatchObject({ Parameters: { blueprint: 'baseline' } });
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

describe('account vending', () => {
  it('requests the compute quotas as soon as the account is reachable, before the network is allocated', () => {
    const d = workflows.definitions.onboard as unknown as { States: Record<string, State & { Next?: string }> };
    expect(d.States['Verify provisioning access'].Next).toBe('Request compute quotas');
    expect(d.States['Request compute quotas'].Next).toBe('Allocate network');
  });
});
