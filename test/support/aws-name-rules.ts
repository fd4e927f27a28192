/**
 * AWS's (and Kubernetes') rules for the names Tessera builds from a tenant id, where the
 * CloudFormation provider schemas that cfn-lint ships say less than the service does (no
 * maxLength, an unanchored or missing pattern, or rules a regex cannot say: "no two hyphens in a
 * row", "must not end with -s3alias"). test/infra/tenant-names.test.ts checks every name both
 * against its provider schema and against the rule here. Each rule states its source.
 */

export interface NameRule {
  /** Where the rule is written down. */
  readonly source: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Anchored: the whole name must match. */
  readonly pattern?: RegExp;
  /** Further refusals: [what matches is refused, why]. */
  readonly refuse?: ReadonlyArray<readonly [RegExp, string]>;
}

const NO_DOUBLE_HYPHEN = [/--/, 'two hyphens in a row'] as const;
const NO_TRAILING_HYPHEN = [/-$/, 'ends with a hyphen'] as const;

export const NAME_RULES = {
  // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (RoleName)
  'iam-role-name': { source: 'IAM CreateRole: RoleName 1-64, [\\w+=,.@-]+', minLength: 1, maxLength: 64, pattern: /^[\w+=,.@-]+$/ },
  // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.Constraints
  'rds-db-instance-identifier': {
    source: 'RDS naming constraints: DB instance identifier 1-63 letters, digits, hyphens; first a letter; no two hyphens in a row; not ending with a hyphen',
    minLength: 1, maxLength: 63, pattern: /^[a-zA-Z][a-zA-Z0-9-]*$/, refuse: [NO_DOUBLE_HYPHEN, NO_TRAILING_HYPHEN],
  },
  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSnapshot.html (DBSnapshotIdentifier)
  'rds-db-snapshot-identifier': {
    source: 'RDS CreateDBSnapshot: DBSnapshotIdentifier 1-255 letters, digits, hyphens; first a letter; no two hyphens in a row; not ending with a hyphen',
    minLength: 1, maxLength: 255, pattern: /^[a-zA-Z][a-zA-Z0-9-]*$/, refuse: [NO_DOUBLE_HYPHEN, NO_TRAILING_HYPHEN],
  },
  // The ElastiCache console's constraint on User ID and User group ID ("up to 40 characters, must begin
  // with a letter, should not end with a hyphen or contain two consecutive hyphens"). The API reference
  // (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateUser.html) and the
  // provider schema give only minLength 1 and [a-zA-Z][a-zA-Z0-9\-]*; we hold the names to the stricter rule.
  'elasticache-user-id': {
    source: 'ElastiCache RBAC user ID (console rule): 1-40 characters, a letter first, letters, digits, hyphens, no two hyphens in a row, not ending with a hyphen',
    minLength: 1, maxLength: 40, pattern: /^[a-zA-Z][a-zA-Z0-9-]*$/, refuse: [NO_DOUBLE_HYPHEN, NO_TRAILING_HYPHEN],
  },
  'elasticache-user-group-id': {
    source: 'ElastiCache RBAC user group ID (console rule): 1-40 characters, a letter first, letters, digits, hyphens, no two hyphens in a row, not ending with a hyphen',
    minLength: 1, maxLength: 40, pattern: /^[a-zA-Z][a-zA-Z0-9-]*$/, refuse: [NO_DOUBLE_HYPHEN, NO_TRAILING_HYPHEN],
  },
  // https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html (ReplicationGroupId)
  'elasticache-replication-group-id': {
    source: 'ElastiCache CreateReplicationGroup: ReplicationGroupId 1-40, a letter first, letters, digits, hyphens, no two hyphens in a row, not ending with a hyphen',
    minLength: 1, maxLength: 40, pattern: /^[a-zA-Z][a-zA-Z0-9-]*$/, refuse: [NO_DOUBLE_HYPHEN, NO_TRAILING_HYPHEN],
  },
  // https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupVault.html (BackupVaultName)
  'backup-vault-name': { source: 'AWS Backup CreateBackupVault: BackupVaultName 2-50, [a-zA-Z0-9\\-\\_]', minLength: 2, maxLength: 50, pattern: /^[a-zA-Z0-9_-]+$/ },
  // https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupPlanInput.html (BackupPlanName): 1-200
  // through the API, 1-50 in the console; the schema has no limit. We keep to 50 so the console can edit the plan.
  'backup-plan-name': { source: 'AWS Backup BackupPlanName: alphanumerics and -_. ; 1-50 in the console (1-200 through the API)', minLength: 1, maxLength: 50, pattern: /^[a-zA-Z0-9_.-]+$/ },
  // https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html (name)
  'sqs-queue-name': { source: 'SQS CreateQueue: QueueName 1-80 characters of alphanumerics, hyphens and underscores (a FIFO queue adds .fifo)', minLength: 1, maxLength: 80, pattern: /^[A-Za-z0-9_-]+$/ },
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html (AlarmName): 1-255, no ASCII control characters
  'cloudwatch-alarm-name': { source: 'CloudWatch PutMetricAlarm: AlarmName 1-255 characters, no ASCII control characters', minLength: 1, maxLength: 255, pattern: /^[^\x00-\x1f\x7f]+$/ },
  'events-rule-name': { source: 'EventBridge PutRule: Name 1-64, [\\.\\-_A-Za-z0-9]+', minLength: 1, maxLength: 64, pattern: /^[.\-_A-Za-z0-9]+$/ },
  'eks-cluster-name': { source: 'EKS CreateCluster: name 1-100, ^[0-9A-Za-z][A-Za-z0-9\\-_]*$', minLength: 1, maxLength: 100, pattern: /^[0-9A-Za-z][A-Za-z0-9_-]*$/ },
  // https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names (namespaces are DNS labels)
  'k8s-namespace': { source: 'Kubernetes: a namespace name is an RFC 1123 DNS label: 1-63, lower-case alphanumerics and -, starting and ending alphanumeric', minLength: 1, maxLength: 63, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ },
  // https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-subdomain-names
  'k8s-object-name': { source: 'Kubernetes: object names are DNS subdomains: 1-253, lower-case alphanumerics, - and ., starting and ending alphanumeric', minLength: 1, maxLength: 253, pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/ },
  // https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
  'k8s-label-value': { source: 'Kubernetes label value: at most 63 characters, empty or alphanumeric at both ends with -, _, . and alphanumerics between', maxLength: 63, pattern: /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/ },
  // https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html (AliasName)
  'kms-alias-name': {
    source: 'KMS CreateAlias: AliasName 1-256, alias/ followed by [a-zA-Z0-9/_-]; alias/aws/ is reserved for AWS managed keys',
    minLength: 1, maxLength: 256, pattern: /^alias\/[a-zA-Z0-9/_-]+$/, refuse: [[/^alias\/aws\//, 'alias/aws/ is reserved for AWS managed keys']],
  },
  // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html (logGroupName)
  'log-group-name': {
    source: 'CloudWatch Logs CreateLogGroup: logGroupName 1-512, [\\.\\-_/#A-Za-z0-9]+, not starting with aws/ (reserved for AWS)',
    minLength: 1, maxLength: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/, refuse: [[/^aws\//, 'aws/ is reserved for AWS']],
  },
  // https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions
  'tag-value': { source: 'AWS tagging: a tag value is 0-256 characters; letters, digits, spaces and _ . : / = + - @ are allowed in every service', maxLength: 256, pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u },
  // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (RoleSessionName, SourceIdentity)
  'sts-session-name': { source: 'STS AssumeRole: RoleSessionName 2-64, [\\w+=,.@-]*', minLength: 2, maxLength: 64, pattern: /^[\w+=,.@-]*$/ },
  'sts-source-identity': { source: 'STS AssumeRole: SourceIdentity 2-64, [\\w+=,.@-]*', minLength: 2, maxLength: 64, pattern: /^[\w+=,.@-]*$/ },
  // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html (TrainingJobName); CreateModel,
  // CreateEndpointConfig and CreateEndpoint take the same 63 characters.
  'sagemaker-name': { source: 'SageMaker CreateTrainingJob/CreateModel/CreateEndpointConfig/CreateEndpoint: 1-63, ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}', minLength: 1, maxLength: 63, pattern: /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/ },
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html (StackName)
  'cfn-stack-name': { source: 'CloudFormation CreateStack: StackName 1-128, alphanumerics and hyphens, starting with a letter', minLength: 1, maxLength: 128, pattern: /^[a-zA-Z][-a-zA-Z0-9]*$/ },
  // https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccount.html (AccountName)
  'organizations-account-name': { source: 'Organizations CreateAccount: AccountName 1-50, [\\u0020-\\u007E]+', minLength: 1, maxLength: 50, pattern: /^[\u0020-\u007E]+$/ },
  // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html (Name)
  'secrets-manager-name': {
    source: 'Secrets Manager CreateSecret: Name 1-512, alphanumerics and /_+=.@-, not ending with a hyphen and six characters (read as an ARN suffix)',
    minLength: 1, maxLength: 512, pattern: /^[A-Za-z0-9/_+=.@-]+$/, refuse: [[/-[A-Za-z0-9]{6}$/, 'ends with a hyphen and six characters']],
  },
  // https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html (name)
  'sfn-execution-name': {
    source: 'Step Functions StartExecution: name 1-80, no whitespace, brackets, wildcards, control characters or " # % \\ ^ | ~ ` $ & , ; : /',
    minLength: 1, maxLength: 80, pattern: /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]+$/,
  },
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose buckets)
  's3-bucket-name': {
    source: 'S3 general purpose bucket naming rules: 3-63, lower-case letters, digits, . and -, alphanumeric at both ends, no .., not an IP address, reserved prefixes and suffixes',
    minLength: 3, maxLength: 63, pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
    refuse: [
      [/\.\./, 'two periods in a row'], [/^\d+\.\d+\.\d+\.\d+$/, 'an IP address'],
      [/^(xn--|sthree-|amzn-s3-demo-)/, 'a reserved prefix'], [/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/, 'a reserved suffix'],
    ],
  },
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_S3VectorBuckets_CreateVectorBucket.html (vectorBucketName) and
  // the S3 Vectors vector bucket naming rules: 3-63, lower-case letters, digits and hyphens, a letter or digit at both ends.
  's3vectors-bucket-name': {
    source: 'S3 Vectors CreateVectorBucket: vectorBucketName 3-63, lower-case letters, digits and -, a letter or digit at both ends',
    minLength: 3, maxLength: 63, pattern: /^[a-z0-9][a-z0-9-]*[a-z0-9]$/,
  },
} as const satisfies Record<string, NameRule>;

export type NameRuleId = keyof typeof NAME_RULES;

/** What is wrong with `value` under `rule`; empty when it passes. */
export function breaks(ruleId: NameRuleId, value: string): string[] {
  const rule: NameRule = NAME_RULES[ruleId];
  const out: string[] = [];
  if (rule.maxLength !== undefined && value.length > rule.maxLength) out.push(`length ${value.length} > ${rule.maxLength}`);
  if (rule.minLength !== undefined && value.length < rule.minLength) out.push(`length ${value.length} < ${rule.minLength}`);
  if (rule.pattern && !rule.pattern.test(value)) out.push(`does not match ${rule.pattern.source}`);
  for (const [re, why] of rule.refuse ?? []) if (re.test(value)) out.push(why);
  return out.map((p) => `${ruleId}: ${p} (${rule.source})`);
}

/**
 * The names inside an ARN (or an ARN pattern: `?` stands for one character, so it is checked as
 * `a`; a trailing `*` or `/*` widens a prefix, which must itself be a valid start of a name).
 * Returns [rule, name] pairs, or a problem for an ARN kind no rule covers.
 */
export function namesInArn(arn: string): { names: Array<[NameRuleId, string]>; unknown?: string } {
  const parts = arn.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) return { names: [], unknown: `not an ARN: ${arn}` };
  const service = parts[2];
  const resource = parts.slice(5).join(':').replace(/\?/g, 'a');
  // `<type>/<name>` or `<type>:<name>`.
  const [, type = '', rest = ''] = /^([a-z-]+)[/:](.*)$/.exec(resource) ?? [];
  // A pattern's shortest completion: `:*` (any log stream) dropped, a trailing `*` read as one character.
  const complete = (name: string) => name.replace(/:\*$/, '').replace(/\*$/, 'x');
  if (service === 'iam' && type === 'role') return { names: [['iam-role-name', complete(rest).split('/').pop()!]] };
  if (service === 'sagemaker' && ['training-job', 'model', 'endpoint-config', 'endpoint'].includes(type)) return { names: [['sagemaker-name', complete(rest)]] };
  if (service === 'rds' && type === 'db') return { names: [['rds-db-instance-identifier', complete(rest)]] };
  if (service === 'eks' && type === 'cluster') return { names: [['eks-cluster-name', complete(rest)]] };
  // `nodegroup/<cluster>/<nodegroup>/<id>`: the cluster's name is the first segment (a dedicated cluster's autoscaler policy).
  if (service === 'eks' && type === 'nodegroup') return { names: [['eks-cluster-name', rest.split('/')[0]]] };
  if (service === 'events' && type === 'rule') return { names: [['events-rule-name', complete(rest).split('/').pop()!]] };
  // `bucket/<name>`, `bucket/<name>/*`, `bucket/<name>/index/<index>`: the bucket's name is the first segment.
  if (service === 's3vectors' && type === 'bucket') return { names: [['s3vectors-bucket-name', complete(rest.split('/')[0])]] };
  if (service === 'logs' && type === 'log-group') return { names: [['log-group-name', complete(rest.replace(/:log-stream:.*$/, ''))]] };
  return { names: [], unknown: `no name rule for ${service} ${type} ARNs (${arn})` };
}

/**
 * The names in a Kubernetes manifest list (JSON): namespace names and `metadata.namespace` as DNS
 * labels, other object names as DNS subdomains, label values (including selectors' matchLabels).
 */
export function namesInManifest(json: string): Array<[NameRuleId, string]> {
  const objects = JSON.parse(json) as Array<Record<string, unknown>>;
  const out: Array<[NameRuleId, string]> = [];
  const labels = (v: unknown) => {
    for (const value of Object.values((v ?? {}) as Record<string, unknown>)) if (typeof value === 'string') out.push(['k8s-label-value', value]);
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'matchLabels') labels(x);
        else walk(x);
      }
    }
  };
  for (const o of objects) {
    const meta = (o.metadata ?? {}) as Record<string, unknown>;
    if (typeof meta.name === 'string') out.push([o.kind === 'Namespace' ? 'k8s-namespace' : 'k8s-object-name', meta.name]);
    if (typeof meta.namespace === 'string') out.push(['k8s-namespace', meta.namespace]);
    labels(meta.labels);
    walk(o.spec);
  }
  return out;
}
