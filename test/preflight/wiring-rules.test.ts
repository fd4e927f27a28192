import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBlueprints, TierBlueprints } from '../../lib/preflight/blueprints.js';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { restoredDatabaseParameters } from '../../lib/preflight/run.js';
import { checkServiceRules, SERVICE_RULES, type RuleContext } from '../../lib/preflight/service-rules.js';
import { configWith } from '../support/config-with.js';
import { cachedBlueprints } from './support/cached-blueprints.js';

// How resources are wired to each other where Lambda, SQS, EKS and CloudWatch refuse the create and moto stores it as
// given (lib/preflight/event-source-rules.ts, nodegroup-launch-template-rules.ts, alarm-rules.ts): every stack of every
// tier and the platform stack pass them (the platform's SQS event sources, the shared cluster's node groups with
// launch templates, a dedicated tier's node groups without, the platform's and the tiers' alarms), and a value AWS
// refuses, planted in a copy of a template, fails the rule naming the stack, the resource and the value.
const DR = { platformDisasterRecovery: { region: 'us-west-2' }, tiers: { enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } };
const ACCOUNT = '333333333333';
const RULE_IDS = ['lambda-sqs-event-source', 'sqs-dead-letter-queue-type', 'eks-nodegroup-launch-template', 'cloudwatch-alarm-evaluation-range'];

let dr: LoadedBlueprints;

beforeAll(async () => {
  dr = await cachedBlueprints(configWith(DR));
}, 300_000);

const tierOf = (l: LoadedBlueprints, name: string): TierBlueprints => l.tiers.find((t) => t.tierName === name)!;
const vpcCidrOf = (t: TierBlueprints) => `${t.tier.network.tenantCidrPool.split('/')[0]}/${t.tier.network.tenantVpcPrefixLength}`;
const rule = (id: string) => SERVICE_RULES.find((r) => r.id === id)!;
type Which = 'tenant' | 'failover' | 'platform';

/**
 * The context the preflight gives the rules for tier `name` (lib/preflight/run.ts): the tier blueprint in us-east-1,
 * its failover blueprint in the DR region, the platform stack; `plant` changes a copy of one of them first.
 */
function contextOf(name: string, plant: { on?: Which; change?: (t: CfnTemplate) => void } = {}): RuleContext {
  const t = tierOf(dr, name);
  const copy = (which: Which, template: CfnTemplate) => {
    const c = structuredClone(template);
    if (plant.on === which) plant.change!(c);
    return c;
  };
  const inst = instantiate(copy('tenant', t.tenant), { tenantId: 'acme', account: ACCOUNT, region: 'us-east-1', vpcCidr: vpcCidrOf(t) });
  const alsoDeployed = t.failover
    ? [{ blueprint: `${name}-failover`, inst: instantiate(copy('failover', t.failover), { tenantId: 'acme', account: ACCOUNT, region: 'us-west-2', vpcCidr: vpcCidrOf(t), parameters: restoredDatabaseParameters('acme', ACCOUNT, 'us-west-2', 'aws') }), deployedBefore: [] }]
    : [];
  const platform = instantiate(copy('platform', dr.platform), { tenantId: 'platform', vpcCidr: '10.0.0.0/16', account: dr.config.platformAccountId, region: dr.config.homeRegion, stackName: 'TesseraPlatform', lenient: true });
  return { inst, tierName: name, tier: t.tier, config: dr.config, alsoDeployed, platform };
}
const violationsOf = async (ctx: RuleContext, id: string) => (await checkServiceRules(ctx, [rule(id)]))[0].violations;
/** The properties of resource `id` of `t`, to read and change. */
const propsOf = (t: CfnTemplate, id: string) => t.Resources[id].Properties as any;
const entries = (t: CfnTemplate, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type) as Array<[string, { Properties: any }]>;
/** The platform's SQS event source mapping of the Batch API's queue (the router), and the ids of its queue and function. */
function batchesEventSource(t: CfnTemplate) {
  const [id, esm] = entries(t, 'AWS::Lambda::EventSourceMapping').find(([k]) => k.startsWith('InferenceBatchesQueueSource'))!;
  return { id, esm, queue: esm.Properties.EventSourceArn['Fn::GetAtt'][0] as string, fn: esm.Properties.FunctionName.Ref as string };
}

