import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAppTemplates } from '../support/default-app.js';

let enterprise: Template;
let starter: Template;
let platform: Template;
beforeAll(() => {
  // The default app, synthesized with aws-cdk-lib's deprecation notices made errors as its process's
  // first synth (test/support/synthesize-default-app.ts, JSII_DEPRECATED=fail): the app (cdk-nag's
  // rules included, which read CfnEventBusPolicy#principal) must use no deprecated API.
  const built = defaultAppTemplates();
  expect(built.deprecatedApisRefused).toBe(true);
  enterprise = built.blueprints.enterprise;
  starter = built.blueprints.starter;
  platform = built.platformWithPolicies; // with its Lambdas' managed policies (in the FunctionPolicies nested stack)
});

const tenantJoin = (...parts: unknown[]) => ({ 'Fn::Join': ['', Match.arrayWith(parts.flatMap((p) => (typeof p === 'string' ? [Match.stringLikeRegexp(p)] : [p])))] });
const statement = (t: Template, policyDescription: string, sid: string) => {
  const policy = Object.values(t.findResources('AWS::IAM::ManagedPolicy', { Properties: { Description: policyDescription } }))[0] as any;
  return policy?.Properties.PolicyDocument.Statement.find((s: any) => s.Sid === sid);
};

describe('fine-tuning in the tenant blueprint', () => {
  it('lets the launcher create training jobs only with isolation, the tenant network, key and tag, and only under the tenant\'s names', () => {
    // The enterprise tier trains on ml.g5.2xlarge, ml.g5.12xlarge and ml.p4d.24xlarge: all local-storage
    // types, which SageMaker refuses a volume key for, so only the no-volume-key statement exists.
    expect(statement(enterprise, 'Tessera tenant TrainingLauncher access', 'CreateIsolatedTrainingJobs')).toBeUndefined();
    const s = statement(enterprise, 'Tessera tenant TrainingLauncher access', 'CreateIsolatedTrainingJobsOnInstanceStorage');
    const key = { 'Fn::GetAtt': [expect.stringMatching(/^Key[0-9A-F]+$/), 'Arn'] };
    expect(s.Action).toBe('sagemaker:CreateTrainingJob');
    expect(s.Resource['Fn::Join'][1].slice(-3)).toEqual([':training-job/', { Ref: 'TenantId' }, '-ft-????????????????????????']);
    expect(s.Condition).toEqual({
      Bool: { 'sagemaker:NetworkIsolation': 'true', 'sagemaker:InterContainerTrafficEncryption': 'true' },
      Null: { 'sagemaker:VpcSubnets': 'false', 'sagemaker:VpcSecurityGroupIds': 'false', 'sagemaker:InstanceTypes': 'false', 'sagemaker:VolumeKmsKeyArn': 'true' },
      'ForAllValues:StringEquals': {
        'sagemaker:VpcSubnets': [1, 2, 3].map(() => ({ Ref: expect.stringMatching(/^NetworkVpccomputeSubnet/) })),
        'sagemaker:VpcSecurityGroupIds': [{ 'Fn::GetAtt': [expect.stringMatching(/^NetworkWorkloadSecurityGroup/), 'GroupId'] }],
        'sagemaker:InstanceTypes': ['ml.g5.2xlarge', 'ml.g5.12xlarge', 'ml.p4d.24xlarge'],
      },
      ArnEquals: { 'sagemaker:OutputKmsKeyArn': key },
      StringEquals: { 'aws:RequestTag/tessera:tenant-id': { Ref: 'TenantId' } },
      NumericLessThanEquals: { 'sagemaker:MaxRuntimeInSeconds': 72 * 3600 },
    });
  });

  it('lets the launcher retire (describe, delete) only its own tenant\'s endpoints, endpoint configs and models: by name pattern and tenant tag', () => {
    // Offboarding's *Retire fine-tuned models* (lambdas/fine-tuning/retire-fine-tuned-models.ts).
    for (const t of [enterprise]) {
      const s = statement(t, 'Tessera tenant TrainingLauncher access', 'RetireOwnModels');
      expect([...s.Action].sort()).toEqual(['sagemaker:DeleteEndpoint', 'sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel']);
      // Describe without a tag condition (a name that does not exist has no tag), on the same exact-length names.
      const d = statement(t, 'Tessera tenant TrainingLauncher access', 'DescribeOwnNames');
      expect([...d.Action].sort()).toEqual(['sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel', 'sagemaker:DescribeTrainingJob']);
      expect(d.Condition).toBeUndefined();
      expect(d.Resource.map((r: any) => r['Fn::Join'][1].slice(-3))).toEqual(expect.arrayContaining(['training-job', 'endpoint', 'endpoint-config', 'model'].map((type) => [`:${type}/`, { Ref: 'TenantId' }, '-ft-????????????????????????'])));
      const tails = s.Resource.map((r: any) => r['Fn::Join'][1].slice(-3));
      expect(tails).toHaveLength(3);
      expect(tails).toEqual(expect.arrayContaining(['endpoint', 'endpoint-config', 'model'].map((type) => [`:${type}/`, { Ref: 'TenantId' }, '-ft-????????????????????????'])));
      // aws:ResourceTag is a key of the three resource types (Service Authorization Reference); no action-specific key exists for these actions.
      expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/tessera:tenant-id': { Ref: 'TenantId' } } });
    }
    // Nothing else of the launcher deletes: no wildcard action, no other statement naming a Delete.
    const launcher = Object.values(enterprise.findResources('AWS::IAM::ManagedPolicy', { Properties: { Description: 'Tessera tenant TrainingLauncher access' } }))[0] as any;
    const deletes = launcher.Properties.PolicyDocument.Statement.filter((x: any) => [x.Action].flat().some((a: string) => /Delete|\*/.test(a)));
    expect(deletes.map((x: any) => x.Sid)).toEqual(['RetireOwnModels']);
  });

  it('lets the launcher pass only the tenant\'s training role, only to SageMaker', () => {
    const s = statement(enterprise, 'Tessera tenant TrainingLauncher access', 'PassOnlyTheTenantTrainingRole');
    expect(s).toMatchObject({ Action: 'iam:PassRole', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RolesTraining[0-9A-F]+$/), 'Arn'] }, Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } } });
  });

  it('trusts only the platform\'s fine-tuning Lambdas (launcher) and router (invoker), each session tagged with the tenant', () => {
    const roles = Object.values(enterprise.findResources('AWS::IAM::Role')) as any[];
    const trustOf = (suffix: string) => roles.find((r) => JSON.stringify(r.Properties.RoleName ?? '').includes(suffix))!.Properties.AssumeRolePolicyDocument.Statement;
    const platformRole = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::222222222222:role/${name}`]] });
    expect(trustOf('-training-launcher')).toEqual([expect.objectContaining({
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: { ArnEquals: { 'aws:PrincipalArn': [platformRole('tessera-fine-tuning-api'), platformRole('tessera-fine-tuning-events')] }, StringEquals: { 'aws:RequestTag/tessera:tenant-id': { Ref: 'TenantId' } } },
    })]);
    expect(trustOf('-model-invoker')).toEqual([expect.objectContaining({
      Condition: { ArnEquals: { 'aws:PrincipalArn': [platformRole('tessera-gateway-router')] }, StringEquals: { 'aws:RequestTag/tessera:tenant-id': { Ref: 'TenantId' } } },
    })]);
    const invoke = statement(enterprise, 'Tessera tenant ModelInvoker access', 'InvokeOwnEndpoints');
    expect(invoke.Resource['Fn::Join'][1].slice(-3)).toEqual([':endpoint/', { Ref: 'TenantId' }, '-ft-????????????????????????']);
  });

  it('keeps the launcher and invoker out of the tenant\'s data: not in the bucket policy, only grants on the key', () => {
    const bucketPolicy = JSON.stringify(Object.values(enterprise.findResources('AWS::S3::BucketPolicy')).map((p: any) => p.Properties.PolicyDocument));
    expect(bucketPolicy).not.toMatch(/training-launcher|model-invoker/);
    const key = Object.values(enterprise.findResources('AWS::KMS::Key'))[0] as any;
    const launcherStatement = key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'TrainingLauncherGrantsToSageMaker');
    expect(launcherStatement).toMatchObject({ Action: 'kms:CreateGrant', Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } });
    expect(key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'TrainingLauncherDescribesKey')).toMatchObject({ Action: 'kms:DescribeKey' });
    expect(key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'TrainingLauncherDescribesKey').Condition).toBeUndefined();
  });

  it('gives the training-files role exactly the Files API\'s objects, listing and key use: training-data/files/ of its own bucket, through S3, for that bucket', () => {
    const bucket = Object.keys(enterprise.findResources('AWS::S3::Bucket')).find((id) => /^StorageBucket[0-9A-F]+$/.test(id))!;
    const key = { 'Fn::GetAtt': [expect.stringMatching(/^Key[0-9A-F]+$/), 'Arn'] };
    const policy = Object.values(enterprise.findResources('AWS::IAM::ManagedPolicy', { Properties: { Description: 'Tessera tenant TrainingFiles access' } })) as any[];
    expect(policy).toHaveLength(1);
    expect(policy[0].Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^RolesTrainingFiles[0-9A-F]+$/) }]);
    expect(policy[0].Properties.PolicyDocument.Statement).toEqual([
      { Sid: 'TrainingFilesObjects', Effect: 'Allow', Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/training-data/files/*']] } },
      { Sid: 'ListTrainingFiles', Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucket, 'Arn'] }, Condition: { StringLike: { 's3:prefix': 'training-data/files/*' } } },
      {
        Sid: 'TenantKeyThroughS3ForTheBucket', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: key,
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] }, 'kms:EncryptionContext:aws:s3:arn': { 'Fn::GetAtt': [bucket, 'Arn'] } } },
      },
    ]);
    // No other policy names the role.
    const others = Object.values(enterprise.findResources('AWS::IAM::ManagedPolicy')).filter((p: any) => p !== policy[0] && JSON.stringify(p.Properties.Roles ?? []).includes('RolesTrainingFiles'));
    expect(others).toEqual([]);
  });

  it('admits the training-files role to the bucket (a data principal) and fences it to training-data/files/ in the bucket policy', () => {
    const [bucketPolicy] = Object.values(enterprise.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: Match.stringLikeRegexp('^StorageBucket') } } })) as any[];
    const statements = bucketPolicy.Properties.PolicyDocument.Statement as any[];
    const role = { 'Fn::GetAtt': [expect.stringMatching(/^RolesTrainingFiles[0-9A-F]+$/), 'Arn'] };
    const bySid = (sid: string) => statements.find((st) => st.Sid === sid);
    expect(bySid('DenyObjectAccessToAllButTenantRoles').Condition.ArnNotLike['aws:PrincipalArn']).toContainEqual(role);
    expect(bySid('DenyListingToAllButTenantRolesAndDeployer').Condition.ArnNotLike['aws:PrincipalArn']).toContainEqual(role);
    const bucket = bucketPolicy.Properties.Bucket.Ref;
    expect(bySid('DenyTrainingFilesOutsideItsPrefix')).toEqual({
      Sid: 'DenyTrainingFilesOutsideItsPrefix', Effect: 'Deny', Principal: { AWS: '*' }, Action: expect.arrayContaining(['s3:GetObject*', 's3:PutObject*', 's3:DeleteObject*', 's3:ListBucketVersions']),
      NotResource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/training-data/files/*']] }, Condition: { ArnEquals: { 'aws:PrincipalArn': role } },
    });
    expect(bySid('DenyTrainingFilesListingOutsideItsPrefix')).toEqual({
      Sid: 'DenyTrainingFilesListingOutsideItsPrefix', Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucket, 'Arn'] },
      Condition: { ArnEquals: { 'aws:PrincipalArn': role }, StringNotLike: { 's3:prefix': 'training-data/files/*' } },
    });
    // A tier without training has neither the role nor its fence.
    expect(JSON.stringify(Object.values(starter.findResources('AWS::S3::BucketPolicy')))).not.toMatch(/TrainingFiles/);
  });

  it('lets the training-files role use the key only through S3, and only as its identity policy also allows (which names the bucket)', () => {
    const key = Object.values(enterprise.findResources('AWS::KMS::Key'))[0] as any;
    const statements = key.Properties.KeyPolicy.Statement as any[];
    expect(statements.find((st) => st.Sid === 'TrainingFilesThroughS3')).toEqual({
      Sid: 'TrainingFilesThroughS3', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*',
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
      Condition: {
        StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
        ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [expect.stringMatching(/^RolesTrainingFiles[0-9A-F]+$/), 'Arn'] } },
      },
    });
    // The account (root) appears in no other statement but the vector-store role's (constructs/tenant-vector-bucket.ts):
    // nobody else is deferred to identity policies.
    expect(statements.filter((st) => JSON.stringify(st.Principal).includes(':root')).map((st) => st.Sid)).toEqual(['VectorStoreThroughS3Vectors', 'TrainingFilesThroughS3']);
    // Not a key user: the full-use statement does not name it.
    expect(JSON.stringify(statements.find((st) => st.Sid === 'TenantRolesUseKey'))).not.toMatch(/RolesTrainingFiles/);
  });

  it('expires training data after the tier\'s retention and forwards the tenant\'s training events to the platform bus', () => {
    enterprise.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-training-data', Prefix: 'training-data/', ExpirationInDays: 90 })]) } });
    enterprise.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.sagemaker'], 'detail-type': ['SageMaker Training Job State Change'], detail: { TrainingJobName: [{ prefix: tenantJoin('-ft-$') }] } },
      Targets: [Match.objectLike({ Arn: tenantJoin(':events:us-east-1:222222222222:event-bus/tessera-lifecycle$') })],
    });
  });

  it('forwards the state changes of the tenant\'s own endpoints only (names <tenant>-ft-), by the forwarder role its trust names, dead letters in the training events queue', () => {
    const rules = enterprise.findResources('AWS::Events::Rule', { Properties: { EventPattern: { 'detail-type': ['SageMaker Endpoint State Change'] } } });
    expect(Object.keys(rules)).toHaveLength(1);
    const rule = (Object.values(rules)[0] as any).Properties;
    expect(rule.Name).toEqual({ 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-endpoint-events']] });
    expect(rule.EventPattern).toEqual({ source: ['aws.sagemaker'], 'detail-type': ['SageMaker Endpoint State Change'], detail: { EndpointName: [{ prefix: { 'Fn::Join': ['', [{ Ref: 'TenantId' }, '-ft-']] } }] } });
    expect(rule.Targets).toHaveLength(1);
    const target = rule.Targets[0];
    expect(target.Arn).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:us-east-1:222222222222:event-bus/tessera-lifecycle']] });
    // The training rule's own role and dead-letter queue
    const training = (Object.values(enterprise.findResources('AWS::Events::Rule', { Properties: { EventPattern: { 'detail-type': ['SageMaker Training Job State Change'] } } }))[0] as any).Properties.Targets[0];
    expect(target.RoleArn).toEqual(training.RoleArn);
    expect(target.DeadLetterConfig).toEqual(training.DeadLetterConfig);
    expect(JSON.stringify(target.DeadLetterConfig)).toMatch(/TrainingEventsDeadLettersDlq/);
    // ...whose trust names this rule (aws:SourceArn), beside the other two
    const role = (enterprise.findResources('AWS::IAM::Role') as any)[target.RoleArn['Fn::GetAtt'][0]].Properties;
    const arns = role.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals['aws:SourceArn'];
    expect(JSON.stringify(arns)).toMatch(/-endpoint-events/);
    expect(arns).toHaveLength(3);
    // ...and the queue lets this rule send to it (aws:SourceArn = the rule)
    const queuePolicies = Object.values(enterprise.findResources('AWS::SQS::QueuePolicy')).map((p: any) => JSON.stringify(p.Properties.PolicyDocument));
    expect(queuePolicies.some((d) => d.includes('EndpointRule') && d.includes('sqs:SendMessage'))).toBe(true);
  });

  it('gives a tier without training no training roles, policies or forwarding', () => {
    const names = JSON.stringify(Object.values(starter.findResources('AWS::IAM::Role')).map((r: any) => r.Properties.RoleName));
    expect(names).not.toMatch(/training|model-invoker/);
    starter.resourceCountIs('AWS::Events::Rule', 0);
  });
});

describe('fine-tuning in the platform stack', () => {
  it('lets only the fine-tuning API Lambda assume tenant training-files roles, inside the organization', () => {
    const policies = Object.values(platform.findResources('AWS::IAM::ManagedPolicy')) as any[];
    const assumers = policies.filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('-training-files'));
    expect(assumers).toHaveLength(1);
    expect(JSON.stringify(assumers[0].Properties.Roles)).toMatch(/FineTuningApi/);
    expect(assumers[0].Properties.PolicyDocument.Statement.find((x: any) => x.Sid === 'TenantTrainingFiles')).toEqual({
      Sid: 'TenantTrainingFiles', Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'],
      Resource: 'arn:aws:iam::*:role/tessera-*-training-files',
      Condition: { StringEquals: { 'aws:ResourceOrgID': 'o-exampleorg1' } },
    });
  });

  it('lets only the fine-tuning Lambdas assume tenant training launchers, inside the organization', () => {
    const policies = Object.values(platform.findResources('AWS::IAM::ManagedPolicy')) as any[];
    const assumers = policies.filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('-training-launcher'));
    expect(assumers).toHaveLength(2);
    for (const p of assumers) {
      const s = p.Properties.PolicyDocument.Statement.find((x: any) => x.Sid === 'TenantTrainingLaunchers');
      expect(s).toMatchObject({ Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { StringEquals: { 'aws:ResourceOrgID': 'o-exampleorg1' } } });
    }
  });

  it('keeps jobs in a retained, encrypted table keyed by tenant (no index across tenants), and listens for forwarded SageMaker events', () => {
    platform.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ TableName: 'tessera-fine-tuning-jobs', GlobalSecondaryIndexes: Match.absent(), SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }) }),
    });
    platform.hasResourceProperties('AWS::Events::EventBusPolicy', { Statement: Match.objectLike({ Action: 'events:PutEvents', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-exampleorg1' } } }) });
    // One rule for training and endpoint state changes, to the events Lambda, with its retries and dead-letter queue (no resource more)
    // The rule lives in the EventRules nested stack: read beside its target and queue (parameters replaced).
    const rules = defaultAppTemplates().platformWithEventRules.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.sagemaker'] } } });
    expect(Object.values(rules).map((r: any) => r.Properties.EventPattern)).toEqual([{ source: ['aws.sagemaker'], 'detail-type': ['SageMaker Training Job State Change', 'SageMaker Endpoint State Change'] }]);
    const target = (Object.values(rules)[0] as any).Properties.Targets[0];
    expect(target).toMatchObject({ RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/TrainingStateChangesDeadLetters/), 'Arn'] } } });
  });

  it('re-checks a deployment\'s endpoint through a delayed queue of its own: KMS, TLS only, its failures in a dead-letter queue of their own, read and written by the events Lambda alone', () => {
    const queues = platform.findResources('AWS::SQS::Queue', { Properties: { QueueName: 'tessera-fine-tuning-endpoint-checks' } });
    expect(Object.keys(queues)).toHaveLength(1);
    const [queueId, queue] = Object.entries(queues)[0] as [string, any];
    expect(queue.Properties).toMatchObject({
      KmsMasterKeyId: expect.anything(), VisibilityTimeout: 360,
      // A dead-letter queue of its own (tessera dlq redrive moves a source queue's dead letters back to it)
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [expect.stringMatching(/EndpointChecksDeadLettersDlq/), 'Arn'] }, maxReceiveCount: 5 },
    });
    platform.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'tessera-dlq-fine-tuning-endpoint-checks', KmsMasterKeyId: Match.anyValue() });
    const tls = Object.values(platform.findResources('AWS::SQS::QueuePolicy')).find((p: any) => JSON.stringify(p.Properties.Queues).includes(queueId)) as any;
    expect(tls.Properties.PolicyDocument.Statement).toEqual([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]);
    // The events Lambda's mapping, reporting each failed message
    const mappings = Object.values(platform.findResources('AWS::Lambda::EventSourceMapping')).filter((m: any) => JSON.stringify(m.Properties.EventSourceArn).includes(queueId)) as any[];
    expect(mappings).toHaveLength(1);
    expect(mappings[0].Properties).toMatchObject({ FunctionName: { Ref: expect.stringMatching(/FineTuningEvents/) }, BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: 2 } });
    // ...and only its policy names the queue, with the four actions it needs (SendMessage, and the mapping's three: no ChangeMessageVisibility)
    const policies = (Object.values(platform.findResources('AWS::IAM::ManagedPolicy')) as any[]).filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes(queueId));
    expect(policies).toHaveLength(1);
    expect(JSON.stringify(policies[0].Properties.Roles)).toMatch(/FineTuningEvents/);
    expect(policies[0].Properties.PolicyDocument.Statement.find((x: any) => x.Sid === 'EndpointChecks')).toEqual({
      Sid: 'EndpointChecks', Effect: 'Allow', Action: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage'], Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
  });

  it('lets tenant accounts forward training events through one statement-only bus policy (same Sid and logical ID as addToResourcePolicy gave)', () => {
    // GIVEN / WHEN: the default app (beforeAll, synthesized with deprecated APIs refused)
    const policies = platform.findResources('AWS::Events::EventBusPolicy');
    // THEN
    expect(Object.keys(policies)).toEqual(['LifecycleEventsBuscdkOrganizationForwardsTrainingEvents9E168B99']);
    const props = (Object.values(policies)[0] as any).Properties;
    expect(Object.keys(props).sort()).toEqual(['EventBusName', 'Statement', 'StatementId']);
    expect(props.EventBusName).toEqual({ Ref: expect.stringMatching(/^LifecycleEventsBus/) });
    expect(props.StatementId).toBe('cdk-OrganizationForwardsTrainingEvents');
    expect(props.Statement).toEqual({
      Sid: 'cdk-OrganizationForwardsTrainingEvents', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'events:PutEvents',
      Resource: { 'Fn::GetAtt': [props.EventBusName.Ref, 'Arn'] },
      Condition: {
        StringEquals: { 'aws:PrincipalOrgID': 'o-exampleorg1' },
        'ForAllValues:StringEquals': { 'events:source': ['aws.sagemaker'], 'events:detail-type': ['SageMaker Training Job State Change', 'SageMaker Endpoint State Change'] },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/tessera/service-role/*' },
      },
    });
  });
});

describe('the gateway router and fine-tuned models', () => {
  it('may assume tenant model-invoker roles (invoke-only), inside the organization, and no launcher', () => {
    const policies = Object.values(platform.findResources('AWS::IAM::ManagedPolicy')) as any[];
    const router = policies.find((p) => JSON.stringify(p.Properties.PolicyDocument).includes('TenantModelInvokers'))!;
    const s = router.Properties.PolicyDocument.Statement.find((x: any) => x.Sid === 'TenantModelInvokers');
    expect(s).toMatchObject({ Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { StringEquals: { 'aws:ResourceOrgID': 'o-exampleorg1' } } });
    expect(JSON.stringify(s.Resource)).toContain(':role/tessera-*-model-invoker');
    expect(JSON.stringify(router.Properties.PolicyDocument)).not.toContain('training-launcher');
  });
});
