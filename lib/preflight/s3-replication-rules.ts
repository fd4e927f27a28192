/**
 * What PutBucketReplication refuses in an AWS::S3::Bucket's ReplicationConfiguration, which moto stores as given: a
 * service rule (lib/preflight/service-rules.ts) over every bucket of a tier's stacks and of the platform stack (the
 * audit bucket's replication to the platform's DR region).
 */
import type { InstantiatedResource, InstantiatedTemplate } from './instantiate.js';
import type { RuleContext, ServiceRule } from './service-rules.js';

/** A replication rule as CloudFormation sends it (AWS::S3::Bucket ReplicationRule), resolved. */
interface ReplicationRuleJson {
  readonly Id?: string;
  readonly Filter?: { readonly Prefix?: unknown; readonly TagFilter?: unknown; readonly And?: { readonly TagFilters?: readonly unknown[] } };
  readonly DeleteMarkerReplication?: { readonly Status?: string };
  readonly SourceSelectionCriteria?: { readonly SseKmsEncryptedObjects?: { readonly Status?: string } };
  readonly Destination?: {
    readonly ReplicationTime?: { readonly Status?: string; readonly Time?: { readonly Minutes?: unknown } };
    readonly Metrics?: { readonly Status?: string; readonly EventThreshold?: { readonly Minutes?: unknown } };
    readonly EncryptionConfiguration?: { readonly ReplicaKmsKeyID?: unknown };
  };
}

/** The one value S3 takes for a ReplicationTimeValue's Minutes (RTC's Time and Metrics' EventThreshold): "Valid value: 15". */
export const REPLICATION_TIME_MINUTES = 15;

/**
 * The problems S3 refuses in one replication rule (empty: none). Sources, S3 API Reference:
 * - Destination, ReplicationTime: "Must be specified together with a Metrics block"; with S3 RTC on, metrics are on
 *   too, with the event threshold (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Destination.html,
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html);
 * - ReplicationTimeValue, Minutes: "Valid value: 15"
 *   (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicationTimeValue.html);
 * - DeleteMarkerReplication: "If your Filter includes a Tag element, the DeleteMarkerReplication Status must be set to
 *   Disabled, because Amazon S3 does not support replicating delete markers for tag-based rules"
 *   (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteMarkerReplication.html); a rule with a Filter (the
 *   current schema) carries a DeleteMarkerReplication element
 *   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html);
 * - a rule that selects SSE-KMS objects (SourceSelectionCriteria.SseKmsEncryptedObjects Enabled) names the key that
 *   encrypts the replicas, Destination.EncryptionConfiguration.ReplicaKmsKeyID
 *   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).
 * @param rule the resolved rule
 */
export function replicationRuleProblems(rule: ReplicationRuleJson): string[] {
  const out: string[] = [];
  const destination = rule.Destination ?? {};
  const minutes = (v: unknown) => Number(v) === REPLICATION_TIME_MINUTES;
  if (destination.ReplicationTime?.Status === 'Enabled') {
    if (!minutes(destination.ReplicationTime.Time?.Minutes)) out.push(`ReplicationTime.Time.Minutes ${String(destination.ReplicationTime.Time?.Minutes)}: S3 RTC takes only ${REPLICATION_TIME_MINUTES}`);
    if (destination.Metrics?.Status !== 'Enabled') out.push(`S3 RTC (ReplicationTime Enabled) without Metrics Enabled (${destination.Metrics ? `Status ${String(destination.Metrics.Status)}` : 'no Metrics'})`);
    else if (!minutes(destination.Metrics.EventThreshold?.Minutes)) out.push(`Metrics.EventThreshold.Minutes ${String(destination.Metrics.EventThreshold?.Minutes)}: S3 RTC needs ${REPLICATION_TIME_MINUTES}`);
  }
  const filter = rule.Filter;
  if (filter !== undefined) {
    if (rule.DeleteMarkerReplication?.Status === undefined) out.push('a rule with a Filter has no DeleteMarkerReplication');
    const tagged = filter.TagFilter !== undefined || (filter.And?.TagFilters?.length ?? 0) > 0;
    if (tagged && rule.DeleteMarkerReplication?.Status === 'Enabled') out.push('DeleteMarkerReplication Enabled in a rule that filters on tags (S3 replicates no delete markers for tag-based rules)');
  }
  if (rule.SourceSelectionCriteria?.SseKmsEncryptedObjects?.Status === 'Enabled' && !destination.EncryptionConfiguration?.ReplicaKmsKeyID) out.push('SseKmsEncryptedObjects Enabled without Destination.EncryptionConfiguration.ReplicaKmsKeyID');
  return out;
}

/** The tier's stacks and the platform stack, each with the label its violations carry (none for the tier blueprint). */
function stacksOf({ inst, alsoDeployed, platform }: RuleContext): Array<{ label: string; inst: InstantiatedTemplate }> {
  return [{ label: '', inst }, ...(alsoDeployed ?? []).map((d) => ({ label: `${d.blueprint}: `, inst: d.inst })), ...(platform ? [{ label: 'TesseraPlatform: ', inst: platform }] : [])];
}

const rulesOf = (bucket: InstantiatedResource): ReplicationRuleJson[] => ((bucket.props.ReplicationConfiguration as { Rules?: ReplicationRuleJson[] } | undefined)?.Rules) ?? [];

export const S3_REPLICATION_RULES: readonly ServiceRule[] = [
  {
    id: 's3-replication-rule-settings',
    statement: `Every S3 replication rule of the tier's stacks and of the platform stack is one PutBucketReplication takes: S3 RTC (ReplicationTime Enabled) with Time ${REPLICATION_TIME_MINUTES} minutes and Metrics Enabled with EventThreshold ${REPLICATION_TIME_MINUTES} minutes; a rule with a Filter carries DeleteMarkerReplication, Disabled when it filters on tags; a rule selecting SSE-KMS objects names ReplicaKmsKeyID.`,
    source: 'https://docs.aws.amazon.com/AmazonS3/latest/API/API_Destination.html; https://docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicationTimeValue.html; https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteMarkerReplication.html; https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html',
    appliesTo: ['AWS::S3::Bucket'],
    check: (ctx) => stacksOf(ctx).flatMap(({ label, inst }) => Object.values(inst.resources).filter((r) => r.type === 'AWS::S3::Bucket')
      .flatMap((b) => rulesOf(b).flatMap((rule) => replicationRuleProblems(rule).map((p) => `${label}${b.logicalId} replication rule ${rule.Id ?? '(no id)'}: ${p}`)))),
  },
];
