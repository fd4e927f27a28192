import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { S3Client } from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/protocol-http';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { applyBedrockGuardrail } from '../../lambdas/inference/bedrock-guardrail.js';
import { BedrockProvider } from '../../lambdas/inference/providers/bedrock.js';
import { SageMakerProvider } from '../../lambdas/inference/providers/sagemaker.js';
import { S3AuditSink } from '../../lambdas/inference/s3-audit-sink.js';
import { assumeRole, clientWith, platformClient, registerClientPlugin, type ClientPlugin } from '../../lambdas/shared/aws-clients.js';
import { documentClientWith, DROP_UNDEFINED, platformDocumentClient } from '../../lambdas/shared/document-clients.js';
import { httpHandler, nodeHttpHandler } from '../../lambdas/shared/http-handlers.js';
import { costExplorer } from '../../lambdas/statements/cost-explorer.js';

// lib/aws-http-timeouts.ts: every SDK client of the Lambdas has a connection and, but for model
// invocations, a socket inactivity timeout; each ends an attempt with the SDK's TimeoutError, which
// the SDK's retry sends again. Loopback servers only; the timeouts given here are small so that a
// test takes about a second, and nothing asserts how long anything took.

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TCP server on 127.0.0.1 that accepts every connection and never sends a byte; `connections` counts them. */
async function silentServer(): Promise<{ endpoint: string; connections: () => number }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((ok) => server.close(ok));
  });
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => sockets.length };
}

/**
 * A port on 127.0.0.1 whose listener never accepts: it listens (backlog 1) in a worker thread that
 * then blocks (Atomics.wait, 20 s at most, so it ends by itself), so nothing takes connections off
 * the kernel's accept queue. Two connections made here fill that queue (Linux queues backlog + 1),
 * and the kernel drops the SYNs of any later one: its connect hangs, as a blackholed endpoint's
 * does, or a loaded server's whose accept backlog is full.
 */
async function unacceptingEndpoint(): Promise<string> {
  const lock = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const server = require('node:net').createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      parentPort.postMessage(server.address().port);
      Atomics.wait(workerData.lock, 0, 0, 20000);
      server.close();
    });`, { eval: true, workerData: { lock } });
  const port = await new Promise<number>((ok, fail) => worker.once('message', ok).once('error', fail));
  const fillers = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
  cleanups.push(() => {
    for (const s of fillers) s.destroy();
    Atomics.store(lock, 0, 1);
    Atomics.notify(lock, 0);
    return worker.terminate();
  });
  await Promise.all(fillers.map((s) => new Promise((ok, fail) => s.once('connect', ok).once('error', fail))));
  return `http://127.0.0.1:${port}`;
}

/** A real DynamoDB client to `endpoint` over a handler made as every profile's is (nodeHttpHandler), with 3 attempts (aws-clients.ts's default). */
const dynamodbTo = (endpoint: string, timeouts: { connectionTimeout: number; socketTimeout?: number }) =>
  new DynamoDBClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 3, requestHandler: nodeHttpHandler(timeouts) });

const getItem = new GetItemCommand({ TableName: 'tessera-tenants', Key: { tenantId: { S: 'acme' } } });

describe('an SDK call whose connection hangs ends with the SDK\'s TimeoutError after its retries', () => {
  it('a server that accepts and never answers: each attempt ends after socketTimeout without a byte, on a new connection, 3 in all', async () => {
    const server = await silentServer();
    // WHEN a DynamoDB GetItem is sent to it
    const error = await dynamodbTo(server.endpoint, { connectionTimeout: 1_000, socketTimeout: 300 }).send(getItem).then(() => undefined, (e: unknown) => e);
    // THEN it fails with the SDK's TimeoutError of the socket timeout, after the client's 3 attempts
    expect(error).toMatchObject({ name: 'TimeoutError', $metadata: { attempts: 3 } });
    expect((error as Error).message).toMatch(/timed out after 300 ms of inactivity/);
    // AND each attempt was sent again on a new connection (the timed-out socket is destroyed, not reused)
    expect(server.connections()).toBe(3);
  });

  it('an endpoint that never accepts the connection: each attempt ends after connectionTimeout, 3 in all', async () => {
    const endpoint = await unacceptingEndpoint();
    const error = await dynamodbTo(endpoint, { connectionTimeout: 300, socketTimeout: 300 }).send(getItem).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ name: 'TimeoutError', $metadata: { attempts: 3 } });
    expect((error as Error).message).toMatch(/did not establish a connection with the server within the configured timeout of 300 ms/);
  });
});

