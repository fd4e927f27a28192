import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientWith, platformClient, platformClientWith, registerClientPlugin, trackedClientCount } from '../../lambdas/shared/aws-clients.js';
import { documentClientWith, DROP_UNDEFINED } from '../../lambdas/shared/document-clients.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' };

/** A turn of the event loop, then a full collection (WeakRef targets stay alive until the job that made them ends). */
async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
}

describe('lambdas/shared/aws-clients.ts keeps no client alive', () => {
  it('forgets the clients of finished calls (a warm Lambda makes one per assumed session and call), and still plugs those in use', async () => {
    const before = trackedClientCount();
    const held = clientWith(S3Client, credentials);
    // WHEN a thousand calls, each with a session of its own, make a client and drop it
    (() => {
      for (let i = 0; i < 1000; i++) clientWith(S3Client, { ...credentials }, { region: 'eu-west-1' });
    })();
    await collect();
    // THEN none of them is kept (the list used to hold every client and its credentials for the container's life)
    expect(trackedClientCount() - before).toBeLessThan(10);
    // AND a plugin registered now reaches the client still in use
    const plugged: unknown[] = [];
    const unregister = registerClientPlugin((c) => { plugged.push(c); });
    unregister();
    expect(plugged).toContain(held);
  });
});

describe('lambdas/shared/aws-clients.ts reuses a session\'s clients', () => {
  it('hands out one client per credentials object, class and options, and a new one for another session', () => {
    const session = { ...credentials };
    const s3 = clientWith(S3Client, session);
    // THEN the same session, class and options: the same client (its config and connections reused)
    expect(clientWith(S3Client, session)).toBe(s3);
    // AND another class, region, maxAttempts or session: another client
    expect(clientWith(STSClient, session)).not.toBe(s3);
    expect(clientWith(S3Client, session, { region: 'eu-west-1' })).not.toBe(s3);
    expect(clientWith(S3Client, session, { maxAttempts: 1 })).not.toBe(s3);
    expect(clientWith(S3Client, { ...credentials })).not.toBe(s3);
  });

  it('takes a plugin\'s middleware out of the clients still in use when the plugin is unregistered (a reused client must not keep a test\'s fault)', async () => {
    const session = { ...credentials };
    const client = clientWith(S3Client, session);
    const names = () => client.middlewareStack.identify().filter((n) => n.startsWith('tesseraTestPlugin'));
    const unregister = registerClientPlugin((c) => {
      (c.middlewareStack as unknown as S3Client['middlewareStack']).add((next) => (args) => next(args), { step: 'initialize', name: 'tesseraTestPlugin', override: true });
    });
    const later = clientWith(S3Client, session, { region: 'eu-west-1' });
    expect(names()).toHaveLength(1);
    expect(later.middlewareStack.identify().some((n) => n.startsWith('tesseraTestPlugin'))).toBe(true);
    // WHEN
    unregister();
    // THEN neither the client that existed nor the one made while it was registered keeps it
    expect(names()).toEqual([]);
    expect(later.middlewareStack.identify().some((n) => n.startsWith('tesseraTestPlugin'))).toBe(false);
    // AND a client made afterwards does not get it
    expect(clientWith(S3Client, { ...credentials }).middlewareStack.identify().some((n) => n.startsWith('tesseraTestPlugin'))).toBe(false);
  });
});

describe("lambdas/shared/aws-clients.ts leaves out the SDK's logger middleware, which logs nothing for its clients", () => {
  it('takes loggerMiddleware out of every client it makes, and nothing else: the rest of the stack is the SDK default', () => {
    const session = { ...credentials };
    const made = [clientWith(S3Client, session), clientWith(STSClient, session, { region: 'eu-west-1' }), platformClient(DynamoDBClient), platformClientWith(STSClient, { maxAttempts: 1 })];
    const sdkDefault = (c: object) => (c instanceof S3Client ? new S3Client({ credentials }) : c instanceof STSClient ? new STSClient({ credentials }) : new DynamoDBClient({ credentials }));
    for (const client of made) {
      const stack = (client as S3Client).middlewareStack.identify();
      const plain = (sdkDefault(client) as S3Client).middlewareStack.identify();
      // THEN the SDK's own client has the middleware (its name is the one removed: a renamed one would fail here)
      expect(plain).toContain('loggerMiddleware - initialize');
      // AND ours has every other middleware, in the same order
      expect(stack).toEqual(plain.filter((name) => name !== 'loggerMiddleware - initialize'));
      // AND the logger it fed is the SDK's no-op logger (no logger is given): what it did was filter inputs and outputs for nothing
      expect((client as S3Client).config.logger.constructor.name).toBe('NoOpLogger');
    }
  });
});

