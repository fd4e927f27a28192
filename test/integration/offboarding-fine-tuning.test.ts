import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, ListObjectsV2Command, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, CreateTrainingJobCommand, DeleteEndpointConfigCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand,
  SageMakerClient, StopTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { CloudFormationClient, DeleteStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { trainingJobName, type FineTuningJob } from '../../lib/fine-tuning.js';
import { FineTunedModel } from '../../lib/tenant-record.js';
import { OFFBOARDING_CANCEL_EVENT } from '../../lambdas/fine-tuning/retire-fine-tuned-models.js';
import { createTrainingJobInput, deploymentInputs, trainingTarget } from '../../lambdas/fine-tuning/sagemaker-requests.js';
import { DynamoDbJobStore } from '../../lambdas/fine-tuning/stores/dynamodb-job-store.js';
import { GATEWAY_ENV } from '../../lambdas/inference/gateway-env.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { FINE_TUNING_JOBS_TABLE } from './support/platform-fixture.js';

/**
 * Offboarding a tenant that fine-tuned a model, through the real offboarding workflow on moto:
 * *Retire fine-tuned models* (the fine-tuning events Lambda's handler, invoked as the state machine
 * invokes it) stops the active training job and deletes the fine-tuned model's endpoint, endpoint
 * config and model, as the tenant's training-launcher role, before the export and the stack
 * deletion; the registry and the audit trail record it.
 *
 * moto gaps: moto has no StopTrainingJob, so that one call is answered here (a spy on
 * SageMakerClient's send; every other SageMaker call goes to moto); moto deletes an endpoint at
 * once (no `Deleting` state: the poll is exercised by the unit tests) and models no network
 * interfaces, so the DependencyViolation a live endpoint causes in the stack deletion is not
 * reproduced here (the workflow's order is: the retirement completes before the stacks are deleted).
 */
const local = useLocalLifecycle();
const AUDIT = 'tessera-audit';

/** A job of `tenantId` as the fine-tuning API records it. */
function job(tenantId: string, hex: string, extra: Partial<FineTuningJob> = {}): FineTuningJob {
  const id = `ftjob-${hex.repeat(24)}`;
  return {
    id, tenantId, userId: 'dev@tuned', model: 'llama-3.1-8b-instruct', trainingFile: 's3://b/training-data/a.jsonl',
    hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 }, suffix: hex, instanceType: 'ml.g5.2xlarge', spot: true,
    trainingJobName: trainingJobName(tenantId, id), status: 'validating_files', createdAt: 1, events: [], ...extra,
  };
}

afterEach(() => vi.restoreAllMocks());

