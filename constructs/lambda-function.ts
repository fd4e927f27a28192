import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedBuildCode } from '../lib/bundling/shared-build-code.js';
import { acknowledge } from '../lib/compliance.js';
import { NestedHome } from './nested-home.js';
import { BUNDLING_LOG_LEVEL_CONTEXT_KEY } from '../lib/config/context-keys.js';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import { decryptThrough } from './platform-key-decrypt.js';

const LAMBDAS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'lambdas');

/**
 * CDK context key for esbuild's log level when bundling the Lambdas. Bundling is quiet by default
 * (`warning`: esbuild's warnings and errors only, no per-file size table); ask for more with e.g.
 * `npx cdk synth -c tessera:bundlingLogLevel=info`.
 */
export const BUNDLING_LOG_LEVEL_CONTEXT = BUNDLING_LOG_LEVEL_CONTEXT_KEY;

/** esbuild's log level: the `tessera:bundlingLogLevel` context, or `warning`. */
export function bundlingLogLevel(scope: Construct): nodejs.LogLevel {
  const asked: unknown = scope.node.tryGetContext(BUNDLING_LOG_LEVEL_CONTEXT);
  if (asked === undefined) return nodejs.LogLevel.WARNING;
  const levels = Object.values(nodejs.LogLevel) as string[];
  if (typeof asked !== 'string' || !levels.includes(asked)) {
    throw new Error(`Context ${BUNDLING_LOG_LEVEL_CONTEXT} is ${JSON.stringify(asked)}: use one of ${levels.join(', ')} (default warning), e.g. -c ${BUNDLING_LOG_LEVEL_CONTEXT}=info`);
  }
  return asked as nodejs.LogLevel;
}

const policyHomes = new NestedHome('placeFunctionPoliciesIn');

/**
 * Every {@link LambdaFunction} created in `stack` from now on puts its managed policy in `home` (a
 * nested stack of `stack`), under `<function's path in the stack, '/' as '--'>/Policy`, instead of
 * beside its role. The policy is unnamed (CloudFormation names it), so moving it is a create in the
 * nested stack and a delete in the parent: the role has both for a moment, never neither. Its
 * references to the parent's resources (the role, the log group, tables, keys...) become the nested
 * stack's parameters, and the function depends on the nested stack (its permissions exist before it).
 */
export function placeFunctionPoliciesIn(stack: Stack, home: Construct): void {
  policyHomes.place(stack, home);
}

/**
 * Where `owner`'s managed policy goes: a construct named after `owner`'s path in its stack (`/` as `--`) in the stack's
 * policy home ({@link placeFunctionPoliciesIn}), or `owner` itself when the stack names none. For a policy that no
 * resource of the stack waits for and that names no Lambda function of it (the functions wait for the policy home):
 * it then counts against the nested stack's 500 resources, not the stack's.
 */
export function policyScopeFor(owner: Construct): Construct {
  return policyHomes.ownerScope(owner);
}

export interface LambdaFunctionProps {
  /** Handler file under lambdas/, without extension, e.g. `lifecycle/create-account`. */
  readonly handlerFile: string;
  /** IAM role name (fixed, so that trust policies elsewhere can name it). */
  readonly roleName: string;
  /**
   * Encrypts the function's log group and its environment variables (Lambda `KMSKeyArn`; the role may decrypt with it
   * through Lambda only, for its environment: {@link environmentKeyStatement}).
   */
  readonly encryptionKey: kms.IKey;
  /** Plain environment variables. @default - none */
  readonly environment?: Record<string, string>;
  /**
   * Values inlined into the bundle at build time (esbuild `define`), for data larger than
   * Lambda's 4 KB environment, e.g. the platform config. @default - none
   */
  readonly define?: Record<string, string>;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /**
   * Reserved concurrency (Lambda `ReservedConcurrentExecutions`): taken from the account's pool and a
   * ceiling on what the function can run at once. A platform function's comes from
   * lib/lambda-concurrency.ts (PLATFORM_FUNCTIONS, LIFECYCLE_RESERVED_CONCURRENCY), whose
   * `reservedConcurrency(config)` sums them for `tessera doctor`'s quota check.
   */
  readonly reservedConcurrency: number;
  /**
   * How the function is invoked. Without `asyncInvocation`: why a dead-letter queue would hold
   * nothing for it (its callers see every failure).
   */
  readonly invocation: string;
  /**
   * For a function invoked asynchronously (EventBridge, a schedule, `InvocationType: Event`):
   * its dead-letter queue (Lambda `DeadLetterConfig`: events that failed every attempt land
   * there with `RequestID`, `ErrorCode`, `ErrorMessage`) and its explicit retry policy
   * (`AWS::Lambda::EventInvokeConfig`). The role gains `sqs:SendMessage` on the queue and the
   * queue key's `kms:GenerateDataKey`/`kms:Decrypt`.
   * @default - invoked synchronously: no dead-letter queue (acknowledged with `invocation`)
   */
  readonly asyncInvocation?: AsyncInvocation;
  /**
   * Files copied next to the bundle (read at run time, not bundled), e.g. the tokenizer's ranks.
   * @default - none
   */
  readonly assets?: Array<{ from: string; name: string }>;
  /**
   * Why the function's managed policy stays beside its role, in its own stack, when the stack puts
   * its functions' policies in a nested stack ({@link placeFunctionPoliciesIn}): e.g. the policy
   * names a resource that depends on a function whose policy is there (a dependency cycle).
   * @default - the policy goes where the stack puts its functions' policies (beside the role when nowhere)
   */
  readonly policyBesideRole?: string;
  /**
   * Why the function runs outside a VPC.
   * @default - it calls only AWS control-plane APIs
   */
  readonly outsideVpcReason?: string;
}

