import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { clientWith, platformClient, platformClientWith, registerClientPlugin, trackedClientCount } from '../../lambdas/shared/aws-clients.js';
import { httpHandler } from '../../lambdas/shared/http-handlers.js';

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
    // A full collection may leave a few of them for the next one (seen once in a fresh clone's run: 15 of 1,000 left after
    // one, in a worker shared with other files): collected up to five times, until fewer than 10 are left.
    for (let i = 0; i < 5 && trackedClientCount() - before >= 10; i++) await collect();
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

describe('lambdas/shared/aws-clients.ts gives its clients one HTTP handler (one connection pool) per kind of use', () => {
  it("hands every client of a kind the kind's handler, whatever its session, class, region or retries", () => {
    const first = clientWith(S3Client, { ...credentials });
    const handler = first.config.requestHandler;
    // THEN it is the SDK's own HTTP/1.1 handler, the `control` one (lib/aws-http-timeouts.ts)
    expect(handler.constructor.name).toBe('NodeHttpHandler');
    expect(handler).toBe(httpHandler('control'));
    // AND clients of other sessions, classes, regions and options share it: an earlier session's idle connection serves a new one
    const others = [clientWith(S3Client, { ...credentials }), clientWith(STSClient, { ...credentials }, { region: 'eu-west-1' }), clientWith(DynamoDBClient, { ...credentials }, { maxAttempts: 1 }), platformClient(STSClient), platformClientWith(DynamoDBClient, { maxAttempts: 1 })];
    for (const client of others) expect((client as S3Client).config.requestHandler).toBe(handler);
    // AND the clients of another kind share another handler
    const request = clientWith(DynamoDBClient, { ...credentials }, { http: 'request' }).config.requestHandler;
    expect(request).not.toBe(handler);
    expect(platformClient(S3Client, '', { http: 'request' }).config.requestHandler).toBe(request);
    expect(platformClientWith(STSClient, { maxAttempts: 1, http: 'request' }).config.requestHandler).toBe(request);
    expect(clientWith(S3Client, { ...credentials }, { http: 'model' }).config.requestHandler).toBe(httpHandler('model'));
    expect(httpHandler('model')).not.toBe(handler);
    // AND a client made outside this module keeps a handler of its own
    expect(new S3Client({ credentials }).config.requestHandler).not.toBe(handler);
  });

  it('keeps a cached client per kind of use: the same options and kind give the same client, another kind another', () => {
    const session = { ...credentials };
    expect(clientWith(DynamoDBClient, session, { http: 'request' })).toBe(clientWith(DynamoDBClient, session, { http: 'request' }));
    expect(clientWith(DynamoDBClient, session, { http: 'request' })).not.toBe(clientWith(DynamoDBClient, session));
    expect(clientWith(DynamoDBClient, session, { http: 'control' })).toBe(clientWith(DynamoDBClient, session));
    expect(platformClient(S3Client, 'v', { http: 'request' })).not.toBe(platformClient(S3Client, 'v'));
    expect(platformClient(S3Client, 'v', { http: 'control' })).toBe(platformClient(S3Client, 'v'));
  });
});