describe('offboarding a tenant that fine-tuned a model', () => {
  it('stops its running job and deletes its fine-tuned model\'s endpoint, endpoint config and model before the export and the stacks, and records them', async () => {
    // GIVEN a professional tenant (VPC isolation, training on), onboarded on its real blueprint
    process.env[GATEWAY_ENV.auditBucket] = AUDIT;
    const platformS3 = new S3Client({ credentials: local.fixture.platform, forcePathStyle: true });
    await platformS3.send(new CreateBucketCommand({ Bucket: AUDIT, ObjectLockEnabledForBucket: true }));
    const onboarded = await local.workflows.run('onboard', onboardRequest('tuned', 'professional'));
    expect(onboarded.error).toBeUndefined();
    const record = (await getTenant('tuned'))!;
    const tenantSageMaker = new SageMakerClient({ credentials: await local.fixture.as(record.accountId!) });

    // and in the jobs table a finished job whose model is deployed, and a running one
    const platformDoc = DynamoDBDocumentClient.from(new DynamoDBClient({ credentials: local.fixture.platform }), { marshallOptions: { removeUndefinedValues: true } });
    const jobs = new DynamoDbJobStore(FINE_TUNING_JOBS_TABLE, async () => platformDoc);
    // (two models: one of the id shape before model ids had a job part, one of the shape after, ending in its job's part)
    const deployed = job('tuned', 'd');
    const nightly = job('tuned', 'c', { suffix: 'nightly_Retrain', modelId: 'ft:llama-3.1-8b-instruct:tuned:nightly_Retrain:cccccccc' });
    const running = job('tuned', 'e');
    for (const j of [deployed, nightly, running]) await jobs.create(j, 10);
    expect(await jobs.update({ ...running, status: 'running' }, 'validating_files')).toBe(true);
    const modelId = 'ft:llama-3.1-8b-instruct:tuned:d';
    expect(await jobs.update({ ...deployed, status: 'succeeded', fineTunedModel: modelId, endpointName: deployed.trainingJobName }, 'validating_files')).toBe(true);
    expect(await jobs.update({ ...nightly, status: 'succeeded', fineTunedModel: nightly.modelId, endpointName: nightly.trainingJobName }, 'validating_files')).toBe(true);
    // its model, endpoint config and endpoint in the tenant's account, made as training-events.ts makes them
    // (on ml.m5.xlarge: moto's instance-type enum has no ml.g5, the professional tier's endpoint type)
    const professional = local.config.tiers.professional;
    const tier = { ...professional, training: { ...professional.training, endpointInstanceTypes: ['ml.m5.xlarge'] } };
    const base = local.config.fineTuning.baseModels.find((b) => b.id === deployed.model)!;
    const target = trainingTarget(record);
    for (const j of [deployed, nightly]) {
      const inputs = deploymentInputs(j, base, tier, target, `s3://${target.bucket}/models/${j.trainingJobName}/output/model.tar.gz`);
      await tenantSageMaker.send(new CreateModelCommand(inputs.model));
      await tenantSageMaker.send(new CreateEndpointConfigCommand(inputs.endpointConfig));
      await tenantSageMaker.send(new CreateEndpointCommand(inputs.endpoint));
    }
    // the running job's training job at SageMaker (the retirement describes it before it stops it)
    await tenantSageMaker.send(new CreateTrainingJobCommand(createTrainingJobInput(running, base, tier, target)));
    expect((await tenantSageMaker.send(new DescribeEndpointCommand({ EndpointName: deployed.trainingJobName }))).EndpointStatus).toBeDefined();
    // and in the registry, as the events Lambda adds it
    await platformDoc.send(new UpdateCommand({
      TableName: 'tessera-tenants', Key: { tenantId: 'tuned' }, UpdateExpression: 'SET fineTunedModels = :m',
      ExpressionAttributeValues: { ':m': [{ id: modelId, j: deployed }, { id: nightly.modelId!, j: nightly }].map(({ id, j }) => FineTunedModel.parse({ id, baseModel: j.model, jobId: j.id, endpointName: j.trainingJobName, createdAt: new Date().toISOString() })) },
    }));
    // moto has no StopTrainingJob: answered here, every other SageMaker call goes to moto.
    const stopped: string[] = [];
    const send = SageMakerClient.prototype.send;
    vi.spyOn(SageMakerClient.prototype, 'send').mockImplementation(function (this: SageMakerClient, command: any, ...rest: any[]) {
      if (command instanceof StopTrainingJobCommand) {
        stopped.push(command.input.TrainingJobName!);
        return Promise.resolve({ $metadata: {} });
      }
      return (send as any).call(this, command, ...rest);
    } as never);

    // WHEN
    const run = await local.workflows.run('offboard', { request: { tenantId: 'tuned', requestId: 'req-offboard-tuned' } });

    // THEN the offboarding finished, retiring the fine-tuning after the usage key and before the export
    expect(run.error).toBeUndefined();
    const retire = run.states.indexOf('Retire fine-tuned models');
    expect(run.states.slice(run.states.indexOf('Revoke usage key'), retire + 1)).toEqual(['Revoke usage key', 'Retire fine-tuned models']);
    expect(run.states.indexOf('Export tenant data')).toBeGreaterThan(run.states.lastIndexOf('Retire fine-tuned models'));
    // twice: the run that stopped and deleted, then the one that found nothing left
    expect(run.states.filter((s) => s === 'Retire fine-tuned models')).toHaveLength(2);
    expect(run.states).toContain('Wait for fine-tuned models');
    expect(run.output.fineTuning).toMatchObject({ state: 'COMPLETE', deleted: [], deleting: [], stopped: [] });

    // the running job was stopped at SageMaker and is cancelled, naming the offboarding
    expect(stopped).toEqual([running.trainingJobName]);
    const cancelled = (await jobs.get('tuned', running.id))!;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.events[0].message).toContain(OFFBOARDING_CANCEL_EVENT);
    expect(cancelled.events[0].message).toContain(run.output.executionArn);
    expect((await jobs.get('tuned', deployed.id))!.status).toBe('succeeded');

    // the endpoint, its config and the model are gone from the tenant's account
    vi.restoreAllMocks();
    for (const { trainingJobName: name } of [deployed, nightly]) {
      await expect(tenantSageMaker.send(new DescribeEndpointCommand({ EndpointName: name }))).rejects.toThrow(/Could not find endpoint/);
      await expect(tenantSageMaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }))).rejects.toThrow(/Could not find/);
      await expect(tenantSageMaker.send(new DescribeModelCommand({ ModelName: name }))).rejects.toThrow(/Could not find model/);
    }

    // recorded in the registry's offboarding record and in the audit trail (lifecycle and fine-tuning)
    const offboarded = (await getTenant('tuned'))!;
    expect(offboarded.status).toBe('OFFBOARDED');
    expect(offboarded.offboarding?.fineTuning).toEqual({
      cancelledJobs: [{ jobId: running.id, trainingJobName: running.trainingJobName }],
      retiredModels: [{ id: modelId, endpointName: deployed.trainingJobName }, { id: nightly.modelId, endpointName: nightly.trainingJobName }],
      at: expect.any(String), executionArn: run.output.executionArn,
    });
    const audit = ((await platformS3.send(new ListObjectsV2Command({ Bucket: AUDIT, Prefix: 'tessera-audit/' }))).Contents ?? []).map((o) => o.Key!);
    const lifecycleRecord = audit.find((k) => k.startsWith('tessera-audit/lifecycle/tuned/') && k.includes('-fine-tuning-retired-'))!;
    expect(lifecycleRecord).toBeDefined();
    const body = JSON.parse(await (await platformS3.send(new GetObjectCommand({ Bucket: AUDIT, Key: lifecycleRecord }))).Body!.transformToString());
    expect(body).toMatchObject({ tenantId: 'tuned', action: 'fine-tuning-retired', requestId: 'req-offboard-tuned', retiredModels: [{ id: modelId }, { id: nightly.modelId }], cancelledJobs: [{ jobId: running.id }] });
    const fineTuningRecords = await Promise.all(audit.filter((k) => k.startsWith('tessera-audit/fine-tuning/tuned/'))
      .map(async (Key) => JSON.parse(await (await platformS3.send(new GetObjectCommand({ Bucket: AUDIT, Key }))).Body!.transformToString())));
    expect(fineTuningRecords.map((r) => r.action).sort()).toEqual(['fine_tuning.job.cancelled', 'fine_tuning.model.retired', 'fine_tuning.model.retired']);
  });

  it('stops before anything is destroyed when the retirement fails, the registry naming the step; run again, it finishes what was left', async () => {
    // GIVEN a tenant with a deployed model
    const onboarded = await local.workflows.run('onboard', onboardRequest('tuned2', 'professional'));
    expect(onboarded.error).toBeUndefined();
    const record = (await getTenant('tuned2'))!;
    const credentials = await local.fixture.as(record.accountId!);
    const tenantSageMaker = new SageMakerClient({ credentials });
    const platformDoc = DynamoDBDocumentClient.from(new DynamoDBClient({ credentials: local.fixture.platform }), { marshallOptions: { removeUndefinedValues: true } });
    const jobs = new DynamoDbJobStore(FINE_TUNING_JOBS_TABLE, async () => platformDoc);
    const deployed = job('tuned2', 'f');
    await jobs.create(deployed, 10);
    const modelId = 'ft:llama-3.1-8b-instruct:tuned2:f';
    await jobs.update({ ...deployed, status: 'succeeded', fineTunedModel: modelId, endpointName: deployed.trainingJobName }, 'validating_files');
    const professional = local.config.tiers.professional;
    const tier = { ...professional, training: { ...professional.training, endpointInstanceTypes: ['ml.m5.xlarge'] } };
    const base = local.config.fineTuning.baseModels.find((b) => b.id === deployed.model)!;
    const target = trainingTarget(record);
    const inputs = deploymentInputs(deployed, base, tier, target, `s3://${target.bucket}/models/${deployed.trainingJobName}/output/model.tar.gz`);
    for (const command of [new CreateModelCommand(inputs.model), new CreateEndpointConfigCommand(inputs.endpointConfig), new CreateEndpointCommand(inputs.endpoint)]) await tenantSageMaker.send(command as never);
    await platformDoc.send(new UpdateCommand({
      TableName: 'tessera-tenants', Key: { tenantId: 'tuned2' }, UpdateExpression: 'SET fineTunedModels = :m',
      ExpressionAttributeValues: { ':m': [FineTunedModel.parse({ id: modelId, baseModel: deployed.model, jobId: deployed.id, endpointName: deployed.trainingJobName, createdAt: new Date().toISOString() })] },
    }));
    // AND SageMaker refusing the endpoint config's deletion (after the endpoint's): a failure in the middle of the step
    const send = SageMakerClient.prototype.send;
    vi.spyOn(SageMakerClient.prototype, 'send').mockImplementation(function (this: SageMakerClient, command: any, ...rest: any[]) {
      if (command instanceof DeleteEndpointConfigCommand) return Promise.reject(Object.assign(new Error('User is not authorized to perform: sagemaker:DeleteEndpointConfig'), { name: 'AccessDeniedException' }));
      return (send as any).call(this, command, ...rest);
    } as never);

    // WHEN
    const failed = await local.workflows.run('offboard', { request: { tenantId: 'tuned2', requestId: 'req-offboard-tuned2' } });

    // THEN the offboarding failed at the step, before the export and the stack deletion; the registry says so
    expect(failed.status).toBe('FAILED');
    expect(failed.states).toContain('Failed at Retire fine-tuned models');
    expect(failed.states).not.toContain('Export tenant data');
    const stopped = (await getTenant('tuned2'))!;
    expect(stopped.status).toBe('OFFBOARDING');
    expect(stopped.failure).toMatchObject({ step: 'Retire fine-tuned models', reason: expect.stringContaining('AccessDeniedException') });
    const cfn = new CloudFormationClient({ credentials });
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-tuned2' }))).Stacks![0].StackStatus).not.toMatch(/DELETE/);
    vi.restoreAllMocks();
    await expect(tenantSageMaker.send(new DescribeEndpointCommand({ EndpointName: deployed.trainingJobName }))).rejects.toThrow(/Could not find endpoint/);
    expect((await tenantSageMaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: deployed.trainingJobName }))).EndpointConfigName).toBe(deployed.trainingJobName);

    // WHEN the offboarding is run again, THEN it deletes what was left and finishes
    const again = await local.workflows.run('offboard', { request: { tenantId: 'tuned2', requestId: 'req-offboard-tuned2' } });
    expect(again.error).toBeUndefined();
    expect((await getTenant('tuned2'))!.status).toBe('OFFBOARDED');
    await expect(tenantSageMaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: deployed.trainingJobName }))).rejects.toThrow(/Could not find/);
    await expect(tenantSageMaker.send(new DescribeModelCommand({ ModelName: deployed.trainingJobName }))).rejects.toThrow(/Could not find model/);
    expect((await getTenant('tuned2'))!.offboarding?.fineTuning).toMatchObject({ cancelledJobs: [], retiredModels: [{ id: modelId, endpointName: deployed.trainingJobName }] });
  });

  it('a re-run after the stack deletion failed looks again: an endpoint made after the retirement was recorded is found, deleted and recorded', async () => {
    // GIVEN a tenant that fine-tuned (one cancelled job), offboarded up to the stack deletion, which fails
    process.env[GATEWAY_ENV.auditBucket] = AUDIT;
    const platformS3 = new S3Client({ credentials: local.fixture.platform, forcePathStyle: true });
    await platformS3.send(new CreateBucketCommand({ Bucket: AUDIT, ObjectLockEnabledForBucket: true })).catch(() => undefined);
    const onboarded = await local.workflows.run('onboard', onboardRequest('tuned3', 'professional'));
    expect(onboarded.error).toBeUndefined();
    const record = (await getTenant('tuned3'))!;
    const tenantSageMaker = new SageMakerClient({ credentials: await local.fixture.as(record.accountId!) });
    const platformDoc = DynamoDBDocumentClient.from(new DynamoDBClient({ credentials: local.fixture.platform }), { marshallOptions: { removeUndefinedValues: true } });
    const jobs = new DynamoDbJobStore(FINE_TUNING_JOBS_TABLE, async () => platformDoc);
    const late = job('tuned3', 'a');
    await jobs.create(late, 10);
    expect(await jobs.update({ ...late, status: 'cancelled' }, 'validating_files')).toBe(true);
    const send = CloudFormationClient.prototype.send;
    vi.spyOn(CloudFormationClient.prototype, 'send').mockImplementation(function (this: CloudFormationClient, command: any, ...rest: any[]) {
      // (on AWS: the subnets' deletion fails on a late endpoint's network interfaces, DependencyViolation)
      if (command instanceof DeleteStackCommand) return Promise.reject(Object.assign(new Error('Stack deletion failed: DependencyViolation on subnet'), { name: 'ValidationError' }));
      return (send as any).call(this, command, ...rest);
    } as never);
    const failed = await local.workflows.run('offboard', { request: { tenantId: 'tuned3', requestId: 'req-offboard-tuned3' } });
    vi.restoreAllMocks();
    expect(failed.status).toBe('FAILED');
    expect(failed.states).toContain('Export tenant data');
    const recorded = (await getTenant('tuned3'))!.offboarding?.fineTuning;
    expect(recorded).toMatchObject({ cancelledJobs: [], retiredModels: [] });
    // AND an endpoint that landed after the retirement's last call (what race C left before the fence), its model in the registry
    const professional = local.config.tiers.professional;
    const tier = { ...professional, training: { ...professional.training, endpointInstanceTypes: ['ml.m5.xlarge'] } };
    const base = local.config.fineTuning.baseModels.find((b) => b.id === late.model)!;
    const target = trainingTarget(record);
    const inputs = deploymentInputs(late, base, tier, target, `s3://${target.bucket}/models/${late.trainingJobName}/output/model.tar.gz`);
    for (const command of [new CreateModelCommand(inputs.model), new CreateEndpointConfigCommand(inputs.endpointConfig), new CreateEndpointCommand(inputs.endpoint)]) await tenantSageMaker.send(command as never);
    const modelId = 'ft:llama-3.1-8b-instruct:tuned3:a';
    await platformDoc.send(new UpdateCommand({
      TableName: 'tessera-tenants', Key: { tenantId: 'tuned3' }, UpdateExpression: 'SET fineTunedModels = :m',
      ExpressionAttributeValues: { ':m': [FineTunedModel.parse({ id: modelId, baseModel: late.model, jobId: late.id, endpointName: late.trainingJobName, createdAt: new Date().toISOString() })] },
    }));

    // WHEN the offboarding is run again
    const again = await local.workflows.run('offboard', { request: { tenantId: 'tuned3', requestId: 'req-offboard-tuned3-2' } });

    // THEN its retirement looked again (it did not answer the record): the endpoint, its config and model are gone, the tenant OFFBOARDED
    expect(again.error).toBeUndefined();
    expect(again.states.filter((s) => s === 'Retire fine-tuned models')).toHaveLength(2);
    await expect(tenantSageMaker.send(new DescribeEndpointCommand({ EndpointName: late.trainingJobName }))).rejects.toThrow(/Could not find endpoint/);
    await expect(tenantSageMaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: late.trainingJobName }))).rejects.toThrow(/Could not find/);
    await expect(tenantSageMaker.send(new DescribeModelCommand({ ModelName: late.trainingJobName }))).rejects.toThrow(/Could not find model/);
    const offboarded = (await getTenant('tuned3'))!;
    expect(offboarded.status).toBe('OFFBOARDED');
    // and recorded what it found: the record's first entry kept, the re-run's a recheck
    expect(offboarded.offboarding?.fineTuning).toEqual({
      cancelledJobs: [], retiredModels: [{ id: modelId, endpointName: late.trainingJobName }], at: recorded!.at, executionArn: failed.output?.executionArn ?? expect.any(String),
      rechecks: [{ cancelledJobs: [], retiredModels: [{ id: modelId, endpointName: late.trainingJobName }], at: expect.any(String), executionArn: again.output.executionArn, lookedAgain: true }],
    });
    const audit = ((await platformS3.send(new ListObjectsV2Command({ Bucket: AUDIT, Prefix: 'tessera-audit/lifecycle/tuned3/' }))).Contents ?? []).map((o) => o.Key!);
    expect(audit.filter((k) => k.includes('-fine-tuning-retired-again-'))).toHaveLength(1);
  });
});
