import { DescribeInsightCommand, ListInsightsCommand, ResourceNotFoundException, type EKSClient, type InsightSummary } from '@aws-sdk/client-eks';
import type { VersionRefusal } from './version-change.js';

/**
 * EKS upgrade insights that block a cluster version update, read before a stack update moves a dedicated cluster's
 * `Version` (CloudFormation then calls UpdateClusterVersion, which EKS refuses while an upgrade insight is in ERROR:
 * InvalidStateException, "Amazon EKS detected upgrade readiness issues. Call the ListInsights API to view detected
 * upgrade blocking issues. Pass the force flag when updating to override upgrade readiness errors", EKS API
 * Reference, UpdateClusterVersion and InvalidStateException; the stack update fails and rolls back).
 *
 * Amazon EKS User Guide, "Prepare for Kubernetes version upgrades ... with cluster insights"
 * (https://docs.aws.amazon.com/eks/latest/userguide/cluster-insights.html): every cluster is checked against EKS's
 * list of insights, upgrade insights "identify issues that could impact your ability to upgrade to new versions of
 * Kubernetes", refreshed "every 24 hours, or you can manually refresh them". ListInsights
 * (https://docs.aws.amazon.com/eks/latest/APIReference/API_ListInsights.html) filters by category
 * (`UPGRADE_READINESS`), Kubernetes version and status (`PASSING | WARNING | ERROR | UNKNOWN`); its summaries carry no
 * recommendation, which DescribeInsight (`insight.recommendation`) does. Both take the cluster's ARN as their only
 * resource (Service Authorization Reference, Amazon EKS: resource type `cluster`).
 *
 * Tessera never passes `force` (CloudFormation's AWS::EKS::Cluster would, with its `Force` property, which the
 * blueprints leave unset): the operator fixes what the insight names, refreshes the insights, and runs the change again.
 */

/** One upgrade insight in ERROR for the target version, with what EKS recommends. */
export interface BlockingInsight {
  /** InsightSummary `id`. */
  id: string;
  /** InsightSummary `name` (e.g. "Deprecated APIs removed in Kubernetes v1.35"). */
  name: string;
  /** `insightStatus.reason`: why EKS rates it ERROR. */
  reason?: string;
  /** DescribeInsight `insight.recommendation`. */
  recommendation?: string;
}

/**
 * The cluster's upgrade insights in ERROR for Kubernetes `toVersion` (ListInsights with categories
 * `UPGRADE_READINESS`, statuses `ERROR`, kubernetesVersions [`toVersion`], every page), each with its recommendation
 * (DescribeInsight). Empty when none. An insight listed and then gone (DescribeInsight: ResourceNotFoundException) is
 * left out. Other errors of either call propagate (a cluster the lifecycle cannot read is not assumed ready).
 * @param eks a client in the cluster's account and Region (the deploy step's provisioning session)
 * @param clusterName the dedicated cluster's name (`tessera-<tenant>`, lib/tenant-naming.ts dedicatedClusterName)
 * @param toVersion the Kubernetes version the template moves the cluster to ("1.35")
 */
export async function blockingUpgradeInsights(eks: EKSClient, clusterName: string, toVersion: string): Promise<BlockingInsight[]> {
  const found: InsightSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await eks.send(new ListInsightsCommand({
      clusterName, nextToken, filter: { categories: ['UPGRADE_READINESS'], statuses: ['ERROR'], kubernetesVersions: [toVersion] },
    }));
    found.push(...(page.insights ?? []).filter((i) => i.insightStatus?.status === 'ERROR'));
    nextToken = page.nextToken;
  } while (nextToken);
  const out: BlockingInsight[] = [];
  for (const summary of found) {
    const insight = await describedInsight(eks, clusterName, summary.id!);
    if (insight === gone) continue;
    out.push({ id: summary.id!, name: summary.name ?? summary.id!, reason: summary.insightStatus?.reason, recommendation: insight?.recommendation });
  }
  return out;
}

const gone = Symbol('insight gone');

/**
 * DescribeInsight of one insight ListInsights named, or `gone` when EKS no longer has it (ResourceNotFoundException:
 * the insights were refreshed between the two calls, `aws eks start-insights-refresh` or EKS's own daily refresh, and
 * this one is no more). It blocks nothing then: before, the deploy failed on that exception. Other errors propagate.
 */
async function describedInsight(eks: EKSClient, clusterName: string, id: string) {
  try {
    return (await eks.send(new DescribeInsightCommand({ clusterName, id }))).insight;
  } catch (e) {
    if (e instanceof ResourceNotFoundException) return gone;
    throw e;
  }
}

/**
 * The refusals (version-change.ts's shape) of a cluster update from `fromVersion` to `toVersion` that `insights`
 * block: one per insight, naming it, its id, EKS's reason and recommendation.
 */
export function insightRefusals(insights: readonly BlockingInsight[], fromVersion: string, toVersion: string): VersionRefusal[] {
  return insights.map((i) => ({
    field: 'compute.kubernetesVersion' as const, from: fromVersion, to: toVersion,
    why: `EKS upgrade insight "${i.name}" (${i.id}) is ERROR${i.reason ? ` (${i.reason})` : ''}, and EKS refuses the cluster's version update while it is ("Amazon EKS detected upgrade readiness issues"): `
      + `${i.recommendation ? `EKS recommends: ${i.recommendation}; ` : ''}fix it, refresh the cluster's insights (aws eks start-insights-refresh), then run the change again`,
  }));
}
