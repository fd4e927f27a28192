import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import { UPGRADE_STATES } from '../lib/lifecycle-constants.js';
import type { LifecycleHandlerName } from '../lib/lifecycle-handlers.js';
import type { LifecycleKind } from '../lib/tenant-record.js';
import { WORKFLOW_TIMEOUT_SECONDS } from '../lib/lifecycle-workflow-timeouts.js';
import { RETRYABLE_ERRORS } from '../lambdas/shared/errors.js';

export interface LifecycleWorkflowsProps {
  /** The lifecycle functions by handler; `enable-regions` only when the config deploys it (lib/lifecycle-handlers.ts deployedLifecycleHandlers). */
  readonly functions: Record<LifecycleHandlerName, lambda.IFunction>;
  /**
   * The fine-tuning events Lambda (constructs/fine-tuning.ts), which every tenant's
   * training-launcher role trusts: offboarding invokes it directly (`{ action:
   * "retire-fine-tuned-models", tenantId }`) to stop the tenant's training jobs and delete its
   * fine-tuned models' endpoints before the stack deletion (lambdas/fine-tuning/retire-fine-tuned-models.ts).
   */
  readonly fineTuningEvents: lambda.IFunction;
  /** Encrypts the execution logs (and the work bucket, whose objects the upgrade reads and writes). */
  readonly encryptionKey: kms.IKey;
  /**
   * The lifecycle work bucket: the rolling upgrade reads its items from
   * `upgrades/<requestId>/items.json` and writes its results under `upgrades/<requestId>/results/`;
   * the drift run writes its results under `drift/<execution name>/results/`.
   */
  readonly workBucket: s3.IBucket;
  /**
   * Pause between polls of Organizations and CloudFormation.
   * @default - 20 s for account creation, 30 s for stacks and slots
   */
  readonly pollInterval?: Duration;
  /**
   * Concurrency and failure tolerance of a rolling upgrade.
   *
   * AWS Organizations: each child run of an account tenant whose last operation failed (or whose tier changes) runs
   * *Move account* (ListRoots, ListOrganizationalUnitsForParent, ListParents, then at most one MoveAccount, up to 3 when
   * another mover races it: organization-lookup.ts moveAccountTo) and *Tag account* (UntagResource when keys are dropped,
   * TagResource), one call at a time, all through the management account's Organizations endpoint, whose quotas apply to
   * the organization ("Quotas for AWS Organizations", Throttling limits:
   * https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html). So `maxConcurrency` bounds the
   * Organizations calls in flight from an upgrade at that many (5: a few calls a second at most, the runs' stack
   * deployments taking minutes between them). A throttled call (`TooManyRequestsException`: "You have sent too many requests
   * in too short a period of time … Try again later": Organizations API Reference, TooManyRequestsException) or one meeting another change of the
   * same account (`ConcurrentModificationException`) is retried by the SDK (3 attempts: aws-clients.ts build), then by the
   * state's Retry (RETRYABLE_ERRORS: 2 s doubling, full jitter, 6 attempts; `task`) before the run fails for that tenant.
   * @default - 5 tenants at a time, 10% may fail
   */
  readonly upgrade?: { maxConcurrency: number; toleratedFailurePercentage: number };
  /**
   * Tenants whose stacks the drift workflow checks at a time (its Map's MaxConcurrency). Each
   * tenant runs DetectStackDrift on one or two stacks; CloudFormation documents no numeric quota
   * for concurrent drift detections, but the detection reads every resource through its service's
   * Describe APIs with the provisioning session, and those calls share the account's API rate
   * limits with everything else: 10 keeps a shared workload account (every VPC-mode tenant) at
   * 10 detections at once, and Throttling is retried with backoff.
   * @default 10
   */
  readonly driftConcurrency?: number;
}

/**
 * Lifecycle function ARNs per managed policy of the state machine role: 45 ARNs of 116 characters (a
 * generated 64-character function name in a Region with a 14-character name) and the statement around
 * them are about 5,500 characters, within IAM's 6,144 per managed policy with room to spare.
 */
const FUNCTIONS_PER_INVOKE_POLICY = 45;

/**
 * Lambda's transient service errors as Step Functions reports an Invoke that failed on Lambda's side (a 500, or Lambda's
 * concurrency throttle), retried on every task as the Step Functions developer guide recommends ("Handle transient Lambda
 * service exceptions", https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html: these four
 * names plus `Lambda.TooManyRequestsException`, interval 2 s, 6 attempts, backoff 2). Before, the list lacked
 * `Lambda.ClientExecutionTimeoutException` (the step failed into Record failure on it) and stopped after 3 attempts.
 */
const LAMBDA_TRANSIENT = ['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'];

/**
 * A Lambda function that ran out of time (or died unhandled): `Sandbox.Timedout` as Lambda reports a function timeout,
 * `Lambda.Unknown` as the developer guide names unhandled errors (out of memory, timeouts), `States.Timeout` should a task
 * ever set TimeoutSeconds. What the function did before it died is not known, so only a poll step (`poll`: one the
 * workflow runs again after every Wait, so that a retry is the next poll early; see `task`) retries them; every other
 * step fails into its Catch and the registry's failure record (Record failure reads back what the step may have done).
 */
const FUNCTION_TIMEOUT = ['Sandbox.Timedout', 'Lambda.Unknown', 'States.Timeout'];

/**
 * The tenant lifecycle state machines (standard workflows, logging ALL, X-Ray): onboard, change,
 * suspend/resume, offboard and the rolling upgrade. Every task retries throttling with
 * exponential backoff and jitter; every failure is caught by `Record failure`, which cleans up and
 * leaves the registry saying which step failed and why. Waiting happens in Wait states, never in
 * a sleeping Lambda.
 */
export class LifecycleWorkflows extends Construct {
  readonly onboard: sfn.StateMachine;
  readonly change: sfn.StateMachine;
  readonly status: sfn.StateMachine;
  readonly offboard: sfn.StateMachine;
  readonly upgrade: sfn.StateMachine;
  /** The drift workflow: DetectStackDrift on every ACTIVE tenant's stacks, recorded in the registry. */
  readonly drift: sfn.StateMachine;
  private readonly fns: Record<LifecycleHandlerName, lambda.IFunction>;
  private readonly fineTuningEvents: lambda.IFunction;
  private readonly poll: Duration;

