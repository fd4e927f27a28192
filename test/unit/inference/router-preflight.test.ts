import { Writable } from 'node:stream';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { serviceLogger } from '../../../lambdas/shared/service-logger.js';
import { logSpy } from '../../support/service-log.js';

// The Lambda Node.js runtime's global for response streaming.
const from = vi.fn((stream: Writable, meta: { statusCode: number; headers: Record<string, string> }) => {
  (stream as Writable & { meta?: unknown }).meta = meta;
  return stream;
});
vi.stubGlobal('awslambda', { streamifyResponse: (f: unknown) => f, HttpResponseStream: { from } });
// A preflight must not build the gateway (registry, authorizer, providers): building it fails here.
const lambdaGateway = vi.fn(async () => { throw new Error('the gateway was built for a preflight'); });
vi.mock('../../../lambdas/inference/lambda-deps.js', async (original) => ({ ...(await original<object>()), lambdaGateway }));
delete process.env.TESSERA_CORS_ORIGINS_TABLE;
const { handler, gatewayPath } = await import('../../../lambdas/inference/router-handler.js');
const run = handler as unknown as (event: APIGatewayProxyEvent, stream: Writable) => Promise<void>;

const sink = () => {
  const chunks: string[] = [];
  return { chunks, stream: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) };
};

describe('router Lambda: OPTIONS', () => {
  it('answers a preflight from the origin index alone, without building the gateway; without TESSERA_CORS_ORIGINS_TABLE no origin is allowed', async () => {
    const error = logSpy('tessera-gateway', 'error');
    const { stream, chunks } = sink();
    const event = { httpMethod: 'OPTIONS', path: '/prod/v1/chat/completions', headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST' }, body: null, isBase64Encoded: false } as unknown as APIGatewayProxyEvent;
    await run(event, stream);
    expect(lambdaGateway).not.toHaveBeenCalled();
    expect(from).toHaveBeenLastCalledWith(stream, { statusCode: 204, headers: { vary: 'Origin, Access-Control-Request-Headers', 'x-request-id': expect.stringMatching(/^req_[0-9a-f]{24}$/) } });
    // No body: one empty write, before which the Lambda runtime writes the prelude (an end() alone sends none).
    expect(chunks).toEqual(['']);
    expect(stream.writableEnded).toBe(true);
    expect(error.lines().map((l) => l.message)).toEqual([expect.stringContaining('TESSERA_CORS_ORIGINS_TABLE is not set')]);
    error.mockRestore();
  });

  it('puts the invocation\'s Lambda context on the gateway\'s log lines (its request id, function name, cold start)', async () => {
    logSpy('tessera-gateway', 'error');
    const added = vi.spyOn(serviceLogger('tessera-gateway'), 'addContext');
    const context = { awsRequestId: 'c0ffee00-0000-4000-8000-000000000002', functionName: 'tessera-router', invokedFunctionArn: 'arn:aws:lambda:us-east-1:111111111111:function:tessera-router', memoryLimitInMB: '1024', functionVersion: '$LATEST', getRemainingTimeInMillis: () => 30_000 };
    const event = { httpMethod: 'OPTIONS', path: '/prod/v1/models', headers: {}, body: null, isBase64Encoded: false } as unknown as APIGatewayProxyEvent;
    await (handler as unknown as (e: APIGatewayProxyEvent, s: Writable, c: unknown) => Promise<void>)(event, sink().stream, context);
    expect(added).toHaveBeenCalledWith(context);
    vi.restoreAllMocks();
  });

  it('routes on event.path as API Gateway REST passes it (percent-encoding kept), stage prefix removed', () => {
    expect(gatewayPath({ path: '/prod/v1/models/bedrock%2Fanthropic.claude-3-5-haiku' })).toBe('/v1/models/bedrock%2Fanthropic.claude-3-5-haiku');
    expect(gatewayPath({ path: '/v1/models/ft:nova:acme:support' })).toBe('/v1/models/ft:nova:acme:support');
  });
});
