import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand,
  DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { trainingJobName, type FineTuningJob } from '../../lib/fine-tuning.js';
import { MemoryJobStore } from '../../lambdas/fine-tuning/stores/job-store.js';
import { memoryTenantModels } from '../../lambdas/fine-tuning/stores/tenant-models.js';
import type { TrainingEventsDeps } from '../../lambdas/fine-tuning/training-events.js';
import { MemoryAuditSink } from '../../lambdas/inference/audit.js';
import { MemoryStore } from '../../lambdas/inference/stores/memory-store.js';
import { trainedTenant } from './fine-tuning-tenants.js';

/**
 * A fine-tuning deployment's world for the handlers' unit tests (training-events.ts, endpoint-events.ts):
 * tenant acme (enterprise, account ACCOUNT) in an in-memory registry, one running job in an in-memory job
 * store, and SageMaker as a small stateful fake on the test's aws-sdk-client-mock stub.
 */

/** The tenant's account: its events' source account. */
export const ACCOUNT = '444444444444';

/** The tenant launcher's SageMaker client (aws-sdk-client-mock answers every instance's sends). */
export const sageMaker = async () => new SageMakerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

/** SageMaker's refusal of a request: a ValidationException with `message`. */
export const validationError = (message: string) => Object.assign(new Error(message), { name: 'ValidationException' });

/** SageMaker's answer for a name it has no resource of (`Could not find model ...`). */
export const notFound = (what: string) => validationError(`Could not find ${what}.`);

/** Job `id` of tenant acme, running, suffix `support`, on ml.g5.2xlarge, no events; `extra` overrides any of it. */
export function runningJob(id: string, extra: Partial<FineTuningJob> = {}): FineTuningJob {
  return {
    id, tenantId: 'acme', userId: 'dev@acme', model: 'llama-3.1-8b-instruct', trainingFile: `s3://tessera-acme-data-${ACCOUNT}/training-data/a.jsonl`,
    hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 }, suffix: 'support', instanceType: 'ml.g5.2xlarge', spot: false,
    trainingJobName: trainingJobName('acme', id), status: 'running', createdAt: 1, events: [], ...extra,
  };
}

/** SageMaker's Completed training state change of `job`, its artifacts in the tenant bucket. */
export const completedEvent = (job: FineTuningJob) => ({
  TrainingJobName: job.trainingJobName, TrainingJobStatus: 'Completed' as const,
  ModelArtifacts: { S3ModelArtifacts: `s3://tessera-acme-data-${ACCOUNT}/models/${job.trainingJobName}/output/model.tar.gz` },
});

/** The name field of each create's and describe's input, by SageMaker resource type. */
const NAME_FIELD: Record<string, string> = { model: 'ModelName', 'endpoint-config': 'EndpointConfigName', endpoint: 'EndpointName' };

export interface DeploymentWorld {
  /** What SageMaker has, by `<type>/<name>` (`model`, `endpoint-config`, `endpoint`); an endpoint's value is its status. */
  readonly has: Map<string, string>;
  /** The FailureReason DescribeEndpoint answers with. @default - none */
  failureReason?: string;
  readonly jobs: MemoryJobStore;
  readonly registry: MemoryStore;
  readonly audit: MemoryAuditSink;
  /** The handlers' dependencies on this world (TrainingEvents, EndpointEvents). */
  deps(): TrainingEventsDeps;
  /** The inputs SageMaker received of `command`, in order. */
  calls(command: Parameters<AwsClientStub<SageMakerClient>['commandCalls']>[0]): Array<Record<string, unknown>>;
  /**
   * A create of `type` as SageMaker answers it: the resource made with `status`, or, for a name it has already,
   * refused ("Cannot create already existing model ...", a ValidationException).
   */
  create(type: string, status: string): (input: Record<string, unknown>) => object;
}

/**
 * Resets `sm` and makes it SageMaker for `job`'s deployment: creates add to `has` (a second create of a name is
 * refused), describes read it (a missing name is `Could not find`), deletes remove from it (a missing name is
 * AccessDenied, as under the launcher's tag condition). The registry holds acme, the job store `job` (5 slots).
 */
export async function deploymentWorld(sm: AwsClientStub<SageMakerClient>, job: FineTuningJob): Promise<DeploymentWorld> {
  sm.reset();
  const has = new Map<string, string>();
  const key = (type: string, input: Record<string, unknown>) => `${type}/${String(input[NAME_FIELD[type]!])}`;
  const world: DeploymentWorld = {
    has, jobs: new MemoryJobStore(), registry: new MemoryStore(), audit: new MemoryAuditSink(),
    deps: () => ({ config: DEFAULT_CONFIG, jobs: world.jobs, tenants: memoryTenantModels(world.registry), audit: world.audit, sageMaker }),
    calls: (command) => sm.commandCalls(command).map((c) => c.args[0].input as Record<string, unknown>),
    create: (type, status) => (input) => {
      const k = key(type, input);
      if (has.has(k)) throw validationError(`Cannot create already existing ${type.replace('-', ' ')} "arn:aws:sagemaker:us-east-1:${ACCOUNT}:${k}".`);
      has.set(k, status);
      return {};
    },
  };
  world.registry.putTenant(trainedTenant('acme', 'enterprise', ACCOUNT));
  await world.jobs.create(job, 5);
  const describe = (type: string) => (input: Record<string, unknown>) => {
    const status = has.get(key(type, input));
    if (status === undefined) throw notFound(type);
    return type === 'endpoint' ? { EndpointStatus: status, ...(world.failureReason ? { FailureReason: world.failureReason } : {}) } : {};
  };
  const remove = (type: string) => (input: Record<string, unknown>) => {
    // Under the launcher's tag condition a missing name has no tag: AccessDenied.
    if (!has.delete(key(type, input))) throw Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    return {};
  };
  sm.on(CreateModelCommand).callsFake(world.create('model', 'x'));
  sm.on(CreateEndpointConfigCommand).callsFake(world.create('endpoint-config', 'x'));
  sm.on(CreateEndpointCommand).callsFake(world.create('endpoint', 'Creating'));
  sm.on(DescribeEndpointCommand).callsFake(describe('endpoint'));
  sm.on(DescribeEndpointConfigCommand).callsFake(describe('endpoint-config'));
  sm.on(DescribeModelCommand).callsFake(describe('model'));
  sm.on(DeleteEndpointCommand).callsFake(remove('endpoint'));
  sm.on(DeleteEndpointConfigCommand).callsFake(remove('endpoint-config'));
  sm.on(DeleteModelCommand).callsFake(remove('model'));
  return world;
}