  constructor(scope: Construct, id: string, props: LifecycleWorkflowsProps) {
    super(scope, id);
    this.fns = props.functions;
    this.fineTuningEvents = props.fineTuningEvents;
    this.poll = props.pollInterval ?? Duration.seconds(30);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'Tessera lifecycle state machines: invoke the lifecycle functions, log, trace',
    });
    // The lifecycle functions' ARNs in managed policies of their own, at most FUNCTIONS_PER_INVOKE_POLICY
    // each: IAM refuses a managed policy document of more than 6,144 characters (whitespace not counted;
    // "IAM and AWS STS quotas", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html),
    // and the ARN of a function CloudFormation names (`TesseraPlatform-<logical id>-<suffix>`, 64
    // characters) is up to 116 characters in a Region with a 14-character name. Beside the statements of
    // `Policy` the 38 ARNs made 6,017 characters in us-east-1 and 6,222 homed in ap-northeast-1, so
    // CreatePolicy failed on the first deploy of a platform homed in Tokyo, Seoul, Singapore, Sydney….
    const functionArns = Object.values(this.fns).map((f) => f.functionArn);
    const invokePolicies = Array.from({ length: Math.ceil(functionArns.length / FUNCTIONS_PER_INVOKE_POLICY) }, (_, i) => new iam.ManagedPolicy(this, i === 0 ? 'InvokePolicy' : `InvokePolicy${i + 1}`, {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ sid: 'InvokeLifecycleFunctions', actions: ['lambda:InvokeFunction'], resources: functionArns.slice(i * FUNCTIONS_PER_INVOKE_POLICY, (i + 1) * FUNCTIONS_PER_INVOKE_POLICY) }),
      ],
    }));
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      roles: [role],
      statements: [
        // Offboarding's *Retire fine-tuned models*: this one function of the fine-tuning construct, nothing else of it.
        new iam.PolicyStatement({ sid: 'InvokeFineTuningRetirement', actions: ['lambda:InvokeFunction'], resources: [props.fineTuningEvents.functionArn] }),
        new iam.PolicyStatement({
          sid: 'ExecutionLogs',
          actions: ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({ sid: 'Traces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], resources: ['*'] }),
        // The rolling upgrade's Distributed Map: ItemReader (GetObject of the item list) and
        // ResultWriter (PutObject, multipart, and GetObject of its own parts) under upgrades/ only.
        new iam.PolicyStatement({ sid: 'UpgradeItems', actions: ['s3:GetObject'], resources: [props.workBucket.arnForObjects('upgrades/*/items.json')] }),
        new iam.PolicyStatement({
          sid: 'UpgradeResults',
          actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
          resources: [props.workBucket.arnForObjects('upgrades/*/results/*')],
        }),
        // The drift run's Distributed Map writes its results under drift/<execution name>/results/.
        new iam.PolicyStatement({
          sid: 'DriftResults',
          actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
          resources: [props.workBucket.arnForObjects('drift/*/results/*')],
        }),
        new iam.PolicyStatement({
          sid: 'WorkBucketKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      ],
    });
    acknowledge(policy, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
      'CloudWatch Logs delivery actions (CreateLogDelivery and the rest) and the X-Ray actions have no resource type; Step Functions documents them on "*" for execution logging and tracing.');
    acknowledge(policy, [wildcardResourceFinding(this, props.workBucket.arnForObjects('upgrades/*/items.json')), wildcardResourceFinding(this, props.workBucket.arnForObjects('upgrades/*/results/*'))],
      'Each rolling upgrade has its own prefix upgrades/<requestId>/ in the lifecycle work bucket, chosen at run time; the state machine may read only the item lists and write only under results/, and Step Functions names the result files after the map run.');
    acknowledge(policy, [wildcardResourceFinding(this, props.workBucket.arnForObjects('drift/*/results/*'))],
      'Each drift run writes its Distributed Map results under drift/<execution name>/results/ in the lifecycle work bucket, named at run time; only there.');
    const immutableRole = iam.Role.fromRoleArn(this, 'RoleRef', role.roleArn, { mutable: false });

    const machine = (name: string, definition: sfn.IChainable, timeout: Duration) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        logGroupName: `/aws/vendedlogs/states/tessera-${name.toLowerCase()}`,
        encryptionKey: props.encryptionKey,
        retention: logs.RetentionDays.ONE_YEAR,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const sm = new sfn.StateMachine(this, name, {
        stateMachineName: `tessera-${name.toLowerCase()}`,
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromChainable(definition),
        role: immutableRole,
        tracingEnabled: true,
        timeout,
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      });
      sm.node.addDependency(policy, ...invokePolicies);
      return sm;
    };

    // The timeouts are lib/lifecycle-workflow-timeouts.ts's: `tessera platform health` reads an operation still RUNNING after its own as stuck.
    const timeout = (w: keyof typeof WORKFLOW_TIMEOUT_SECONDS) => Duration.seconds(WORKFLOW_TIMEOUT_SECONDS[w]);
    this.onboard = machine('Onboard', this.onboardDefinition(), timeout('onboard'));
    this.change = machine('Change', this.changeDefinition('Change', 'change'), timeout('change'));
    this.status = machine('Status', this.statusDefinition(), timeout('status'));
    this.offboard = machine('Offboard', this.offboardDefinition(), timeout('offboard'));
    this.upgrade = machine('Upgrade', this.upgradeDefinition(props.upgrade ?? { maxConcurrency: 5, toleratedFailurePercentage: 10 }, props), timeout('upgrade'));
    this.drift = machine('Drift', this.driftDefinition(props.driftConcurrency ?? 10, props.workBucket), timeout('drift'));
    // Each distributed Map attaches its own policy (start, describe and stop its child executions).
    for (const [sm, what] of [[this.upgrade, 'a rolling upgrade'], [this.drift, 'a drift run']] as const) {
      const mapPolicy = sm.node.findChild('DistributedMapPolicy');
      const childExecutions = (mapPolicy.node.defaultChild as iam.CfnPolicy).policyDocument as iam.PolicyDocument;
      acknowledge(mapPolicy, ['HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy', 'NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy'],
        'aws-cdk-lib attaches the distributed Map\'s policy to the state machine role itself, scoped to the executions of this one state machine; it offers no managed-policy option.');
      acknowledge(mapPolicy, childExecutionFindings(this, childExecutions),
        `Each tenant of ${what} runs as a child execution of this state machine, named at run time; the wildcard covers only those executions.`);
    }
  }

  /**
   * A Lambda task: state name = construct id; the result lands at `resultPath`. With
   * `waitWhileBusy`, StackBusy (a stack being deleted, or one the step just started deleting) and
   * AccountCreationPending (Organizations still creating an account) are retried for up to about
   * an hour instead of two minutes: deleting a dead tenant stack with its database takes
   * CloudFormation 5 to 20 minutes. With `waitForLease`, TenantBusy (another operation holds the
   * tenant's lease) is retried for about an hour: the operation queues. Every task retries Lambda's transient
   * service errors (LAMBDA_TRANSIENT). With `poll`, a function timeout too (FUNCTION_TIMEOUT): a step the workflow runs
   * again after each Wait, so a retry is only the next poll early (Acquire account slot: a conditional write of the
   * execution's own slot; Check account: records what Organizations reports; Check <stack>: reads the stack, records it,
   * and its one write, the database's deletion protection switched on, is lease-guarded and seen by the next poll as its
   * own update; Check drift: reads the detections and records them). Any other step leaves a timeout to its Catch: it may
   * have made its AWS call before it died (CreateAccount, CreateStack, ExecuteChangeSet, DeleteStack, a usage key…), and
   * Record failure reads back what it did. Check regions and Check customizations are not `poll`: each may start the next
   * region's opt-in or the next customization's stack.
   */
  private task(scope: Construct, name: string, handler: LifecycleHandlerName | lambda.IFunction, resultPath: string, payload?: Record<string, unknown>, options: { waitWhileBusy?: boolean; waitForLease?: boolean; poll?: boolean } = {}): tasks.LambdaInvoke {
    const t = new tasks.LambdaInvoke(scope, name, {
      lambdaFunction: typeof handler === 'string' ? this.fns[handler] : handler,
      payloadResponseOnly: true,
      payload: payload ? sfn.TaskInput.fromObject(payload) : undefined,
      resultPath,
      retryOnServiceExceptions: false,
    });
    // The first matching retrier applies: the waits get their own after the throttling one.
    const retryable = options.waitWhileBusy ? RETRYABLE_ERRORS.filter((e) => e !== 'StackBusy') : [...RETRYABLE_ERRORS];
    t.addRetry({ errors: retryable, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 6, jitterStrategy: sfn.JitterType.FULL });
    if (options.waitWhileBusy) t.addRetry({ errors: ['StackBusy', 'AccountCreationPending'], interval: Duration.seconds(30), backoffRate: 1.5, maxDelay: Duration.minutes(5), maxAttempts: 15 });
    // A change set still being created (change-set-guard.ts): inspected again after a pause, for up to about 20 minutes.
    if (options.waitWhileBusy) t.addRetry({ errors: ['ChangeSetPending'], interval: Duration.seconds(10), backoffRate: 1.5, maxDelay: Duration.minutes(2), maxAttempts: 15 });
    // The rolling upgrade queues behind a tenant's running operation instead of being refused.
    if (options.waitForLease) t.addRetry({ errors: ['TenantBusy'], interval: Duration.seconds(60), backoffRate: 1.5, maxDelay: Duration.minutes(10), maxAttempts: 12 });
    t.addRetry({ errors: LAMBDA_TRANSIENT, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 6, jitterStrategy: sfn.JitterType.FULL });
    // A poll step's function timed out: run it again, as the next poll would (FUNCTION_TIMEOUT); twice, then the Catch.
    if (options.poll) t.addRetry({ errors: FUNCTION_TIMEOUT, interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 2 });
    return t;
  }

  private wait(scope: Construct, name: string, seconds?: number): sfn.Wait {
    return new sfn.Wait(scope, name, { time: sfn.WaitTime.duration(seconds ? Duration.seconds(seconds) : this.poll) });
  }

  /**
   * `Record failure` then a Fail state; every task of `kind`'s machine is caught into it. An
   * execution whose operation took effect (its completing write made, history SUCCEEDED) and only
   * its announcement failed after that write (record-failure.ts `recorded`: `announced`, sent by
   * Record failure; `announcement-owed`, still owed on the record for `tessera tenants retry`) ends
   * SUCCEEDED, as the registry records it, in a state that says which: the tenant's work is done,
   * and the announcement is the registry's outbox's business (announcements.ts).
   */
  private failure(scope: Construct, kind: LifecycleKind, prefix = ''): sfn.IChainable {
    const record = this.task(scope, `${prefix}Record failure`, 'record-failure', '$.failure', {
      'request.$': '$.request', 'executionArn.$': '$.executionArn', kind, 'error.$': '$.error', 'failedStep.$': '$.failedStep',
    });
    const failed = new sfn.Fail(scope, `${prefix}${kind[0].toUpperCase()}${kind.slice(1)} failed`, { errorPath: '$.error.Error', causePath: '$.failure.reason' });
    this.notRecorded(scope, prefix, record, `${prefix}${kind[0].toUpperCase()}${kind.slice(1)} failed, not recorded`);
    return record.next(this.tookEffect(scope, prefix, failed));
  }

  /**
   * The Catch of a failure recorder (`recorder`: *Record failure*, *Record status failure*) that itself failed after its
   * retries (the registry write throttled for good, its Lambda timed out, a bug): a Fail state named `name` whose error is
   * the failed step's (`$.error.Error`) and whose cause is the step's error as JSON with the recorder's beside it
   * (`{"Error","Cause","recordFailure":{"Error","Cause"}}`, built by a Pass: the Fail state's CausePath is a path).
   * *End stopped execution* records that (failedRecorderCause): the failure the registry and the bus then carry names
   * what failed and why, and that it was not recorded. Before, the recorder's own error was the execution's, so the
   * failure read "execution FAILED: States.Timeout at "Check account"" (the step that failed named, with the
   * recorder's error): the step's own error (EMAIL_ALREADY_EXISTS, a quota named) was in no record.
   * The cause fits Step Functions' 32,768 characters because every lifecycle step's error is thrown cut to 16,000 as
   * nested here (lambdas/shared/error-size.ts boundedError, in lambdas/shared/handler.ts).
   */
  private notRecorded(scope: Construct, prefix: string, recorder: tasks.LambdaInvoke, name: string): void {
    const cause = new sfn.Pass(scope, `${prefix}Failure not recorded`, {
      parameters: { 'Error.$': '$.error.Error', 'Cause.$': 'States.JsonToString($.error)' }, resultPath: '$.notRecorded',
    });
    cause.next(new sfn.Fail(scope, name, { errorPath: '$.notRecorded.Error', causePath: '$.notRecorded.Cause' }));
    recorder.addCatch(cause, { errors: ['States.ALL'], resultPath: '$.error.recordFailure' });
  }

  /** The Choice after a failure recorder (`$.failure.recorded`): an operation that took effect ends SUCCEEDED, anything else in `failed`. */
  private tookEffect(scope: Construct, prefix: string, failed: sfn.Fail): sfn.Choice {
    const recorded = (value: string) => sfn.Condition.and(sfn.Condition.isPresent('$.failure.recorded'), sfn.Condition.stringEquals('$.failure.recorded', value));
    return new sfn.Choice(scope, `${prefix}Took effect?`)
      .when(recorded('announced'), new sfn.Succeed(scope, `${prefix}Took effect, announced late`))
      .when(recorded('announcement-owed'), new sfn.Succeed(scope, `${prefix}Took effect, announcement owed`))
      .otherwise(failed);
  }

  /**
   * Catches every error of `states` into `handler` through a Pass state per task that records the
   * task's name at `$.failedStep`: the failure names the step where it happened, whatever the
   * registry could record before it.
   */
  private catchAll(states: sfn.TaskStateBase[], handler: sfn.IChainable): void {
    for (const s of states) {
      const caught = new sfn.Pass(s, 'Caught', { stateName: `Failed at ${s.stateId}`.slice(0, 80), result: sfn.Result.fromString(s.stateId), resultPath: '$.failedStep' });
      caught.next(handler);
      s.addCatch(caught, { errors: ['States.ALL'], resultPath: '$.error' });
    }
  }

  private start(scope: Construct, name: string, requestPath = '$'): sfn.Pass {
    return new sfn.Pass(scope, name, { parameters: { 'request.$': requestPath, 'executionArn.$': '$$.Execution.Id' } });
  }

  /**
   * Deploy a blueprint, then poll it until it is complete (or fails, which throws into the Catch).
   * `baseline` is the account baseline (the blueprint execution role), deployed before the tenant
   * blueprint of every onboarding and change; `dr` the DR blueprint of a tier with disaster
   * recovery (in its DR region), deployed after the baseline and before the tenant blueprint. A tenant blueprint whose
   * deploy answered `interim: true` (an interim update, cache-failover-interim.ts) is deployed again once that is complete.
   */
  private deployAndWait(scope: Construct, label: 'baseline' | 'blueprint' | 'namespace' | 'dr', prefix: string, extra: Record<string, unknown> = {}, refused?: sfn.IChainable) {
    const kind = { baseline: 'baseline', blueprint: 'tenant', namespace: 'namespace', dr: 'dr' }[label];
    const payload = { 'request.$': '$.request', 'executionArn.$': '$.executionArn', blueprint: kind, ...extra };
    const title = { baseline: 'account baseline', blueprint: 'blueprint', namespace: 'namespace', dr: 'DR blueprint' }[label];
    const Title = `${title[0].toUpperCase()}${title.slice(1)}`;
    // `stateName`: the handler records the state it runs as (Deploy namespace, Check DR blueprint…), not its own name (handler.ts stateNameOf).
    const deploy = this.task(scope, `${prefix}Deploy ${title}`, 'deploy-blueprint', '$.deploy', { ...payload, stateName: `${prefix}Deploy ${title}` }, { waitWhileBusy: true });
    // Before catchAll's States.ALL: the first matching catcher applies.
    if (refused) {
      const named = new sfn.Pass(deploy, 'Refused', { stateName: `Refused at ${deploy.stateId}`.slice(0, 80), result: sfn.Result.fromString(deploy.stateId), resultPath: '$.failedStep' });
      named.next(refused);
      deploy.addCatch(named, { errors: ['ChangeRefused'], resultPath: '$.error' });
    }
    const wait = this.wait(scope, `${prefix}Wait for ${title}`);
    // Deploy's answer (`$.deploy`: the change set it executed): Check takes the stack's status for that update only once it shows (executed-change-set.ts).
    const check = this.task(scope, `${prefix}Check ${title}`, 'check-stack', '$.stack', { ...payload, 'deploy.$': '$.deploy', stateName: `${prefix}Check ${title}` }, { poll: true });
    const done = new sfn.Choice(scope, `${prefix}${Title} deployed?`);
    const next = new sfn.Pass(scope, `${prefix}${Title} ready`);
    // A tenant stack update Deploy blueprint ran as an interim (`$.deploy.interim`: the cache's failover off while its first
    // replica is added, lambdas/lifecycle/cache-failover-interim.ts): once it is complete, Deploy blueprint again, for the target.
    if (label === 'blueprint') {
      done.when(sfn.Condition.and(sfn.Condition.stringEquals('$.stack.state', 'COMPLETE'), sfn.Condition.isPresent('$.deploy.interim'), sfn.Condition.booleanEquals('$.deploy.interim', true)), deploy);
    }
    deploy.next(wait).next(check).next(done.when(sfn.Condition.stringEquals('$.stack.state', 'COMPLETE'), next).otherwise(wait));
    return { first: deploy, last: next, tasks: [deploy, check] };
  }

  /**
   * *Enable regions* (lambdas/lifecycle/enable-regions.ts): for an account tier needing an opt-in region (`optInPath`, set
   * by validate-request or begin-change, present only then), the step reads each region's opt-in status in the tenant's
   * account and enables the disabled ones, then *Wait for regions* (60 s) and *Check regions* (the same function, with the
   * previous poll's `$.regions`, whose `since` bounds the wait: REGION_ENABLE_WAIT_MS) until every one is ENABLED. Without
   * `optInPath` the Choice goes straight to `next`: no Lambda, no API call. With a config whose account tiers need no opt-in
   * region (the default) there is no `enable-regions` function and none of these states: `next` directly.
   */
  private enableRegions(scope: Construct, prefix: string, optInPath: string, next: sfn.IChainable, extra: Record<string, unknown> = {}): { entry: sfn.IChainable; tasks: tasks.LambdaInvoke[] } {
    // No function (no account tier needs an opt-in region: lib/lifecycle-handlers.ts deployedLifecycleHandlers): no states either.
    if (!this.fns['enable-regions']) return { entry: next, tasks: [] };
    const payload = { 'request.$': '$.request', 'executionArn.$': '$.executionArn', ...extra };
    const enable = this.task(scope, `${prefix}Enable regions`, 'enable-regions', '$.regions', { ...payload, stateName: `${prefix}Enable regions` });
    const check = this.task(scope, `${prefix}Check regions`, 'enable-regions', '$.regions', { ...payload, 'regions.$': '$.regions', stateName: `${prefix}Check regions` });
    const wait = this.wait(scope, `${prefix}Wait for regions`, 60);
    const done = (name: string) => new sfn.Choice(scope, name).when(sfn.Condition.stringEquals('$.regions.state', 'ENABLED'), next).otherwise(wait);
    enable.next(done(`${prefix}Regions enabled?`));
    wait.next(check).next(done(`${prefix}Regions ready?`));
    const entry = new sfn.Choice(scope, `${prefix}Opt-in regions?`).when(sfn.Condition.isPresent(optInPath), enable).otherwise(next);
    return { entry, tasks: [enable, check] };
  }

  /**
   * *Deploy customizations* (lambdas/lifecycle/deploy-customizations.ts), after the tier blueprint (and namespace): each
   * account customization of the target tier as its own stack in the tenant's account, one after the other; then *Wait
   * for customizations* and *Check customizations* (the same function, with the previous answer `$.customizations`) until
   * every one stands (`COMPLETE`), then `next`. StackBusy and ChangeSetPending wait as a blueprint's deploy does; with
   * `refused` (the rolling upgrade), a refused change set takes the refusal path. Without any tier with
   * `accountCustomizations` there is no function and none of these states: `next` directly.
   */
  private customizations(scope: Construct, prefix: string, next: sfn.IChainable, extra: Record<string, unknown> = {}, refused?: sfn.IChainable): { entry: sfn.IChainable; tasks: tasks.LambdaInvoke[] } {
    if (!this.fns['deploy-customizations']) return { entry: next, tasks: [] };
    const payload = { 'request.$': '$.request', 'executionArn.$': '$.executionArn', ...extra };
    const deploy = this.task(scope, `${prefix}Deploy customizations`, 'deploy-customizations', '$.customizations', { ...payload, stateName: `${prefix}Deploy customizations` }, { waitWhileBusy: true });
    const check = this.task(scope, `${prefix}Check customizations`, 'deploy-customizations', '$.customizations',
      { ...payload, 'customizations.$': '$.customizations', stateName: `${prefix}Check customizations` }, { waitWhileBusy: true });
    if (refused) {
      for (const t of [deploy, check]) {
        const named = new sfn.Pass(t, 'Refused', { stateName: `Refused at ${t.stateId}`.slice(0, 80), result: sfn.Result.fromString(t.stateId), resultPath: '$.failedStep' });
        named.next(refused);
        t.addCatch(named, { errors: ['ChangeRefused'], resultPath: '$.error' });
      }
    }
    const wait = this.wait(scope, `${prefix}Wait for customizations`);
    const done = (name: string) => new sfn.Choice(scope, name).when(sfn.Condition.stringEquals('$.customizations.state', 'COMPLETE'), next).otherwise(wait);
    deploy.next(done(`${prefix}Customizations deployed?`));
    wait.next(check).next(done(`${prefix}Customizations ready?`));
    return { entry: deploy, tasks: [deploy, check] };
  }

  private onboardDefinition(): sfn.IChainable {
    const s = new Construct(this, 'OnboardStates');
    const fail = this.failure(s, 'onboard');
    const validate = this.task(s, 'Validate request', 'validate-request', '$.request');
    const register = this.task(s, 'Register tenant', 'register-tenant', '$.registration');
    const acquire = this.task(s, 'Acquire account slot', 'acquire-account-slot', '$.slot', undefined, { poll: true });
    const createAccount = this.task(s, 'Create account', 'create-account', '$.account');
    const checkAccount = this.task(s, 'Check account', 'check-account-status', '$.account', undefined, { poll: true });
    const release = this.task(s, 'Release account slot', 'release-account-slot', '$.slotRelease');
    const quarantine = this.task(s, 'Quarantine account', 'quarantine-account', '$.quarantine');
    // A new account Organizations does not list yet (eventually consistent after CreateAccount SUCCEEDED): 5 s, then up to a minute apart, about 7 minutes.
    quarantine.addRetry({ errors: ['AccountNotListedYet'], interval: Duration.seconds(5), backoffRate: 2, maxDelay: Duration.minutes(1), maxAttempts: 10 });
    const verify = this.task(s, 'Verify provisioning access', 'verify-provisioning-access', '$.access');
    verify.addRetry({ errors: ['ProvisioningRoleNotReady'], interval: Duration.seconds(30), backoffRate: 1.5, maxAttempts: 10 });
    // An account tier with an opt-in home or DR region: enabled in the new account before the first call into it (STS there, the baseline).
    const regions = this.enableRegions(s, '', '$.request.optInRegions', verify);
    // Account mode: the tier's On-Demand vCPU quotas are requested as soon as the account is reachable.
    const computeQuotas = this.task(s, 'Request compute quotas', 'request-compute-quotas', '$.computeQuotas');
    // A tier with deleteDefaultVpcs (AFT's feature option): the new account's default VPCs, before its network is allocated.
    const defaultVpcs = this.fns['delete-default-vpcs'] ? this.task(s, 'Delete default VPCs', 'delete-default-vpcs', '$.defaultVpcs') : undefined;
    // A tier with ebsEncryptionByDefault: the new account's EBS encryption by default, before any blueprint makes a volume.
    const ebsEncryption = this.fns['enable-ebs-encryption'] ? this.task(s, 'Enable EBS encryption by default', 'enable-ebs-encryption', '$.ebsEncryption') : undefined;
    // A tier with s3PublicAccessBlock: the new account's S3 Block Public Access, before any blueprint makes a bucket.
    const s3PublicAccessBlock = this.fns['set-s3-public-access-block'] ? this.task(s, 'Set S3 Block Public Access', 'set-s3-public-access-block', '$.s3PublicAccessBlock') : undefined;
    // A tier with alternateContacts: the new account's BILLING / OPERATIONS / SECURITY contacts, from the management account.
    const alternateContacts = this.fns['set-alternate-contacts'] ? this.task(s, 'Set alternate contacts', 'set-alternate-contacts', '$.alternateContacts') : undefined;
    const allocate = this.task(s, 'Allocate network', 'allocate-network', '$.network');
    const baseline = this.deployAndWait(s, 'baseline', '');
    const drStack = this.deployAndWait(s, 'dr', '');
    const tenantStack = this.deployAndWait(s, 'blueprint', '');
    const namespaceStack = this.deployAndWait(s, 'namespace', '');
    const wire = this.task(s, 'Wire tenant', 'wire-tenant', '$.wiring');
    const issueKey = this.task(s, 'Issue usage key', 'manage-usage-key', '$.usageKeyResult', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', stateName: 'Issue usage key', usageKey: 'issue' });
    const invite = this.inviteAdmin(s);
    const activate = this.task(s, 'Activate tenant', 'activate-tenant', '$.activation');
    // The platform team's account customizations, after the blueprints, before the tenant is wired and reachable.
    const custom = this.customizations(s, '', wire);
    this.catchAll([validate, register, acquire, createAccount, checkAccount, release, quarantine, ...regions.tasks, verify, computeQuotas, ...(defaultVpcs ? [defaultVpcs] : []), ...(ebsEncryption ? [ebsEncryption] : []), ...(s3PublicAccessBlock ? [s3PublicAccessBlock] : []), ...(alternateContacts ? [alternateContacts] : []), allocate, ...baseline.tasks, ...drStack.tasks, ...tenantStack.tasks, ...namespaceStack.tasks, ...custom.tasks, wire, issueKey, invite.recordFailure, activate], fail);

    const waitSlot = this.wait(s, 'Wait for account slot');
    const waitAccount = this.wait(s, 'Wait for account', 20);
    const waitRetryAccount = this.wait(s, 'Wait before retrying account', 60);

    const accountPath = acquire.next(
      new sfn.Choice(s, 'Slot free?')
        .when(sfn.Condition.booleanEquals('$.slot.acquired', true), createAccount)
        .otherwise(waitSlot.next(acquire)),
    );
    createAccount.next(
      new sfn.Choice(s, 'Account created?')
        .when(sfn.Condition.stringEquals('$.account.state', 'SUCCEEDED'), release)
        .otherwise(waitAccount.next(checkAccount).next(
          new sfn.Choice(s, 'Account ready?')
            .when(sfn.Condition.stringEquals('$.account.state', 'SUCCEEDED'), release)
            .when(sfn.Condition.stringEquals('$.account.state', 'RETRY'), waitRetryAccount.next(createAccount))
            .otherwise(waitAccount),
        )),
    );
    release.next(quarantine).next(regions.entry);
    // Request compute quotas, then the account settings each tier asks for (Delete default VPCs, Enable EBS encryption by
    // default, Set S3 Block Public Access, Set alternate contacts), then Allocate network.
    const accountSettings = [computeQuotas, ...(defaultVpcs ? [defaultVpcs] : []), ...(ebsEncryption ? [ebsEncryption] : []), ...(s3PublicAccessBlock ? [s3PublicAccessBlock] : []), ...(alternateContacts ? [alternateContacts] : [])];
    verify.next(accountSettings[0]);
    accountSettings.forEach((state, i) => state.next(accountSettings[i + 1] ?? allocate));

    allocate.next(baseline.first);
    // A tier with disaster recovery: its DR blueprint first, in the DR region; the primary's replication and backup copies target it.
    baseline.last.next(new sfn.Choice(s, 'Has DR region?').when(sfn.Condition.isPresent('$.request.drRegion'), drStack.first).otherwise(tenantStack.first));
    drStack.last.next(tenantStack.first);
    tenantStack.last.next(
      new sfn.Choice(s, 'Needs namespace?')
        .when(sfn.Condition.stringEquals('$.request.computeMode', 'shared'), namespaceStack.first)
        .otherwise(custom.entry),
    );
    namespaceStack.last.next(custom.entry);
    wire.next(issueKey).next(invite.invite).next(activate).next(new sfn.Succeed(s, 'Tenant active'));
    invite.recordFailure.next(activate);

    return this.start(s, 'Start onboarding')
      .next(validate)
      .next(register)
      .next(
        new sfn.Choice(s, 'Already onboarded?')
          .when(sfn.Condition.stringEquals('$.registration.action', 'done'), new sfn.Succeed(s, 'Nothing to do'))
          .otherwise(
            new sfn.Choice(s, 'Own account?')
              .when(sfn.Condition.stringEquals('$.request.isolation', 'account'), accountPath)
              .otherwise(allocate),
          ),
      );
  }

  /**
   * *Invite tenant admin* (lambdas/lifecycle/invite-tenant-admin.ts), just before *Activate tenant*: the tenant's first
   * admin invited into the platform pool, recorded on the tenant under the onboarding's lease. It never fails the
   * onboarding: every error its Retry does not cure goes, through its own Catch (not catchAll's, so not to *Record
   * failure*), to *Record invite failure*, the same function run with `$.inviteError`, which records the invitation
   * FAILED with that error; both go on to *Activate tenant*. Only a failure of that recording (the registry, the lease)
   * fails the onboarding, as any step's would.
   */
  private inviteAdmin(s: Construct): { invite: tasks.LambdaInvoke; recordFailure: tasks.LambdaInvoke } {
    const invite = this.task(s, 'Invite tenant admin', 'invite-tenant-admin', '$.adminInvite');
    // `stateName`: the registry's currentStep says Record invite failure while it runs, not Invite tenant admin (handler.ts stateNameOf).
    const recordFailure = this.task(s, 'Record invite failure', 'invite-tenant-admin', '$.adminInvite', {
      'request.$': '$.request', 'executionArn.$': '$.executionArn', stateName: 'Record invite failure', 'inviteError.$': '$.inviteError',
    });
    invite.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.inviteError' });
    return { invite, recordFailure };
  }

  /** Tier change or blueprint upgrade of one tenant; reused, with a prefix, as the upgrade's Map iterator. */
  private changeDefinition(scopeId: string, kind: 'change' | 'upgrade', prefix = ''): sfn.IChainable {
    const s = new Construct(this, `${scopeId}States`);
    const fail = this.failure(s, kind, prefix);
    // A tenant rebuilt in its DR region (check-rebuilt-stack.ts): refused before the lease, or a rolling upgrade's run skipped.
    // A step of its own: it reads the tenant's account, which Begin change, a lease-taking step, may not reach.
    const rebuilt = this.task(s, `${prefix}Check rebuilt stack`, 'check-rebuilt-stack', '$.rebuiltCheck', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'change.$': '$.change', kind });
    const begin = this.task(s, `${prefix}Begin change`, 'begin-change', '$.change', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'change.$': '$.change', kind }, { waitForLease: kind === 'upgrade' });
    const extra = { 'change.$': '$.change', kind };
    // A rolling upgrade's tenant whose change set was refused (a stateful resource would be
    // replaced or removed: change-set-guard.ts) is recorded like a failure (registry, bus), stays on
    // its version, and its child execution SUCCEEDS with `refused`: refusals do not count against
    // the map's failure tolerance, and the upgrade's summary lists them. A single change fails.
    const refused = kind === 'upgrade' ? this.refusal(s, prefix) : undefined;
    const baseline = this.deployAndWait(s, 'baseline', prefix, extra);
    const drStack = this.deployAndWait(s, 'dr', prefix, extra, refused);
    const tenantStack = this.deployAndWait(s, 'blueprint', prefix, extra, refused);
    const namespaceStack = this.deployAndWait(s, 'namespace', prefix, extra, refused);
    const moveKey = this.task(s, `${prefix}Move usage key`, 'manage-usage-key', '$.usageKeyResult', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'change.$': '$.change', stateName: `${prefix}Move usage key`, usageKey: 'issue' });
    const finish = this.task(s, `${prefix}Finish change`, 'finish-change', '$.result', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'change.$': '$.change', kind });
    // An account tier needing an opt-in region (a DR region changed to one, a move to such a tier): enabled before the baseline.
    const regions = this.enableRegions(s, prefix, '$.change.optInRegions', baseline.first, { 'change.$': '$.change' });
    moveKey.next(finish);
    // An account tenant's change of its own tags (begin-change's `tagAccount`): its AWS account retagged (Organizations
    // UntagResource / TagResource) once every stack took them, so a refused change set leaves the account as it was. In a
    // rolling upgrade's run (which never changes tags or the tier) only after a failure recorded on the tenant
    // (begin-change's `afterFailure`): `tessera:tier` put to its tier, as the failed tier change may not have.
    const tagAccount = this.task(s, `${prefix}Tag account`, 'tag-account', '$.accountTags', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'change.$': '$.change' });
    tagAccount.next(moveKey);
    // An account tenant's tier change or repair (begin-change's `moveAccount`): its AWS account put in the tier's OU
    // (tessera-<tier>; MoveAccount, move-account.ts) by the Tag account function, before the stacks, so the new tier's
    // blueprint deploys under the OU policies it will live under. In a rolling upgrade's run (same tier) only after a
    // failure recorded on the tenant: a tier change that failed after moving the account left it in that tier's OU.
    const moveAccount = this.task(s, `${prefix}Move account`, 'tag-account', '$.accountMove', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'change.$': '$.change', stateName: `${prefix}Move account`, accountStep: 'move' });
    moveAccount.next(regions.entry);
    const moveChoice = () => new sfn.Choice(s, `${prefix}Move the account?`).when(sfn.Condition.and(sfn.Condition.isPresent('$.change.moveAccount'), sfn.Condition.booleanEquals('$.change.moveAccount', true)), moveAccount).otherwise(regions.entry);
    const afterStacks = new sfn.Choice(s, `${prefix}Tag the account?`).when(sfn.Condition.and(sfn.Condition.isPresent('$.change.tagAccount'), sfn.Condition.booleanEquals('$.change.tagAccount', true)), tagAccount).otherwise(moveKey);
    // The target tier's account customizations re-applied after its blueprints (a tier change, a rolling upgrade, a repair).
    const custom = this.customizations(s, prefix, afterStacks, extra, refused);
    this.catchAll([rebuilt, begin, ...regions.tasks, ...baseline.tasks, ...drStack.tasks, ...tenantStack.tasks, ...namespaceStack.tasks, ...custom.tasks, tagAccount, moveAccount, moveKey, finish, ...(refused ? [refused.record] : [])], fail);
    if (kind === 'upgrade') {
      // A tenant no longer as the upgrade listed it (another tier or version, not ACTIVE: begin-change.ts)
      // is skipped, its history entry SKIPPED: the child SUCCEEDS with `skipped`, not counted against the tolerance.
      const left = new sfn.Succeed(s, `${prefix}Skipped, left as it is`);
      const skipped = new sfn.Pass(s, `${prefix}Skip recorded`, { parameters: { 'tenantId.$': '$.request.tenantId', skipped: true, 'reason.$': '$.change.reason' } });
      skipped.next(left);
      begin.next(new sfn.Choice(s, `${prefix}Skipped?`).when(sfn.Condition.and(sfn.Condition.isPresent('$.change.skipped'), sfn.Condition.booleanEquals('$.change.skipped', true)), skipped).otherwise(moveChoice()));
      // A rebuilt tenant's run is skipped the same way (its history entry SKIPPED with the reason), before the lease.
      const rebuiltSkipped = new sfn.Pass(s, `${prefix}Rebuilt skip recorded`, { parameters: { 'tenantId.$': '$.request.tenantId', skipped: true, 'reason.$': '$.rebuiltCheck.reason' } });
      rebuiltSkipped.next(left);
      rebuilt.next(new sfn.Choice(s, `${prefix}Rebuilt, skipped?`).when(sfn.Condition.and(sfn.Condition.isPresent('$.rebuiltCheck.skipped'), sfn.Condition.booleanEquals('$.rebuiltCheck.skipped', true)), rebuiltSkipped).otherwise(begin));
    } else {
      rebuilt.next(begin);
      begin.next(moveChoice());
    }
    // A target tier with disaster recovery: its DR blueprint is created or updated first. A move to a
    // tier without DR leaves the tenant's DR stack (recorded RETAINED) until offboarding.
    baseline.last.next(new sfn.Choice(s, `${prefix}Has DR region?`).when(sfn.Condition.isPresent('$.change.drRegion'), drStack.first).otherwise(tenantStack.first));
    drStack.last.next(tenantStack.first);
    tenantStack.last.next(
      new sfn.Choice(s, `${prefix}Needs namespace?`)
        .when(sfn.Condition.stringEquals('$.change.computeMode', 'shared'), namespaceStack.first)
        .otherwise(custom.entry),
    );
    namespaceStack.last.next(custom.entry);
    finish.next(new sfn.Succeed(s, `${prefix}Changed`));
    // Each tenant of an upgrade is a child execution of its own: its lease names the child.
    return new sfn.Pass(s, kind === 'upgrade' ? 'Start tenant upgrade' : 'Start change', {
      parameters: { 'request.$': '$.request', 'change.$': '$.change', 'executionArn.$': '$$.Execution.Id' },
    }).next(rebuilt);
  }

  /** The upgrade's refusal path: *Record refusal* (record-failure: registry, `Tenant Lifecycle Failed` with the resources), then a Succeed whose output says `refused`. */
  private refusal(scope: Construct, prefix: string): sfn.IChainable & { record: tasks.LambdaInvoke } {
    const record = this.task(scope, `${prefix}Record refusal`, 'record-failure', '$.failure', {
      'request.$': '$.request', 'executionArn.$': '$.executionArn', kind: 'upgrade', 'error.$': '$.error', 'failedStep.$': '$.failedStep',
    });
    const out = new sfn.Pass(scope, `${prefix}Refusal recorded`, {
      parameters: { 'tenantId.$': '$.request.tenantId', refused: true, 'refusal.$': '$.failure' },
    });
    record.next(out).next(new sfn.Succeed(scope, `${prefix}Refused, left on its version`));
    return Object.assign(record, { record });
  }

  private statusDefinition(): sfn.IChainable {
    const s = new Construct(this, 'StatusStates');
    const set = this.task(s, 'Set status', 'set-status', '$.result', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'action.$': '$.action' });
    // As failure(): a status write made whose announcement then failed ends SUCCEEDED, as the registry records it.
    const recordStatusFailure = this.task(s, 'Record status failure', 'record-failure', '$.failure', {
      'request.$': '$.request', 'executionArn.$': '$.executionArn', 'kind.$': '$.action', 'error.$': '$.error', 'failedStep.$': '$.failedStep',
    });
    this.notRecorded(s, '', recordStatusFailure, 'Status change failed, not recorded');
    const fail = recordStatusFailure.next(this.tookEffect(s, '', new sfn.Fail(s, 'Status change failed', { errorPath: '$.error.Error', causePath: '$.failure.reason' })));
    this.catchAll([set], fail);
    return new sfn.Pass(s, 'Start status change', {
      parameters: { 'request.$': '$.request', 'action.$': '$.action', 'executionArn.$': '$$.Execution.Id' },
    }).next(set).next(new sfn.Succeed(s, 'Status changed'));
  }

  private offboardDefinition(): sfn.IChainable {
    const s = new Construct(this, 'OffboardStates');
    const fail = this.failure(s, 'offboard');
    // A tenant rebuilt in its DR region (check-rebuilt-stack.ts) is refused before anything of the offboarding is done.
    // A step of its own: it reads the tenant's account, which Begin offboarding, a lease-taking step, may not reach.
    const rebuilt = this.task(s, 'Check rebuilt stack', 'check-rebuilt-stack', '$.rebuiltCheck', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', kind: 'offboard' });
    const begin = this.task(s, 'Begin offboarding', 'begin-offboarding', '$.offboarding');
    // Keys and users stop first (keys within the authorizer's revocation window), before any data moves.
    const revokeIdentities = this.task(s, 'Revoke tenant identities', 'revoke-tenant-identities', '$.identities', { 'request.$': '$.request', 'executionArn.$': '$.executionArn' });
    const revokeKey = this.task(s, 'Revoke usage key', 'manage-usage-key', '$.usageKeyResult', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', stateName: 'Revoke usage key', usageKey: 'revoke' });
    // Before anything is destroyed: the tenant's training jobs stopped and its fine-tuned models'
    // endpoints deleted (their network interfaces hold the tenant's subnets and security group, which
    // the stack deletion could not delete). In the fine-tuning events Lambda, which the tenant's
    // launcher role trusts; polled (Wait) until SageMaker has deleted every endpoint.
    const retireFineTuning = this.task(s, 'Retire fine-tuned models', this.fineTuningEvents, '$.fineTuning', {
      action: 'retire-fine-tuned-models', 'tenantId.$': '$.request.tenantId', 'requestId.$': '$.request.requestId', 'executionArn.$': '$.executionArn',
      // The previous run's answer (`{}` before the first): its waitingSince bounds the wait (MAX_WAIT_SECONDS).
      'previous.$': '$.fineTuning',
    });
    // Export records what the retirement reported (registry offboarding.fineTuning, audit): the fine-tuning Lambda's role may not write either.
    const exportData = this.task(s, 'Export tenant data', 'export-tenant-data', '$.export', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'export.$': '$.export', 'fineTuning.$': '$.fineTuning' },
      // A tenant stack still being created, whose outputs the onboarding never recorded, is waited for (stack-standing.ts unrecordedStackOutputs).
      { waitWhileBusy: true });
    const snapshot = this.task(s, 'Snapshot database', 'snapshot-database', '$.snapshot', {
      'request.$': '$.request', 'executionArn.$': '$.executionArn', 'snapshot.$': '$.snapshot', 'export.$': '$.export',
    });
    const liftProtections = this.task(s, 'Lift protections', 'lift-protections', '$.protections');
    const deleteStacks = this.task(s, 'Delete tenant stacks', 'delete-tenant-stacks', '$.deletion');
    const inventory = this.task(s, 'Inventory retained stores', 'inventory-retained-stores', '$.retained', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'export.$': '$.export' });
    const scheduleKey = this.task(s, 'Schedule key deletion', 'schedule-key-deletion', '$.key');
    const retire = this.task(s, 'Retire account', 'retire-account', '$.retirement', undefined, { waitWhileBusy: true });
    const finish = this.task(s, 'Finish offboarding', 'finish-offboarding', '$.result', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'export.$': '$.export' });
    // A tenant account's opt-in region (home, recorded DR) someone disabled since the onboarding: enabled again before the
    // first call into the account, after the keys and users stop (whose revocation must not wait for a region: up to hours).
    const regions = this.enableRegions(s, '', '$.offboarding.optInRegions', retireFineTuning, { 'offboarding.$': '$.offboarding' });
    // With offboarding.erasePooledGatewayData (only then is there a function): the tenant's stored responses, conversations,
    // batches, files and vector store records erased from the gateway's pooled stores, a bounded run at a time, until a run
    // reaches the end of its partition. Last before *Finish offboarding*: the irreversible erasure runs once everything else
    // succeeded. Without it (the default), in the same place: *Expire pooled gateway data*, which gives what the tenant
    // leaves there an expiry (the kept files and vector stores have none of their own), in the same loop.
    const pooledStep = this.fns['erase-pooled-gateway-data']
      ? { name: 'Erase pooled gateway data', handler: 'erase-pooled-gateway-data' as const, done: 'Pooled data erased?' }
      : this.fns['expire-pooled-gateway-data'] ? { name: 'Expire pooled gateway data', handler: 'expire-pooled-gateway-data' as const, done: 'Pooled data expiring?' } : undefined;
    const pooled = pooledStep && this.task(s, pooledStep.name, pooledStep.handler, '$.pooledData', { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'pooledData.$': '$.pooledData' });
    this.catchAll([rebuilt, begin, revokeIdentities, revokeKey, ...regions.tasks, retireFineTuning, exportData, snapshot, liftProtections, deleteStacks, inventory, scheduleKey, retire, ...(pooled ? [pooled] : []), finish], fail);

    const waitSnapshot = this.wait(s, 'Wait for snapshot', 60);
    const waitDeletion = this.wait(s, 'Wait for deletion');
    const waitProtections = this.wait(s, 'Wait for protections', 20);
    const waitFineTuning = this.wait(s, 'Wait for fine-tuned models', 30);
    retireFineTuning.next(new sfn.Choice(s, 'Fine-tuned models retired?').when(sfn.Condition.stringEquals('$.fineTuning.state', 'COMPLETE'), exportData).otherwise(waitFineTuning.next(retireFineTuning)));
    exportData.next(new sfn.Choice(s, 'Export done?').when(sfn.Condition.booleanEquals('$.export.done', true), snapshot).otherwise(exportData));
    snapshot.next(new sfn.Choice(s, 'Snapshot archived?').when(sfn.Condition.booleanEquals('$.snapshot.done', true), liftProtections).otherwise(waitSnapshot.next(snapshot)));
    liftProtections.next(new sfn.Choice(s, 'Protections lifted?').when(sfn.Condition.stringEquals('$.protections.state', 'COMPLETE'), deleteStacks).otherwise(waitProtections.next(liftProtections)));
    deleteStacks.next(new sfn.Choice(s, 'Stacks deleted?').when(sfn.Condition.stringEquals('$.deletion.state', 'COMPLETE'), inventory).otherwise(waitDeletion.next(deleteStacks)));
    if (pooled && pooledStep) {
      inventory.next(scheduleKey).next(retire).next(pooled);
      pooled.next(new sfn.Choice(s, pooledStep.done).when(sfn.Condition.stringEquals('$.pooledData.state', 'COMPLETE'), finish).otherwise(pooled));
    } else {
      inventory.next(scheduleKey).next(retire).next(finish);
    }
    finish.next(new sfn.Succeed(s, 'Tenant offboarded'));

    // `export`, `snapshot`, `fineTuning` (and `pooledData`) start empty: the handlers keep their progress there between loops.
    return new sfn.Pass(s, 'Start offboarding', {
      parameters: { 'request.$': '$.request', 'executionArn.$': '$$.Execution.Id', export: {}, snapshot: {}, fineTuning: {}, ...(pooled ? { pooledData: {} } : {}) },
    }).next(rebuilt).next(begin).next(revokeIdentities).next(revokeKey).next(regions.entry);
  }

  private upgradeDefinition(options: { maxConcurrency: number; toleratedFailurePercentage: number }, props: LifecycleWorkflowsProps): sfn.IChainable {
    const s = new Construct(this, 'UpgradeStates');
    // The whole execution input (lib/tenant-record.ts UpgradeRequest: tier, blueprintVersion, requestId, optional allowReplacement), validated by the step.
    const list = this.task(s, UPGRADE_STATES.list, 'list-tier-tenants', '$.tenants');
    // A distributed Map: the only Map with a failure tolerance; each tenant runs as a child execution.
    // Items come from S3 and results go to S3, so a tier of thousands of tenants stays far below
    // the 256 KiB payload limit of a state.
    const map = new sfn.DistributedMap(s, UPGRADE_STATES.map, {
      itemReader: new sfn.S3JsonItemReader({ bucket: props.workBucket, key: sfn.JsonPath.stringAt('$.tenants.key') }),
      resultWriterV2: new sfn.ResultWriterV2({
        bucket: props.workBucket,
        prefix: sfn.JsonPath.stringAt('$.tenants.resultsPrefix'),
      }),
      mapExecutionType: sfn.StateMachineType.STANDARD,
      maxConcurrency: options.maxConcurrency,
      toleratedFailurePercentage: options.toleratedFailurePercentage,
      itemSelector: { 'request.$': '$$.Map.Item.Value.request', 'change.$': '$$.Map.Item.Value.change' },
      resultPath: '$.results',
    });
    map.itemProcessor(this.changeDefinition('UpgradeItem', 'upgrade', ''));
    // Upgraded, refused and failed tenants, from the map's result files.
    const summary = this.task(s, 'Summarize upgrade', 'summarize-upgrade', '$.summary', { 'results.$': '$.results' });
    const finished = new sfn.Succeed(s, 'Upgrade finished');
    // Every tenant is done by now: a summary that cannot be read does not fail the upgrade (the result files are in the work bucket).
    summary.addCatch(new sfn.Pass(s, 'Summary unavailable').next(finished), { errors: ['States.ALL'], resultPath: '$.summaryError' });
    return list.next(map).next(summary).next(finished);
  }

  /**
   * The drift workflow (run daily by TenantLifecycle, and by POST /admin/drift): lists ACTIVE tenants (or the one
   * tenant its input names, `{ tenantId }`: list-drift-tenants.ts), then per tenant,
   * `maxConcurrency` at a time, starts DetectStackDrift on its stacks, polls the detections (Wait
   * states) and records the result in the registry (check-drift.ts). A tenant whose check fails is
   * recorded UNKNOWN with the error and the others go on.
   */
  private driftDefinition(maxConcurrency: number, workBucket: s3.IBucket): sfn.IChainable {
    const s = new Construct(this, 'DriftStates');
    // The execution input: {} from the daily schedule (every ACTIVE tenant), { tenantId } from POST /admin/drift (that one).
    const list = this.task(s, 'List active tenants', 'list-drift-tenants', '$.tenants', { 'executionName.$': '$$.Execution.Name', 'request.$': '$$.Execution.Input' });
    const item = new Construct(s, 'Item');
    // The detections started so far ride in the state (seeded empty by the map's ItemSelector): a throttled attempt returns
    // them with the stacks still pending, and the next attempt starts only those (detect-drift.ts).
    const detect = this.task(item, 'Detect drift', 'detect-drift', '$.detection', { 'tenantId.$': '$.tenantId', 'detections.$': '$.detection.detections', 'attempt.$': '$.detection.attempt' });
    const waitThrottled = new sfn.Wait(item, 'Wait before detecting again', { time: sfn.WaitTime.secondsPath('$.detection.waitSeconds') });
    const wait = this.wait(item, 'Wait for drift detection', 30);
    const check = this.task(item, 'Check drift', 'check-drift', '$.check', { 'tenantId.$': '$.tenantId', 'detections.$': '$.detection.detections' }, { poll: true });
    const done = new sfn.Succeed(item, 'Drift recorded');
    const recordError = this.task(item, 'Record drift error', 'check-drift', '$.check', { 'tenantId.$': '$.tenantId', 'error.$': '$.error' });
    const gaveUp = new sfn.Pass(item, 'Drift not recorded', { parameters: { 'tenantId.$': '$.tenantId', 'error.$': '$.error' } });
    for (const t of [detect, check]) t.addCatch(recordError, { errors: ['States.ALL'], resultPath: '$.error' });
    recordError.addCatch(gaveUp, { errors: ['States.ALL'], resultPath: '$.error' });
    recordError.next(done);
    detect.next(new sfn.Choice(item, 'Detections started?')
      .when(sfn.Condition.isPresent('$.detection.pending'), waitThrottled.next(detect))
      .otherwise(wait));
    wait.next(check).next(new sfn.Choice(item, 'Detection finished?')
      .when(sfn.Condition.stringEquals('$.check.state', 'COMPLETE'), done)
      .otherwise(wait));
    // A distributed Map: each tenant is a child execution with its own history. An inline Map would
    // keep every tenant's 20-30 events in this one execution, whose history stops at 25,000 events
    // (Step Functions quotas): about a thousand tenants. Results go to the work bucket, not the state.
    const map = new sfn.DistributedMap(s, 'Check each tenant', {
      itemsPath: '$.tenants.tenants',
      maxConcurrency,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      // Each tenant catches its own errors (recorded UNKNOWN); nothing of one tenant stops the run.
      toleratedFailurePercentage: 100,
      itemSelector: { 'tenantId.$': '$$.Map.Item.Value.tenantId', detection: { detections: [], attempt: 0 } },
      resultWriterV2: new sfn.ResultWriterV2({ bucket: workBucket, prefix: sfn.JsonPath.stringAt('$.tenants.resultsPrefix') }),
      resultPath: '$.checked',
    });
    map.itemProcessor(detect);
    return list.next(map).next(new sfn.Succeed(s, 'Drift run finished'));
  }
}

/** The IAM5 findings of the distributed Map policy: its execution ARNs ending in wildcards. */
function childExecutionFindings(scope: Construct, document: iam.PolicyDocument): string[] {
  const json = Stack.of(scope).resolve(document.toJSON()) as { Statement: Array<{ Resource: unknown }> };
  const resources = json.Statement.flatMap((st) => [st.Resource].flat());
  return resources
    .filter((r) => JSON.stringify(r).includes('*'))
    .map((r) => wildcardResourceFinding(scope, r as string));
}
