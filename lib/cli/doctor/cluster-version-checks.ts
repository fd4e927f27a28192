import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { blockingUpgradeInsights, type BlockingInsight } from '../../../lambdas/lifecycle/upgrade-insights.js';
import { versionRefusals } from '../../../lambdas/lifecycle/version-change.js';
import { SHARED_CLUSTER_PARAMETERS } from '../../shared-cluster-parameters.js';
import { callFailed, result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

const ID = 'shared-cluster-version';
const TITLE = 'Shared cluster Kubernetes version';

/** The minor version after `v` (`1.34` → `1.35`). */
const nextMinor = (v: string) => {
  const [major, minor] = v.split('.').map(Number);
  return `${major}.${minor + 1}`;
};

/**
 * The running shared EKS cluster's Kubernetes version against `sharedCluster.kubernetesVersion`,
 * which `cdk deploy` of TesseraPlatform applies to it (nothing else checks it before the stack
 * update). EKS takes a cluster up one minor version per update and never down
 * (lambdas/lifecycle/version-change.ts), so a config lower than the running version (the cluster
 * was upgraded outside Tessera: the console, or EKS itself at the end of extended support) or more
 * than one minor above it fails the platform stack's update at the cluster, after minutes of
 * CloudFormation, and rolls it back. The cluster is found by the SSM parameter the platform stack
 * publishes for the namespace blueprints (`/tessera/shared-cluster/name`); none yet: not deployed,
 * nothing to compare. Tenant namespaces carry no version of their own: a shared tier has no
 * `kubernetesVersion`, and its namespace blueprint is applied through the cluster's kubectl provider,
 * whatever version the cluster runs. When the config takes it one minor version up, the cluster's EKS upgrade insights
 * for that version are read too (ListInsights and DescribeInsight: lambdas/lifecycle/upgrade-insights.ts): EKS refuses
 * UpdateClusterVersion while one is in ERROR (InvalidStateException, "Amazon EKS detected upgrade readiness issues"),
 * which would fail the platform stack's update the same way; each is named with its recommendation.
 */
export async function sharedClusterVersionChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const { config, region } = ctx;
  const account = config.platformAccountId;
  const where = { account, region };
  const wanted = config.sharedCluster.kubernetesVersion;
  if (!Object.values(config.tiers).some((t) => t.compute.mode === 'shared')) {
    return [result(ID, TITLE, 'pass', 'no tier of shared compute: no shared EKS cluster', where)];
  }
  const access = await ctx.clientsIn(account);
  if (!access.ok) return [unreadable(ID, TITLE, access, account, region)];
  const { ssm, eks } = access.clients;
  const parameter = SHARED_CLUSTER_PARAMETERS.ClusterName;
  let name: string | undefined;
  try {
    name = (await ssm.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value;
  } catch (e) {
    if ((e as Error).name !== 'ParameterNotFound') {
      return [callFailed(ID, TITLE, 'ssm:GetParameter', e, `grant ssm:GetParameter on ${parameter} in account ${account}, or read it: aws ssm get-parameter --name ${parameter} --region ${region}`, where)];
    }
  }
  if (!name) return [result(ID, TITLE, 'pass', `no shared cluster yet (no ${parameter}): cdk deploy of TesseraPlatform creates it on ${wanted}`, where)];
  let running: string | undefined;
  try {
    running = (await eks.send(new DescribeClusterCommand({ name }))).cluster?.version;
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') {
      return [result(ID, TITLE, 'warn', `${parameter} names cluster ${name}, which EKS does not have in account ${account} (${region})`, { ...where, fix: 'deploy TesseraPlatform again (it creates the cluster and the parameter), or correct the parameter' })];
    }
    return [callFailed(ID, TITLE, 'eks:DescribeCluster', e, `grant eks:DescribeCluster in account ${account}, or read it: aws eks describe-cluster --name ${name} --region ${region} --query cluster.version`, where)];
  }
  if (!running) return [result(ID, TITLE, 'warn', `EKS reports no version for cluster ${name}`, { ...where, fix: `aws eks describe-cluster --name ${name} --region ${region} --query cluster.version` })];
  const [refusal] = versionRefusals({ kubernetesVersion: running }, { kubernetesVersion: wanted });
  if (!refusal && running === wanted) return [result(ID, TITLE, 'pass', `${name} runs ${running}, as sharedCluster.kubernetesVersion says`, where)];
  if (!refusal) {
    let blocking: BlockingInsight[];
    try {
      blocking = await blockingUpgradeInsights(eks, name, wanted);
    } catch (e) {
      return [callFailed(ID, TITLE, 'eks:ListInsights', e, `grant eks:ListInsights and eks:DescribeInsight on cluster ${name} in account ${account}, or read them: aws eks list-insights --cluster-name ${name} --region ${region} --filter categories=UPGRADE_READINESS,statuses=ERROR,kubernetesVersions=${wanted}`, where)];
    }
    if (!blocking.length) return [result(ID, TITLE, 'pass', `${name} runs ${running}; cdk deploy of TesseraPlatform takes it to ${wanted} (one minor version), no upgrade insight for ${wanted} in ERROR`, where)];
    const named = blocking.map((i) => `"${i.name}" (${i.id})${i.reason ? `: ${i.reason}` : ''}${i.recommendation ? `; EKS recommends: ${i.recommendation}` : ''}`).join('; ');
    return [result(ID, TITLE, 'fail', `${name} runs ${running} and sharedCluster.kubernetesVersion is ${wanted}, but EKS reports upgrade insights for ${wanted} in ERROR, and refuses the cluster's version update while it does ("Amazon EKS detected upgrade readiness issues"), so cdk deploy of TesseraPlatform would fail at the cluster update and roll back: ${named}`, {
      ...where, fix: `fix what each insight names, refresh them (aws eks start-insights-refresh --cluster-name ${name} --region ${region}) and run doctor again before cdk deploy; or keep sharedCluster.kubernetesVersion: '${running}' for now`,
    })];
  }
  const down = refusal.why.startsWith('EKS cannot downgrade');
  const detail = `${name} runs ${running} but sharedCluster.kubernetesVersion is ${wanted}: ${down ? 'EKS cannot downgrade a cluster' : 'EKS updates a cluster one minor version at a time'}, `
    + 'so cdk deploy of TesseraPlatform would fail at the cluster update and roll back';
  const fix = down
    ? `set sharedCluster.kubernetesVersion: '${running}' in the config (a version the config does not offer means the cluster was upgraded past what Tessera supports: see "Kubernetes versions" in docs/upgrading-and-teardown.md)`
    : `step it: set sharedCluster.kubernetesVersion: '${nextMinor(running)}', cdk deploy, then '${wanted}' and deploy again`;
  return [result(ID, TITLE, 'fail', detail, { ...where, fix })];
}
