// tessera:own-process: in project shared-reset (test/support/file-state.ts) its first test found no
// AssumeRole on its STS mock in 3 of 5 whole-project runs with 3 workers (it followed
// admins-command.test.ts in its worker each time), never alone or in a single worker; cause not
// found, so it keeps a process of its own.
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, CreateTrainingJobCommand, DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand, DescribeEndpointCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { mockStrict } from '../../support/strict-mock.js';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';

/** The two fine-tuning Lambda handlers as Lambda runs them, every AWS call answered by aws-sdk-client-mock. */
const ACCOUNT = '444444444444';
const tenant = trainedTenant('acme', 'enterprise', ACCOUNT);
const PLATFORM_ACCOUNT = '222222222222';
const doc = mockClient(DynamoDBDocumentClient);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const sageMaker = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const sqs = mockStrict(SQSClient, 'sqs', SQSServiceException);
let jwks: Server;
let sign: (claims: Record<string, string>) => Promise<string>;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  jwks = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
  sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://issuer.test').setAudience('tessera').setSubject('dev@acme').setExpirationTime('5m').sign(privateKey);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'unit', AWS_SECRET_ACCESS_KEY: 'unit',
    TESSERA_PLATFORM_CONFIG: JSON.stringify(DEFAULT_CONFIG), TESSERA_REGISTRY_TABLE: 'registry', TESSERA_USAGE_TABLE: 'usage', TESSERA_AUDIT_BUCKET: 'audit',
    TESSERA_JWT_ISSUER: 'https://issuer.test', TESSERA_JWT_AUDIENCE: 'tessera', TESSERA_JWKS_URI: `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`,
    TESSERA_FINE_TUNING_JOBS_TABLE: 'jobs', TESSERA_CORS_ORIGINS_TABLE: 'cors', TESSERA_FINE_TUNING_ENDPOINT_CHECKS_QUEUE: 'https://sqs.us-east-1.amazonaws.com/222222222222/tessera-fine-tuning-endpoint-checks', TESSERA_TENANT_DATA_ROLE_ARN: `arn:aws:iam::${PLATFORM_ACCOUNT}:role/tessera-tenant-data`,
  });
});
afterAll(() => new Promise((r) => jwks.close(r)));
beforeEach(() => {
  for (const m of [doc, sts, sageMaker, s3, sqs]) m.reset();
  sqs.on(SendMessageCommand).resolves({});
  doc.on(GetCommand, { TableName: 'registry' }).resolves({ Item: tenant });
  doc.on(QueryCommand, { TableName: 'jobs' }).resolves({ Items: [] });
  doc.on(QueryCommand, { TableName: 'cors' }).callsFake((input) => ({ Items: input.ExpressionAttributeValues[':o'] === 'https://app.acme.test' ? [{ origin: 'https://app.acme.test' }] : [] }));
  doc.on(TransactWriteCommand).resolves({});
  sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'a', SecretAccessKey: 'b', SessionToken: 'c', Expiration: new Date(Date.now() + 900_000) } });
  sageMaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn' });
  s3.on(PutObjectCommand).resolves({});
});

const apiEvent = (method: string, path: string, token: string, body?: unknown) => ({
  httpMethod: method, path: `/prod${path}`, headers: { Authorization: `Bearer ${token}` }, queryStringParameters: null, body: body === undefined ? null : JSON.stringify(body), isBase64Encoded: false,
}) as unknown as APIGatewayProxyEvent;