describe('event source, dead-letter queue, node group and alarm service rules', () => {
  it('are registered, and every stack of every tier and the platform stack pass them', async () => {
    expect(SERVICE_RULES.map((r) => r.id)).toEqual(expect.arrayContaining(RULE_IDS));
    for (const t of dr.tiers) {
      const results = await checkServiceRules(contextOf(t.tierName), RULE_IDS.map(rule));
      for (const r of results) expect(r.violations, `${t.tierName} ${r.rule.id}`).toEqual([]);
    }
    // What they read is there: the platform's SQS event sources (4) with their queues and functions, redrive
    // policies, the shared cluster's node groups with launch templates, the enterprise tier's without.
    const sqsSources = entries(dr.platform, 'AWS::Lambda::EventSourceMapping').filter(([, e]) => dr.platform.Resources[e.Properties.EventSourceArn['Fn::GetAtt']?.[0]]?.Type === 'AWS::SQS::Queue');
    expect(sqsSources.length).toBe(4);
    const { queue, fn } = batchesEventSource(dr.platform);
    expect(dr.platform.Resources[queue].Properties).toMatchObject({ VisibilityTimeout: expect.any(Number), RedrivePolicy: expect.anything() });
    expect(dr.platform.Resources[fn].Properties).toMatchObject({ Timeout: expect.any(Number) });
    expect(entries(dr.platform, 'AWS::EKS::Nodegroup').every(([, n]) => n.Properties.LaunchTemplate)).toBe(true);
    expect(entries(tierOf(dr, 'enterprise').tenant, 'AWS::EKS::Nodegroup').find(([, n]) => n.Properties.DiskSize)).toBeDefined();
    // Applicable for a tier whose own blueprint has no SQS event source or node group (starter): the platform's are read.
    expect(entries(tierOf(dr, 'starter').tenant, 'AWS::Lambda::EventSourceMapping')).toEqual([]);
    expect(entries(tierOf(dr, 'starter').tenant, 'AWS::EKS::Nodegroup')).toEqual([]);
    const applicable = (await checkServiceRules(contextOf('starter'), RULE_IDS.map(rule))).map((r) => [r.rule.id, r.applicable]);
    expect(Object.fromEntries(applicable)).toEqual(Object.fromEntries(RULE_IDS.map((id) => [id, true])));
  });

  it('refuses an SQS event source whose function outlives the queue\'s visibility timeout, and the default 30 s visibility too', async () => {
    const shorter = contextOf('starter', { on: 'platform', change: (t) => { const s = batchesEventSource(t); propsOf(t, s.queue).VisibilityTimeout = 600; } });
    expect(await violationsOf(shorter, 'lambda-sqs-event-source')).toEqual([
      expect.stringMatching(/^TesseraPlatform: InferenceBatchesQueueSource\w+: function InferenceRouterFunction\w+'s Timeout 900 s exceeds queue InferenceBatchesQueue\w+'s VisibilityTimeout 600 s$/),
    ]);
    const byDefault = contextOf('starter', { on: 'platform', change: (t) => { const s = batchesEventSource(t); delete propsOf(t, s.queue).VisibilityTimeout; } });
    expect(await violationsOf(byDefault, 'lambda-sqs-event-source')).toEqual([expect.stringMatching(/Timeout 900 s exceeds queue InferenceBatchesQueue\w+'s VisibilityTimeout 30 s$/)]);
  });

  it('refuses a batch of more than 10 messages without a batching window, and takes one with it', async () => {
    const batch = (window?: number) => contextOf('starter', { on: 'platform', change: (t) => { const s = batchesEventSource(t); s.esm.Properties.BatchSize = 100; if (window !== undefined) s.esm.Properties.MaximumBatchingWindowInSeconds = window; } });
    expect(await violationsOf(batch(), 'lambda-sqs-event-source')).toEqual([
      expect.stringMatching(/^TesseraPlatform: InferenceBatchesQueueSource\w+: BatchSize 100 on queue InferenceBatchesQueue\w+ without MaximumBatchingWindowInSeconds ≥ 1 \(none\)$/),
    ]);
    expect(await violationsOf(batch(0), 'lambda-sqs-event-source')).toEqual([expect.stringMatching(/BatchSize 100 .* \(0\)$/)]);
    expect(await violationsOf(batch(1), 'lambda-sqs-event-source')).toEqual([]);
  });

  it('reads the source queue from EventSourceArn only: a stream source with an SQS on-failure destination is not an SQS source', async () => {
    const ctx = contextOf('starter', { on: 'platform', change: (t) => {
      const [, stream] = entries(t, 'AWS::Lambda::EventSourceMapping').find(([k]) => k.startsWith('CorsOriginsRegistryStream'))!;
      expect(stream.Properties.DestinationConfig.OnFailure.Destination['Fn::GetAtt'][1]).toBe('Arn');
      stream.Properties.BatchSize = 1000; // a stream takes up to 10,000 without a window
    } });
    expect(await violationsOf(ctx, 'lambda-sqs-event-source')).toEqual([]);
  });

  it('refuses a standard queue redriving to a FIFO dead-letter queue, naming both', async () => {
    const ctx = contextOf('starter', { on: 'platform', change: (t) => {
      const { queue } = batchesEventSource(t);
      const dlq = propsOf(t, queue).RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
      propsOf(t, dlq).FifoQueue = true;
    } });
    expect(await violationsOf(ctx, 'sqs-dead-letter-queue-type')).toEqual([
      expect.stringMatching(/^TesseraPlatform: InferenceBatchesQueue\w+ \(standard\) redrives to InferenceBatchesDeadLettersDlq\w+ \(FIFO\): a queue's dead-letter queue is of its own type$/),
    ]);
  });

  it('refuses DiskSize beside a launch template (the shared cluster\'s GPU nodes) and an instance type set in both', async () => {
    const ctx = contextOf('starter', { on: 'platform', change: (t) => {
      const [, gpu] = entries(t, 'AWS::EKS::Nodegroup').find(([k]) => k.includes('GpuNodes'))!;
      gpu.Properties.DiskSize = 200;
      const lt = gpu.Properties.LaunchTemplate.Id.Ref;
      propsOf(t, lt).LaunchTemplateData.InstanceType = 'g5.2xlarge';
      propsOf(t, lt).LaunchTemplateData.IamInstanceProfile = { Name: 'nodes' };
    } });
    expect(await violationsOf(ctx, 'eks-nodegroup-launch-template')).toEqual([
      expect.stringMatching(/^TesseraPlatform: SharedComputeKubernetesGpuNodesNodegroup\w+: DiskSize 200 beside a LaunchTemplate/),
      expect.stringMatching(/^TesseraPlatform: SharedComputeKubernetesGpuNodesNodegroup\w+: InstanceTypes beside launch template SharedComputeKubernetesGpuNodesLaunchTemplate\w+'s InstanceType g5\.2xlarge/),
      expect.stringMatching(/launch template SharedComputeKubernetesGpuNodesLaunchTemplate\w+ sets IamInstanceProfile/),
    ]);
  });

  it('takes DiskSize on a node group without a launch template (a dedicated tier\'s GPU nodes), in the tier and its failover stack', async () => {
    const ctx = contextOf('enterprise');
    expect(await violationsOf(ctx, 'eks-nodegroup-launch-template')).toEqual([]);
    const planted = contextOf('enterprise', { on: 'failover', change: (t) => {
      const [, gpu] = entries(t, 'AWS::EKS::Nodegroup').find(([, n]) => n.Properties.DiskSize)!;
      gpu.Properties.RemoteAccess = { Ec2SshKey: 'ops' };
      gpu.Properties.LaunchTemplate = { Id: 'lt-0123456789abcdef0' };
    } });
    expect(await violationsOf(planted, 'eks-nodegroup-launch-template')).toEqual([
      expect.stringMatching(/^enterprise-failover: ComputeGpuNodesNodegroup\w+: DiskSize 200 beside a LaunchTemplate/),
      expect.stringMatching(/^enterprise-failover: ComputeGpuNodesNodegroup\w+: RemoteAccess beside a LaunchTemplate$/),
    ]);
  });

  it('refuses an alarm range over one day for a period under an hour, over seven days otherwise, and a period CloudWatch does not take', async () => {
    const alarm = (change: (p: any) => void) => contextOf('professional', { on: 'tenant', change: (t) => { change(entries(t, 'AWS::CloudWatch::Alarm')[0][1].Properties); } });
    expect(await violationsOf(alarm((p) => { p.Period = 300; p.EvaluationPeriods = 289; }), 'cloudwatch-alarm-evaluation-range')).toEqual([
      expect.stringMatching(/^\w+DeadLetterAlarm\w+: Period 300 s × EvaluationPeriods 289 = 86700 s, over 86,400 s$/),
    ]);
    expect(await violationsOf(alarm((p) => { p.Period = 3600; p.EvaluationPeriods = 24; }), 'cloudwatch-alarm-evaluation-range')).toEqual([]);
    expect(await violationsOf(alarm((p) => { p.Period = 3600; p.EvaluationPeriods = 169; }), 'cloudwatch-alarm-evaluation-range')).toEqual([
      expect.stringMatching(/Period 3600 s × EvaluationPeriods 169 = 608400 s, over 604,800 s$/),
    ]);
    expect(await violationsOf(alarm((p) => { p.Period = 90; }), 'cloudwatch-alarm-evaluation-range')).toEqual([expect.stringMatching(/: Period 90 s is not 10, 20, 30 or a multiple of 60$/)]);
  });

  it('reads a metric math alarm\'s periods from its metrics (the platform\'s monitoring alarms)', async () => {
    const ctx = contextOf('starter', { on: 'platform', change: (t) => {
      const [, math] = entries(t, 'AWS::CloudWatch::Alarm').find(([, a]) => (a.Properties.Metrics ?? []).some((m: any) => m.MetricStat?.Period))!;
      math.Properties.EvaluationPeriods = 1000;
    } });
    expect(await violationsOf(ctx, 'cloudwatch-alarm-evaluation-range')).toEqual(expect.arrayContaining([expect.stringMatching(/^TesseraPlatform: \w+: Metrics\[\w+\]\.MetricStat\.Period \d+ s × EvaluationPeriods 1000 = \d+ s, over/)]));
  });
});