describe('the Lambdas\' clients carry the timeouts of their kind of use (lib/aws-http-timeouts.ts)', () => {
  /** The settings a handler resolved for a request (NodeHttpHandler resolves them on its first one): a GET to a loopback server that answers 200. */
  async function settingsOf(handler: unknown): Promise<Record<string, unknown>> {
    const server = createHttpServer((_req, res) => res.writeHead(200).end());
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise((ok) => server.close(ok));
    });
    const h = handler as { handle(r: HttpRequest): Promise<{ response: { body: NodeJS.ReadableStream } }>; httpHandlerConfigs(): Record<string, unknown> };
    const { response } = await h.handle(new HttpRequest({ protocol: 'http:', hostname: '127.0.0.1', port: (server.address() as AddressInfo).port, method: 'GET', path: '/', headers: {} }));
    response.body.resume();
    const { connectionTimeout, socketTimeout, requestTimeout, throwOnRequestTimeout } = h.httpHandlerConfigs();
    return { connectionTimeout, socketTimeout, requestTimeout, throwOnRequestTimeout };
  }

  /** The client each of `calls` sends through: a plugin stops every request before it leaves (no network) and records its client. */
  async function clientsUsedBy(calls: Array<() => Promise<unknown>>): Promise<Array<{ config: { requestHandler: unknown; maxAttempts(): Promise<number> } }>> {
    const used: unknown[] = [];
    const stop = new Error('stopped before sending');
    const plugin: ClientPlugin = (client) => {
      (client.middlewareStack as unknown as { add(m: unknown, o: unknown): void }).add(() => async () => {
        used.push(client);
        throw stop;
      }, { step: 'initialize', priority: 'high', name: 'stopBeforeSending' });
    };
    const unregister = registerClientPlugin(plugin);
    try {
      for (const call of calls) await expect(call()).rejects.toBe(stop);
    } finally {
      unregister();
    }
    expect(used).toHaveLength(calls.length);
    return used as Array<{ config: { requestHandler: unknown; maxAttempts(): Promise<number> } }>;
  }

  it('the gateway\'s small calls (DynamoDB, STS AssumeRole, the audit record): 5 s to connect, 15 s without a byte, 3 attempts', async () => {
    // WHEN the gateway's DynamoDB document clients, an AssumeRole and an audit record are sent
    const clients = await clientsUsedBy([
      () => platformDocumentClient().send(getItem),
      () => platformDocumentClient(DROP_UNDEFINED).send(getItem),
      () => documentClientWith({ ...credentials }).send(getItem),
      () => assumeRole({ roleArn: 'arn:aws:iam::111122223333:role/TenantDataAccessRole', sessionName: 'tessera-acme', credentials: { ...credentials } }),
      () => assumeRole({ roleArn: 'arn:aws:iam::111122223333:role/TenantDataAccessRole', sessionName: 'tessera-acme' }),
      () => new S3AuditSink('audit-bucket').write({ tenantId: 'acme', at: '2026-12-04T00:00:00.000Z', requestId: 'req-1' } as never),
    ]);
    // THEN each went through the shared `request` handler, an HTTP/1.1 one
    const handler = clients[0].config.requestHandler;
    for (const c of clients) expect(c.config.requestHandler).toBe(handler);
    expect(handler).toBe(httpHandler('request'));
    expect((handler as object).constructor.name).toBe('NodeHttpHandler');
    // AND its settings are 5 s to connect and 15 s of silence; no total request timeout
    expect(await settingsOf(handler)).toEqual({ connectionTimeout: 5_000, socketTimeout: 15_000, requestTimeout: undefined, throwOnRequestTimeout: undefined });
    // AND a call gets 3 attempts (the retries after a TimeoutError)
    for (const c of clients) expect(await c.config.maxAttempts()).toBe(3);
  });

  it('model invocations (Bedrock Runtime, SageMaker Runtime, the guardrail check): 5 s to connect, no socket timeout (a generation may be silent for minutes)', async () => {
    const [guardrail] = await clientsUsedBy([() => applyBedrockGuardrail('gr-example', ['hello'])]);
    const bedrock = (new BedrockProvider() as unknown as { client: { config: { requestHandler: unknown } } }).client;
    const sagemaker = await (new SageMakerProvider() as unknown as { client(r: unknown): Promise<{ config: { requestHandler: unknown } }> }).client({ model: { upstream: 'endpoint' }, tenantId: 'acme' });
    for (const c of [guardrail, bedrock, sagemaker]) expect(c.config.requestHandler).toBe(httpHandler('model'));
    // AND it is the HTTP/1.1 handler, not Bedrock Runtime's own default (NodeHttp2Handler)
    expect(httpHandler('model').constructor.name).toBe('NodeHttpHandler');
    expect(await settingsOf(httpHandler('model'))).toEqual({ connectionTimeout: 5_000, socketTimeout: undefined, requestTimeout: undefined, throwOnRequestTimeout: undefined });
  });

  it('every other client (control plane, the lifecycle\'s S3, Cost Explorer): 5 s to connect, 30 s without a byte', async () => {
    const clients = [platformClient(S3Client), clientWith(OrganizationsClient, { ...credentials }), costExplorer()];
    for (const c of clients) expect(c.config.requestHandler).toBe(httpHandler('control'));
    expect(await settingsOf(httpHandler('control'))).toEqual({ connectionTimeout: 5_000, socketTimeout: 30_000, requestTimeout: undefined, throwOnRequestTimeout: undefined });
  });
});