describe('lambdas/shared/aws-clients.ts gives its clients one HTTP handler (one connection pool) per timeout profile', () => {
  it("hands every later client of a profile the profile's first handler, whatever its session, class, region or retries", () => {
    const first = clientWith(S3Client, { ...credentials });
    const handler = first.config.requestHandler;
    // THEN it is the SDK's own handler
    expect(handler.constructor.name).toBe('NodeHttpHandler');
    // AND clients of other sessions, classes, regions and options of the same profile share it: an earlier session's idle connection serves a new one
    const others = [clientWith(S3Client, { ...credentials }), clientWith(STSClient, { ...credentials }, { region: 'eu-west-1' }), clientWith(DynamoDBClient, { ...credentials }, { maxAttempts: 1 }), platformClient(STSClient), platformClientWith(DynamoDBClient, { maxAttempts: 1 })];
    for (const client of others) expect((client as S3Client).config.requestHandler).toBe(handler);
    // AND the clients of another profile share another handler
    const short = clientWith(DynamoDBClient, { ...credentials }, { timeouts: 'short' }).config.requestHandler;
    expect(short).not.toBe(handler);
    expect(platformClient(S3Client, 'x', { timeouts: 'short' }).config.requestHandler).toBe(short);
    expect(clientWith(S3Client, { ...credentials }, { timeouts: 'long' }).config.requestHandler).not.toBe(handler);
    // AND a client made outside this module keeps a handler of its own
    expect(new S3Client({ credentials }).config.requestHandler).not.toBe(handler);
  });
});

describe('lambdas/shared/aws-clients.ts sets HTTP timeouts on its clients', () => {
  /** A loopback endpoint answering `{}` to every request. */
  let server: Server;
  const env = { AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL, AWS_REGION: process.env.AWS_REGION };
  beforeAll(async () => {
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}'));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    Object.assign(process.env, { AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, AWS_REGION: 'us-east-1' });
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  /** The settings `client`'s handler used for a request (httpHandlerConfigs: resolved on its first request). */
  const settingsOf = (client: { config: { requestHandler: unknown } }) => {
    const { connectionTimeout, requestTimeout, socketTimeout, throwOnRequestTimeout } = (client.config.requestHandler as { httpHandlerConfigs(): Record<string, unknown> }).httpHandlerConfigs();
    return { connectionTimeout, requestTimeout, socketTimeout, throwOnRequestTimeout };
  };

  it('gives every DynamoDB document client (the request path: settles, reservations) a connection, request and socket timeout, each of which ends the attempt', async () => {
    const doc = documentClientWith({ ...credentials }, DROP_UNDEFINED);
    await doc.send(new GetCommand({ TableName: 'tessera-usage', Key: { id: 'x' } }));
    expect(settingsOf(doc)).toEqual({ connectionTimeout: 1_000, requestTimeout: 3_000, socketTimeout: 3_000, throwOnRequestTimeout: true });
  });

  it('gives other clients a connection and an inactivity timeout, and long calls (model invocations, the export\'s copies) a connection timeout only', async () => {
    const standard = clientWith(DynamoDBClient, { ...credentials });
    const long = clientWith(DynamoDBClient, { ...credentials }, { timeouts: 'long' });
    await Promise.all([standard.send(new ListTablesCommand({})), long.send(new ListTablesCommand({}))]);
    expect(settingsOf(standard)).toEqual({ connectionTimeout: 3_000, requestTimeout: undefined, socketTimeout: 30_000, throwOnRequestTimeout: undefined });
    expect(settingsOf(long)).toEqual({ connectionTimeout: 3_000, requestTimeout: undefined, socketTimeout: undefined, throwOnRequestTimeout: undefined });
  });
});
