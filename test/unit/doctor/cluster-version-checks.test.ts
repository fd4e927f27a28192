import { DescribeClusterCommand, EKSClient, EKSServiceException } from '@aws-sdk/client-eks';
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

  it('passes the running version and the next minor one', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'tessera-shared', version: '1.34' } });
    expect((await sharedClusterVersionChecks(testContext(withVersion('1.34'))))[0]).toMatchObject({ status: 'pass', detail: 'tessera-shared runs 1.34, as sharedCluster.kubernetesVersion says' });
    expect((await sharedClusterVersionChecks(testContext(withVersion('1.35'))))[0]).toMatchObject({ status: 'pass', detail: 'tessera-shared runs 1.34; cdk deploy of TesseraPlatform takes it to 1.35 (one minor version)' });
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