/**
 * The execution role's `kms:Decrypt` of its function's environment variables (Lambda `KMSKeyArn`), and nothing else
 * the key protects. Lambda decrypts the environment at cold start with the execution role's credentials, as a call
 * Lambda makes for the role (CloudTrail: the role's session, `invokedBy` lambda.amazonaws.com), with the encryption
 * context `aws:lambda:FunctionArn` = the function's unqualified ARN. So the grant holds only through Lambda
 * (`kms:ViaService` = `lambda.<region>.amazonaws.com`, the KMS Developer Guide's condition-key example for
 * Lambda) and only for a function of this account and region (`kms:EncryptionContext:aws:lambda:FunctionArn`). The
 * role cannot decrypt the platform key's ciphertext it reads elsewhere (a table's, a bucket's, a queue's) with it.
 *
 * The context names the account's functions (`function:*`), not this one: the functions have no fixed names
 * (CloudFormation names them), and the function's own ARN in its role's policy is a dependency cycle (the function
 * waits for its policy, {@link LambdaFunction}). Lambda itself bounds it: it decrypts with a role's credentials only
 * for a function that runs as that role, and each LambdaFunction's role is its own (a fixed name, trusted by
 * lambda.amazonaws.com only), so the functions it can decrypt for are this one.
 * Sources: https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html,
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html (kms:ViaService, kms:EncryptionContext:context-key).
 */
export function environmentKeyStatement(keyArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'EnvironmentKey', actions: ['kms:Decrypt'], resources: [keyArn],
    conditions: {
      StringEquals: { 'kms:ViaService': `lambda.${Aws.REGION}.amazonaws.com` },
      StringLike: { 'kms:EncryptionContext:aws:lambda:FunctionArn': `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${Aws.ACCOUNT_ID}:function:*` },
    },
  });
}

/** The asynchronous side of a function: where failed events go and how often Lambda retries them. */
export interface AsyncInvocation {
  readonly deadLetterQueue: DeadLetterQueue;
  /** Lambda's retries of a failed asynchronous run, 0-2 (Lambda's quota). */
  readonly retryAttempts: number;
  /** How long Lambda keeps trying an event (60 s to 6 h, Lambda's quota). */
  readonly maxEventAge: Duration;
  /** One line: why these numbers (e.g. "the job is idempotent; a later run picks up what one missed"). */
  readonly reason: string;
}

/**
 * A Tessera Lambda: TypeScript bundled by esbuild (minified ESM with source maps, shared chunks,
 * lazily imported modules in chunks of their own; one build for every function of the synth, see
 * lib/bundling/shared-lambda-build.ts), Node.js 24 on arm64, X-Ray active, a KMS-
 * encrypted log group with retention, environment variables encrypted with the same key, reserved
 * concurrency, a dead-letter queue and explicit retries when it is invoked asynchronously, and its own role whose permissions
 * live in one customer-managed policy (never inline), added to with `addToPolicy`.
 */