describe('fine-tuning API Lambda', () => {
  it('starts a job as the tenant\'s training launcher, records it and audits under tessera-audit/fine-tuning/', async () => {
    // A cold Lambda: the sessions of the tenant's roles are cached per tenant and role in module state
    // (lambdas/shared/tenant-role-clients.ts, the tenant-data sessions of inference/lambda-deps.ts), so
    // a handler an earlier test ran would start the job without an AssumeRole for this test to see.
    vi.resetModules();
    const { handler } = await import('../../../lambdas/fine-tuning/api-handler.js');
    const out = await handler(apiEvent('POST', '/v1/fine_tuning/jobs', await sign({ 'tessera:tenant-id': 'acme', 'tessera:role': 'developer' }), { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' }));
    expect(out.statusCode).toBe(200);
    expect(JSON.parse(out.body)).toMatchObject({ object: 'fine_tuning.job', status: 'queued', organization_id: 'acme' });
    const assumed = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
    expect(assumed.find((i) => i.RoleArn!.endsWith('-training-launcher'))).toMatchObject({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/tessera-acme-training-launcher`, Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }] });
    // The registry and the jobs table as the tenant: a session of the tenant-data role, tagged acme.
    expect(assumed.find((i) => i.RoleArn!.endsWith('/tessera-tenant-data'))).toMatchObject({ Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }] });
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)[0].args[0].input).toMatchObject({ RoleArn: tenant.stackOutputs.TrainingRoleArn, EnableNetworkIsolation: true });
    const [create] = doc.commandCalls(TransactWriteCommand);
    expect(create.args[0].input.TransactItems?.[0].Put?.TableName).toBe('jobs');
    const audit = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(audit.Key).toMatch(/^tessera-audit\/fine-tuning\/acme\/\d{4}-\d{2}-\d{2}\/req_/);
    expect(JSON.parse(audit.Body as string)).toMatchObject({ action: 'fine_tuning.job.create', tenantId: 'acme', status: 200 });
  });

  it('reads the tenant\'s status strongly consistent before CreateTrainingJob: a tenant offboarding since its token was checked gets a 403 tenant_not_active, nothing started (the fence)', async () => {
    // the gateway's (eventually consistent, cached) read still says ACTIVE; the strongly consistent one OFFBOARDING
    doc.on(GetCommand, { TableName: 'registry', ConsistentRead: true }).resolves({ Item: { status: 'OFFBOARDING' } });
    const { handler } = await import('../../../lambdas/fine-tuning/api-handler.js');
    const out = await handler(apiEvent('POST', '/v1/fine_tuning/jobs', await sign({ 'tessera:tenant-id': 'acme', 'tessera:role': 'developer' }), { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' }));
    expect(out.statusCode).toBe(403);
    expect(JSON.parse(out.body).error).toMatchObject({ code: 'tenant_not_active' });
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    expect(doc.commandCalls(GetCommand, { TableName: 'registry', ConsistentRead: true })[0].args[0].input).toMatchObject({ Key: { tenantId: 'acme' }, ProjectionExpression: '#s' });
    // the job recorded, then failed (its slot given back): the last write
    expect(doc.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems![0].Put).toMatchObject({ TableName: 'jobs', Item: { status: 'failed', error: { code: 'tenant_not_active' } } });
  });

  it('answers another tenant\'s bucket with a 400 in OpenAI\'s shape, starts nothing, audits the refusal', async () => {
    const { handler } = await import('../../../lambdas/fine-tuning/api-handler.js');
    const out = await handler(apiEvent('POST', '/v1/fine_tuning/jobs', await sign({ 'tessera:tenant-id': 'acme', 'tessera:role': 'developer' }), { model: 'llama-3.1-8b-instruct', training_file: 's3://tessera-globex-data-555555555555/training-data/a.jsonl' }));
    expect(out.statusCode).toBe(400);
    expect(JSON.parse(out.body).error).toMatchObject({ type: 'invalid_request_error', param: 'training_file', code: 'invalid_training_file' });
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    expect(JSON.parse(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string)).toMatchObject({ action: 'fine_tuning.job.create', status: 400, outcome: 'invalid_training_file' });
  });

  it('keeps the caller\'s x-tessera-tags on the record it writes to S3; the header sent as two lines (multiValueHeaders) is the 400 naming it, as on the router', async () => {
    const { handler } = await import('../../../lambdas/fine-tuning/api-handler.js');
    const token = await sign({ 'tessera:tenant-id': 'acme', 'tessera:role': 'developer' });
    const tagged = { ...apiEvent('GET', '/v1/fine_tuning/jobs', token), headers: { Authorization: `Bearer ${token}`, 'X-Tessera-Tags': 'train, env=prod' } } as unknown as APIGatewayProxyEvent;
    expect((await handler(tagged)).statusCode).toBe(200);
    expect(JSON.parse(s3.commandCalls(PutObjectCommand).at(-1)!.args[0].input.Body as string)).toMatchObject({ status: 200, tags: ['train', 'env=prod'] });
    const twice = { ...tagged, multiValueHeaders: { Authorization: [`Bearer ${token}`], 'X-Tessera-Tags': ['a', 'train, env=prod'] } } as unknown as APIGatewayProxyEvent;
    const refused = await handler(twice);
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body).error).toMatchObject({ param: 'x-tessera-tags', code: 'invalid_value' });
    // The same reading of repeated headers: a traceparent sent twice is ignored, as the router ignores it (the last one was kept).
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = { ...apiEvent('GET', '/v1/fine_tuning/jobs', token), headers: { Authorization: `Bearer ${token}`, traceparent: tp }, multiValueHeaders: { Authorization: [`Bearer ${token}`], traceparent: ['00-12345678901234567890123456789012-1234567890123456-01', tp] } } as unknown as APIGatewayProxyEvent;
    expect((await handler(traced)).statusCode).toBe(200);
    const record = JSON.parse(s3.commandCalls(PutObjectCommand).at(-1)!.args[0].input.Body as string);
    expect([record.traceparent, record.detail?.traceparentIgnored]).toEqual([undefined, expect.stringContaining('sent more than once')]);
  });

  it('answers a forged token with 401', async () => {
    const { handler } = await import('../../../lambdas/fine-tuning/api-handler.js');
    const token = await sign({ 'tessera:tenant-id': 'acme' });
    const out = await handler(apiEvent('GET', '/v1/fine_tuning/jobs', `${token.slice(0, -4)}AAAA`));
    expect(out.statusCode).toBe(401);
    // The gateway's headers reach the caller (they were dropped before): the challenge, the request id and the processing time.
    expect(out.headers).toMatchObject({ 'www-authenticate': 'Bearer error="invalid_token"', 'x-request-id': expect.stringMatching(/^req_/), 'openai-processing-ms': expect.stringMatching(/^\d+$/), 'content-type': 'application/json' });
  });

  it('a job create with less than TRAINING_START_MARGIN_MS of the invocation left starts no training job: a 503 the SDKs retry, the job recorded failed', async () => {
    const { handler } = await import('../../../lambdas/fine-tuning/api-handler.js');
    // GIVEN an invocation that has 9 s left of its 29 (the margin is 10 s): its answer would come after API Gateway's 504
    const out = await handler(apiEvent('POST', '/v1/fine_tuning/jobs', await sign({ 'tessera:tenant-id': 'acme', 'tessera:role': 'developer' }), { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' }), { getRemainingTimeInMillis: () => 9_000 });
    // THEN nothing started (the old code started the training job whose answer nobody would see)
    expect(out.statusCode).toBe(503);
    expect(out.headers).toMatchObject({ 'x-should-retry': 'true' });
    expect(JSON.parse(out.body).error).toMatchObject({ type: 'server_error', code: 'request_deadline_exceeded' });
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    expect(doc.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems![0].Put).toMatchObject({ TableName: 'jobs', Item: { status: 'failed', error: { code: 'request_deadline_exceeded' } } });
  });

  it('an official client\'s retry (x-stainless-retry-count) of a create whose job was made is answered that job: no second CreateTrainingJob', async () => {
    const { handler } = await import('../../../lambdas/fine-tuning/api-handler.js');
    const token = await sign({ 'tessera:tenant-id': 'acme', 'tessera:role': 'developer' });
    const body = { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' };
    // GIVEN the first attempt made and started its job (its answer lost: API Gateway's 504), the jobs table now lists it
    const first = await handler(apiEvent('POST', '/v1/fine_tuning/jobs', token, body), { getRemainingTimeInMillis: () => 28_000 });
    const recorded = doc.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems![0].Put!.Item!;
    doc.on(QueryCommand, { TableName: 'jobs' }).resolves({ Items: [recorded] });
    // WHEN the client sends it again as its first retry
    const retry = await handler({ ...apiEvent('POST', '/v1/fine_tuning/jobs', token, body), headers: { Authorization: `Bearer ${token}`, 'X-Stainless-Retry-Count': '1' } } as APIGatewayProxyEvent, { getRemainingTimeInMillis: () => 28_000 });
    // THEN the same job, one training job
    expect(retry.statusCode).toBe(200);
    expect(JSON.parse(retry.body).id).toBe(JSON.parse(first.body).id);
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
  });
});

describe('fine-tuning API Lambda: browser preflights', () => {
  const preflight = (origin: string) => ({
    httpMethod: 'OPTIONS', path: '/prod/v1/fine_tuning/jobs', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    queryStringParameters: null, body: null, isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEvent;

  it('answers an origin some tenant allows with 204 and the CORS headers, from the origin index, without a token', async () => {
    const { handler } = await import('../../../lambdas/fine-tuning/api-handler.js');
    const out = await handler(preflight('https://app.acme.test'));
    expect(out.statusCode).toBe(204);
    expect(out.body).toBe('');
    expect(out.headers).toMatchObject({ 'access-control-allow-origin': 'https://app.acme.test', 'access-control-allow-methods': expect.stringContaining('POST') });
    expect(doc.commandCalls(QueryCommand, { TableName: 'cors' })).toHaveLength(1);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0); // no tenant session: a preflight has no tenant
  });

  it('answers any other origin without CORS headers', async () => {
    const { handler } = await import('../../../lambdas/fine-tuning/api-handler.js');
    const out = await handler(preflight('https://evil.test'));
    expect(Object.keys(out.headers ?? {}).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });
});

describe('training state-change Lambda', () => {
  const jobId = 'ftjob-0000000000000123456789ab';
  const name = `acme-ft-${jobId.slice(6)}`;
  const job = {
    id: jobId, jobId, tenantId: 'acme', userId: 'dev@acme', model: 'llama-3.1-8b-instruct', trainingFile: `s3://${tenant.stackOutputs.BucketName}/training-data/a.jsonl`,
    hyperparameters: { n_epochs: 3, batch_size: 8, learning_rate_multiplier: 1 }, suffix: 'faq', instanceType: 'ml.g5.2xlarge', spot: false,
    trainingJobName: name, status: 'running', createdAt: 1, events: [],
  };

  it('deploys a completed job in the tenant account and leaves it running, its model not listed, while the endpoint is Creating', async () => {
    // The job is found by its name's tenant and id (no index across tenants).
    doc.on(GetCommand, { TableName: 'jobs', Key: { tenantId: 'acme', jobId } }).resolves({ Item: job });
    doc.on(UpdateCommand).resolves({});
    sageMaker.on(CreateModelCommand).resolves({}).on(CreateEndpointConfigCommand).resolves({}).on(CreateEndpointCommand).resolves({});
    sageMaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'Creating' } as never);
    const { handler } = await import('../../../lambdas/fine-tuning/training-events-handler.js');
    const event = {
      account: ACCOUNT, source: 'aws.sagemaker', 'detail-type': 'SageMaker Training Job State Change',
      detail: { TrainingJobName: name, TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: `s3://${tenant.stackOutputs.BucketName}/models/${name}/output/model.tar.gz` } },
    } as unknown as EventBridgeEvent<'SageMaker Training Job State Change', never>;
    expect(await handler(event)).toEqual({ outcome: 'running' });
    expect(sageMaker.commandCalls(CreateEndpointCommand)[0].args[0].input).toMatchObject({ EndpointName: name, EndpointConfigName: name });
    // The deployment claimed the job first, then read the tenant's status strongly consistent (the fence against an offboarding)
    const updates = doc.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(updates[0]).toMatchObject({ TableName: 'jobs', Key: { tenantId: 'acme', jobId }, UpdateExpression: 'SET #d = :token', ExpressionAttributeValues: { ':expected': 'running' } });
    expect(doc.commandCalls(GetCommand).map((c) => c.args[0].input)).toContainEqual(expect.objectContaining({ TableName: 'registry', Key: { tenantId: 'acme' }, ConsistentRead: true }));
    // THEN nothing is listed in the registry, and the job stays running under its claim, waiting for its endpoint
    expect(updates.filter((u) => u.TableName === 'registry')).toEqual([]);
    const put = doc.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems!;
    expect(put).toHaveLength(1); // no slot given back: the job is still active
    expect(put[0].Put).toMatchObject({ TableName: 'jobs', Item: { status: 'running', endpointName: name, deploying: updates[0].ExpressionAttributeValues![':token'], awaitingEndpointSince: expect.any(Number) } });
    expect(put[0].Put!.Item!.fineTunedModel).toBeUndefined();
    expect(JSON.parse(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string)).toMatchObject({ action: 'fine_tuning.model.endpoint_creating', tenantId: 'acme' });
    // ...and a look at the endpoint is scheduled, 15 minutes on, in case its state change event does not come
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([{
      QueueUrl: 'https://sqs.us-east-1.amazonaws.com/222222222222/tessera-fine-tuning-endpoint-checks', DelaySeconds: 900, MessageBody: JSON.stringify({ tenantId: 'acme', jobId, check: 1 }),
    }]);
  });

  it('a scheduled look (SQS) at an endpoint whose event never came: described InService, the job succeeds; still Creating: the next look is scheduled; a bad message is reported failed', async () => {
    const waiting = { ...job, endpointName: name, deploying: 'evt-1', awaitingEndpointSince: 100, events: [] };
    doc.on(GetCommand, { TableName: 'jobs', Key: { tenantId: 'acme', jobId } }).resolves({ Item: waiting });
    doc.on(UpdateCommand).resolves({});
    sageMaker.on(DescribeEndpointCommand).resolvesOnce({ EndpointStatus: 'Creating' } as never).resolves({ EndpointStatus: 'InService' } as never);
    const { handler } = await import('../../../lambdas/fine-tuning/training-events-handler.js');
    const sqsEvent = (...bodies: string[]) => ({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body, eventSource: 'aws:sqs' })) }) as never;
    // Still Creating: the second look is scheduled, nothing written
    expect(await handler(sqsEvent(JSON.stringify({ tenantId: 'acme', jobId, check: 1 })))).toEqual({ batchItemFailures: [] });
    expect(sqs.commandCalls(SendMessageCommand).map((c) => JSON.parse(c.args[0].input.MessageBody!))).toEqual([{ tenantId: 'acme', jobId, check: 2 }]);
    expect(doc.commandCalls(TransactWriteCommand)).toHaveLength(0);
    // In service at the next look: succeeded, listed; a message that is no check is reported (SQS delivers it again, then its DLQ)
    expect(await handler(sqsEvent(JSON.stringify({ tenantId: 'acme', jobId, check: 2 }), '{"jobId":1}'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(doc.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems![0].Put!.Item).toMatchObject({ status: 'succeeded', fineTunedModel: 'ft:llama-3.1-8b-instruct:acme:faq' });
    expect(doc.commandCalls(UpdateCommand).map((c) => c.args[0].input).filter((u) => u.TableName === 'registry')).toHaveLength(1);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
  });

  it('an endpoint\'s IN_SERVICE event ends the wait: described as the launcher, the model added to the registry, the job succeeded and its claim gone', async () => {
    const waiting = { ...job, endpointName: name, deploying: 'evt-1', awaitingEndpointSince: 100, events: [{ id: 'ftevent-1', created_at: 100, level: 'info', message: 'Training completed' }] };
    doc.on(GetCommand, { TableName: 'jobs', Key: { tenantId: 'acme', jobId } }).resolves({ Item: waiting });
    doc.on(UpdateCommand).resolves({});
    sageMaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService' } as never);
    const { handler } = await import('../../../lambdas/fine-tuning/training-events-handler.js');
    const event = {
      account: ACCOUNT, source: 'aws.sagemaker', 'detail-type': 'SageMaker Endpoint State Change',
      detail: { EndpointName: name, EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${name}`, EndpointStatus: 'IN_SERVICE', CreationTime: 1592411992203, Tags: {} },
    } as unknown as EventBridgeEvent<'SageMaker Endpoint State Change', never>;
    expect(await handler(event)).toEqual({ outcome: 'succeeded' });
    expect(sageMaker.commandCalls(DescribeEndpointCommand).map((c) => c.args[0].input)).toEqual([{ EndpointName: name }]);
    const added = doc.commandCalls(UpdateCommand).map((c) => c.args[0].input).find((u) => u.TableName === 'registry')!;
    expect(added).toMatchObject({ TableName: 'registry', Key: { tenantId: 'acme' }, ExpressionAttributeValues: { ':m': [expect.objectContaining({ id: 'ft:llama-3.1-8b-instruct:acme:faq', endpointName: name, invokeRoleArn: `arn:aws:iam::${ACCOUNT}:role/tessera-acme-model-invoker` })] } });
    const put = doc.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems!;
    expect(put[0].Put).toMatchObject({ TableName: 'jobs', Item: { status: 'succeeded', fineTunedModel: 'ft:llama-3.1-8b-instruct:acme:faq', finishedAt: expect.any(Number) }, ExpressionAttributeValues: { ':expected': 'running', ':claim': 'evt-1' } });
    expect(put[0].Put!.Item!.deploying).toBeUndefined(); // the claim goes with the job's end (the client drops undefined values)
    expect(put[0].Put!.Item!.awaitingEndpointSince).toBeUndefined();
    expect(put[1].Update).toMatchObject({ Key: { tenantId: 'acme', jobId: '#active' }, ExpressionAttributeValues: { ':minus': -1 } });
    expect(JSON.parse(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string)).toMatchObject({ action: 'fine_tuning.model.deployed', tenantId: 'acme' });
  });

  it('an endpoint\'s FAILED event fails the job with SageMaker\'s FailureReason (described), deletes the endpoint, its config and model, lists nothing', async () => {
    const waiting = { ...job, endpointName: name, deploying: 'evt-1', awaitingEndpointSince: 100, events: [] };
    doc.on(GetCommand, { TableName: 'jobs', Key: { tenantId: 'acme', jobId } }).resolves({ Item: waiting });
    doc.on(UpdateCommand).resolves({});
    const reason = 'Unable to provision requested ML compute capacity. Please retry using a different ML instance type.';
    sageMaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'Failed', FailureReason: reason } as never)
      .on(DeleteEndpointCommand).resolves({}).on(DeleteEndpointConfigCommand).resolves({}).on(DeleteModelCommand).resolves({});
    const { handler } = await import('../../../lambdas/fine-tuning/training-events-handler.js');
    const event = { account: ACCOUNT, source: 'aws.sagemaker', 'detail-type': 'SageMaker Endpoint State Change', detail: { EndpointName: name, EndpointStatus: 'FAILED' } } as unknown as EventBridgeEvent<'SageMaker Endpoint State Change', never>;
    expect(await handler(event)).toEqual({ outcome: 'failed' });
    expect(doc.commandCalls(UpdateCommand).map((c) => c.args[0].input).filter((u) => u.TableName === 'registry')).toEqual([]);
    const put = doc.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems!;
    expect(put[0].Put!.Item).toMatchObject({ status: 'failed', error: { code: 'deployment_failed', message: `the model's endpoint ${name} is Failed: ${reason}`, param: null } });
    expect(put[0].Put!.Item!.fineTunedModel).toBeUndefined();
    expect([sageMaker.commandCalls(DeleteEndpointCommand), sageMaker.commandCalls(DeleteEndpointConfigCommand), sageMaker.commandCalls(DeleteModelCommand)].map((c) => c.length)).toEqual([1, 1, 1]);
  });
});

describe('training state-change Lambda: offboarding\'s direct invocation', () => {
  const retire = { action: 'retire-fine-tuned-models', tenantId: 'acme', executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:x' };

  it('retires the tenant\'s fine-tuned models as its training launcher and answers the progress', async () => {
    const name = `acme-ft-${'c'.repeat(24)}`;
    doc.on(GetCommand, { TableName: 'registry' }).resolves({ Item: { ...tenant, fineTunedModels: [{ id: 'ft:llama-3.1-8b-instruct:acme:faq', baseModel: 'llama-3.1-8b-instruct', jobId: `ftjob-${'c'.repeat(24)}`, endpointName: name, createdAt: '2026-11-01T00:00:00.000Z' }] } });
    sageMaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService' } as never).on(DeleteEndpointCommand).resolves({}).on(DeleteEndpointConfigCommand).resolves({}).on(DeleteModelCommand).resolves({});
    const { handler } = await import('../../../lambdas/fine-tuning/training-events-handler.js');
    const out = await handler({ ...retire, previous: {} } as never);
    expect(out).toMatchObject({ state: 'IN_PROGRESS', deleted: [`endpoint/${name}`, `endpoint-config/${name}`, `model/${name}`], deleting: [name], waitingSince: expect.any(String) });
    // (the launcher session is tenantRoleClient's, cached per tenant and role: assumed here, or kept from an earlier test)
    expect(JSON.parse(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string)).toMatchObject({ action: 'fine_tuning.model.retired', tenantId: 'acme', detail: { executionArn: retire.executionArn } });
  });

  it('answers a tenant without fine-tuning COMPLETE without assuming its launcher', async () => {
    // A cold Lambda (see the first test): with a launcher session kept from an earlier test, no AssumeRole would show either way.
    vi.resetModules();
    const { handler } = await import('../../../lambdas/fine-tuning/training-events-handler.js');
    expect(await handler(retire as never)).toEqual({ state: 'COMPLETE', cancelledJobs: [], retiredModels: [], deleted: [], deleting: [], stopped: [], checkedNames: [] });
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).not.toContainEqual(expect.stringMatching(/training-launcher$/));
    expect(sageMaker.calls()).toHaveLength(0);
  });

  it('refuses an event that carries an action beside an EventBridge envelope, and takes an EventBridge event as before', async () => {
    const { handler } = await import('../../../lambdas/fine-tuning/training-events-handler.js');
    await expect(handler({ ...retire, source: 'aws.sagemaker', detail: {} } as never)).rejects.toMatchObject({ name: 'InvalidRequest' });
    // the previous run's answer, when there is one, is an object whose waitingSince is a string
    for (const previous of ['x', null, { waitingSince: 5 }]) await expect(handler({ ...retire, previous } as never)).rejects.toMatchObject({ name: 'InvalidRequest' });
    const unknownJob = { account: ACCOUNT, source: 'aws.sagemaker', 'detail-type': 'SageMaker Training Job State Change', detail: { TrainingJobName: 'acme-ft-nothex', TrainingJobStatus: 'Completed' } };
    expect(await handler(unknownJob as never)).toEqual({ outcome: 'ignored' });
    expect(sageMaker.calls()).toHaveLength(0);
  });
});
