import { DescribeClusterCommand, DescribeInsightCommand, EKSClient, EKSServiceException, ListInsightsCommand } from '@aws-sdk/client-eks';
import { GetParameterCommand, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { sharedClusterVersionChecks } from '../../../lib/cli/doctor/cluster-version-checks.js';
import { accessKeyOf, awsError, mockSts, PLATFORM, testConfig, testContext } from './support.js';

/**
 * lcleft (s16): the shared EKS cluster's running Kubernetes version was never compared with
 * `sharedCluster.kubernetesVersion` before `cdk deploy` applied it: a config below the running
 * version (a cluster upgraded outside Tessera, or by EKS at the end of extended support) or two
 * minor versions above it failed the platform stack's update at the cluster.
 */
const ssm = mockStrict(SSMClient, 'ssm', SSMServiceException);
const eks = mockStrict(EKSClient, 'eks', EKSServiceException);
const withVersion = (kubernetesVersion: string) => testConfig({ sharedCluster: { kubernetesVersion } });

beforeEach(() => {
  ssm.reset();
  eks.reset();
  mockSts();
  ssm.on(GetParameterCommand, { Name: '/tessera/shared-cluster/name' }).resolves({ Parameter: { Name: '/tessera/shared-cluster/name', Value: 'tessera-shared', Type: 'String' } });
});

describe('doctor: the shared cluster\'s Kubernetes version against the config', () => {
  it('fails a config below the running version (EKS cannot downgrade), naming the version to set', async () => {
    eks.on(DescribeClusterCommand, { name: 'tessera-shared' }).resolves({ cluster: { name: 'tessera-shared', version: '1.35' } });
    const [line] = await sharedClusterVersionChecks(testContext(withVersion('1.34')));
    expect(line).toMatchObject({
      id: 'shared-cluster-version', status: 'fail', account: PLATFORM, region: 'us-east-1',
      detail: 'tessera-shared runs 1.35 but sharedCluster.kubernetesVersion is 1.34: EKS cannot downgrade a cluster, so cdk deploy of TesseraPlatform would fail at the cluster update and roll back',
      fix: expect.stringMatching(/^set sharedCluster.kubernetesVersion: '1.35' in the config/),
    });
    // read in the platform account, through its lookup role
    expect(await accessKeyOf(eks.commandCalls(DescribeClusterCommand)[0])).toBe(`AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
  });

  it('fails a config two minor versions up, naming the step between', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'tessera-shared', version: '1.33' } });
    const [line] = await sharedClusterVersionChecks(testContext(withVersion('1.35')));
    expect(line).toMatchObject({ status: 'fail', detail: expect.stringContaining('EKS updates a cluster one minor version at a time'), fix: 'step it: set sharedCluster.kubernetesVersion: \'1.34\', cdk deploy, then \'1.35\' and deploy again' });
  });

  it('passes the running version, and the next minor one when no upgrade insight for it is in ERROR', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'tessera-shared', version: '1.34' } });
    eks.on(ListInsightsCommand).resolves({ insights: [] });
    expect((await sharedClusterVersionChecks(testContext(withVersion('1.34'))))[0]).toMatchObject({ status: 'pass', detail: 'tessera-shared runs 1.34, as sharedCluster.kubernetesVersion says' });
    expect(eks.commandCalls(ListInsightsCommand)).toHaveLength(0);
    expect((await sharedClusterVersionChecks(testContext(withVersion('1.35'))))[0]).toMatchObject({ status: 'pass', detail: 'tessera-shared runs 1.34; cdk deploy of TesseraPlatform takes it to 1.35 (one minor version), no upgrade insight for 1.35 in ERROR' });
    expect(eks.commandCalls(ListInsightsCommand).map((c) => c.args[0].input)).toEqual([
      { clusterName: 'tessera-shared', nextToken: undefined, filter: { categories: ['UPGRADE_READINESS'], statuses: ['ERROR'], kubernetesVersions: ['1.35'] } },
    ]);
  });

  it('fails the next minor version while EKS reports an upgrade insight for it in ERROR (UpdateClusterVersion: InvalidStateException), naming it and its recommendation', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'tessera-shared', version: '1.34' } });
    eks.on(ListInsightsCommand, { clusterName: 'tessera-shared' }).resolves({ insights: [
      { id: 'ins-1', name: 'Deprecated APIs removed in Kubernetes v1.35', category: 'UPGRADE_READINESS', kubernetesVersion: '1.35', insightStatus: { status: 'ERROR', reason: 'Deprecated API usage detected within last 30 days' } },
    ] });
    eks.on(DescribeInsightCommand, { clusterName: 'tessera-shared', id: 'ins-1' }).resolves({ insight: { id: 'ins-1', recommendation: 'Update manifests and API clients to use newer Kubernetes APIs.' } });
    const [line] = await sharedClusterVersionChecks(testContext(withVersion('1.35')));
    expect(line).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/EKS reports upgrade insights for 1\.35 in ERROR.*"Deprecated APIs removed in Kubernetes v1\.35" \(ins-1\): Deprecated API usage detected within last 30 days; EKS recommends: Update manifests and API clients to use newer Kubernetes APIs\./),
      fix: expect.stringContaining('aws eks start-insights-refresh --cluster-name tessera-shared'),
    });
    // A ListInsights the caller may not make is a failed call, naming the grant
    eks.on(ListInsightsCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform: eks:ListInsights'));
    expect((await sharedClusterVersionChecks(testContext(withVersion('1.35'))))[0]).toMatchObject({ fix: expect.stringContaining('grant eks:ListInsights and eks:DescribeInsight on cluster tessera-shared') });
  });

  it('passes before the platform is deployed (no parameter), and makes no call without a tier of shared compute', async () => {
    ssm.reset();
    ssm.on(GetParameterCommand).rejects(awsError('ParameterNotFound', 'Parameter /tessera/shared-cluster/name not found.'));
    expect((await sharedClusterVersionChecks(testContext(withVersion('1.35'))))[0]).toMatchObject({ status: 'pass', detail: 'no shared cluster yet (no /tessera/shared-cluster/name): cdk deploy of TesseraPlatform creates it on 1.35' });
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(0);
    const base = testConfig();
    ssm.reset();
    expect((await sharedClusterVersionChecks(testContext({ ...base, tiers: { enterprise: base.tiers.enterprise } })))[0]).toMatchObject({ status: 'pass', detail: 'no tier of shared compute: no shared EKS cluster' });
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
  });

  it('names a refused read with the call and the command to run instead', async () => {
    eks.on(DescribeClusterCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: eks:DescribeCluster'));
    const [line] = await sharedClusterVersionChecks(testContext(withVersion('1.35')));
    expect(line).toMatchObject({ status: 'fail', detail: expect.stringContaining('eks:DescribeCluster'), fix: expect.stringContaining('aws eks describe-cluster --name tessera-shared') });
  });
});