export class LambdaFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  private readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: LambdaFunctionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.encryptionKey,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': stack.account } }),
      description: `Tessera ${props.handlerFile}`,
    });
    const policyScope = props.policyBesideRole === undefined ? policyScopeFor(this) : this;
    this.policy = new iam.ManagedPolicy(policyScope, 'Policy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
        new iam.PolicyStatement({ sid: 'Traces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }),
      ],
    });
    this.policy.addStatements(environmentKeyStatement(props.encryptionKey.keyArn));
    const asyncInvocation = props.asyncInvocation;
    if (asyncInvocation) {
      if (!Number.isInteger(asyncInvocation.retryAttempts) || asyncInvocation.retryAttempts < 0 || asyncInvocation.retryAttempts > 2) {
        throw new Error(`LambdaFunction ${this.node.path}: asyncInvocation.retryAttempts is ${asyncInvocation.retryAttempts}: Lambda retries an asynchronous event 0 to 2 times`);
      }
      const dlq = asyncInvocation.deadLetterQueue;
      this.policy.addStatements(new iam.PolicyStatement({ sid: 'DeadLetters', actions: ['sqs:SendMessage'], resources: [dlq.queue.queueArn] }));
      // Lambda sends a failed event to the dead-letter queue as the function's role; SQS asks the key as that role (decryptThrough).
      if (dlq.encryptionKey) this.policy.addStatements(decryptThrough(this, 'DeadLetterKey', dlq.encryptionKey.keyArn, { service: 'sqs', queueArns: [dlq.queue.queueArn], actions: ['kms:GenerateDataKey', 'kms:Decrypt'] }));
    }
    acknowledge(this.policy, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
      'X-Ray PutTraceSegments and PutTelemetryRecords have no resource type; they are the only actions granted on "*".');
    acknowledge(this.policy, [`AwsSolutions::AwsSolutions-IAM5[Resource::<${stack.getLogicalId(logGroup.node.defaultChild as never)}.Arn>:*]`],
      'The function writes streams it names at run time into its own log group, and no other.');

    const entry = join(LAMBDAS_DIR, `${props.handlerFile}.ts`);
    if (!existsSync(entry)) throw new Error(`LambdaFunction ${this.node.path}: handlerFile ${JSON.stringify(props.handlerFile)} names no module (${entry} does not exist)`);
    this.function = new lambda.Function(this, 'Function', {
      // One esbuild build for every function of the synth (lib/bundling/shared-lambda-build.ts).
      code: sharedBuildCode(this, { lambdasDir: LAMBDAS_DIR, handlerFile: props.handlerFile, define: props.define, logLevel: bundlingLogLevel(this) as `${nodejs.LogLevel}`, extraFiles: props.assets }),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(60),
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrency,
      role: iam.Role.fromRoleArn(this, 'RoleRef', this.role.roleArn, { mutable: false }),
      logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_METRICS_NAMESPACE: 'Tessera', ...props.environment },
      environmentEncryption: props.encryptionKey,
      ...(asyncInvocation ? {
        deadLetterQueueEnabled: true,
        deadLetterQueue: asyncInvocation.deadLetterQueue.queue,
        retryAttempts: asyncInvocation.retryAttempts,
        maxEventAge: asyncInvocation.maxEventAge,
      } : {}),
    });
    this.function.node.addDependency(this.policy);
    if (!asyncInvocation) {
      acknowledge(this.function, ['HIPAA.Security::HIPAA.Security-LambdaDLQ', 'NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ'],
        `${props.handlerFile} is invoked synchronously (${props.invocation}); the caller sees and handles every failure, so a dead-letter queue would stay empty.`);
    }
    acknowledge(this.function, ['HIPAA.Security::HIPAA.Security-LambdaInsideVPC', 'NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC'],
      `${props.handlerFile} ${props.outsideVpcReason ?? 'calls only AWS control-plane APIs (Organizations, STS, CloudFormation, DynamoDB, EventBridge, S3); it reaches no resource inside a VPC, and Organizations has no VPC endpoint.'}`);
  }

  addToPolicy(statement: iam.PolicyStatement): void {
    this.policy.addStatements(statement);
  }

  /** For acknowledging a wildcard this function's policy needs, next to the grant that needs it. */
  get managedPolicy(): iam.ManagedPolicy {
    return this.policy;
  }

  /**
   * The construct this function's managed policy is in (policyScopeFor: one in the stack's policy home, a nested stack;
   * this function itself with `policyBesideRole`): the scope for another managed policy of its role that nothing in the
   * stack but this function waits for, so that it counts against the nested stack's 500 resources, not the stack's.
   */
  get policyHome(): Construct {
    return this.policy.node.scope as Construct;
  }
}
