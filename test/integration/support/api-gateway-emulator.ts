import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { DEV_AUDIENCE, DEV_ISSUER, devKeys, mintDevToken } from '../../../lambdas/inference/dev-keys.js';
import { GATEWAY_RESPONSE_MAPPED_HEADERS, GATEWAY_RESPONSES, gatewayResponseTemplate, type GatewayResponseType } from '../../../lambdas/inference/gateway-responses.js';
import { isBinaryMediaType } from '../../../lambdas/inference/routes.js';
import { INFERENCE_API_METHODS, resolveInferenceMethod } from '../../../lib/inference-api-methods.js';
import { FINE_TUNING_ENV } from '../../../lambdas/fine-tuning/fine-tuning-env.js';
import { GATEWAY_ENV } from '../../../lambdas/inference/lambda-deps.js';
import { tempDir } from '../../support/temp-dirs.js';
import { createGatewayTables } from './gateway-tables.js';
import { startMoto, type MotoServer, pointSdkAtMoto } from './moto-server.js';

/** The most a synchronous Lambda invocation may answer, in bytes (AWS Lambda Developer Guide, "Lambda quotas": 6 MB, 6,291,556 bytes). */
const LAMBDA_MAX_RESPONSE_BYTES = 6_291_556;
/**
 * Lambda's limit of a synchronous invocation's request payload, the event's JSON (6,291,456 bytes: "Lambda quotas";
 * RequestEntityTooLargeException "Request must be smaller than 6291456 bytes for the InvokeFunction operation"), which
 * API Gateway REST answers as its REQUEST_TOO_LARGE 413 ("Request Too Long": koki-develop/lgtm-generator#10).
 */
const LAMBDA_MAX_REQUEST_BYTES = 6_291_456;

/** The delimiter after the JSON prelude of a streamed HTTP answer: 8 NUL bytes (Lambda's HTTP integration response format). */
const PRELUDE_DELIMITER = Buffer.alloc(8);

/**
 * The Lambda Node.js runtime's response-streaming global, as the router handler expects it, writing what the runtime
 * writes: `HttpResponseStream.from(stream, prelude)` sets the stream's content type to
 * `application/vnd.awslambda.http-integration-response` and, before the stream's first `write` (and only then: an
 * `end()` without a write sends no prelude, aws/aws-lambda-nodejs-runtime-interface-client#97), writes the prelude as
 * JSON, then 8 NUL bytes; the body follows as written. API Gateway (the emulator's stream) reads the answer back from them.
 * @returns a function that puts back what `globalThis.awslambda` was before (the emulator's stop
 * calls it: test files share worker processes, test/support/file-state.ts)
 */
function installLambdaStreamingGlobal(): () => void {
  const had = Object.hasOwn(globalThis, 'awslambda');
  const before = (globalThis as Record<string, unknown>).awslambda;
  (globalThis as Record<string, unknown>).awslambda = {
    streamifyResponse: (fn: unknown) => fn,
    HttpResponseStream: {
      from(stream: Writable & { contentType?: string }, meta: { statusCode: number; headers: Record<string, string> }) {
        stream.contentType = 'application/vnd.awslambda.http-integration-response';
        const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
        let first = true;
        stream.write = ((...args: unknown[]) => {
          if (first) {
            first = false;
            write(JSON.stringify(meta));
            write(new Uint8Array(PRELUDE_DELIMITER.length));
          }
          return write(...args);
        }) as typeof stream.write;
        return stream;
      },
    },
  };
  return () => {
    if (had) (globalThis as Record<string, unknown>).awslambda = before;
    else delete (globalThis as Record<string, unknown>).awslambda;
  };
}

/**
 * The Lambda response stream as API Gateway reads it on a `responseTransferMode: STREAM` integration: the JSON prelude
 * (`statusCode`, `headers`, `multiValueHeaders`, `cookies`) up to the 8 NUL bytes becomes the HTTP status and headers,
 * every byte after them the body, passed on unchanged. A stream that ends without a prelude (an `end()` with no write,
 * or a handler that never called `HttpResponseStream.from`) is not an HTTP answer: a 502 here, so that a test sees it.
 * `payload` holds every byte the Lambda wrote (the prelude, the delimiter and the body), for tests of the wire format.
 */
function apiGatewayStreamReader(res: ServerResponse, payload: Buffer[]) {
  let head: Buffer | undefined = Buffer.alloc(0);
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      payload.push(Buffer.from(chunk));
      if (!head) return void res.write(chunk, cb);
      head = Buffer.concat([head, chunk]);
      const at = head.indexOf(PRELUDE_DELIMITER);
      if (at < 0) return cb();
      const prelude = JSON.parse(head.subarray(0, at).toString('utf8')) as { statusCode?: number; headers?: Record<string, string>; multiValueHeaders?: Record<string, string[]>; cookies?: string[] };
      const rest = head.subarray(at + PRELUDE_DELIMITER.length);
      head = undefined;
      res.writeHead(prelude.statusCode ?? 200, { ...prelude.headers, ...prelude.multiValueHeaders, ...(prelude.cookies?.length ? { 'set-cookie': prelude.cookies } : {}) });
      res.flushHeaders();
      if (rest.length) res.write(rest, cb);
      else cb();
    },
    final(cb) {
      if (head) {
        res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `Internal server error: the Lambda's response stream ended without its HTTP prelude (${head.length} bytes written)` }), cb);
        return;
      }
      res.end(cb);
    },
  });
}

/**
 * A request's header lines as API Gateway REST hands them to a Lambda proxy integration and to a REQUEST authorizer:
 * each name in the case the client sent it (HTTP/1.1 names are case-insensitive, and API Gateway does not fold them),
 * `headers` one value per name, the last of a repeated one, and `multiValueHeaders` every value, in order (developer
 * guide, "Lambda proxy integrations in API Gateway", its section "Support for multi-value headers and query string
 * parameters"; AWS What's New, 2018-10-04: "Amazon API Gateway supports multiple headers and query string parameters
 * with the same name in the API Request");
 * the input format's example event carries `Accept`, `Host`, `User-Agent`... as sent). Node's `req.headers` is none of
 * that: names in lower case, a repeated value joined with ", " (or, for `authorization`, `content-type` and a few
 * others, the FIRST kept), which let a handler that read `authorization` or never read `multiValueHeaders` pass here
 * and fail deployed. A name sent in two cases is kept here as two keys (AWS documents no merging of them).
 * @param raw node's `req.rawHeaders`: name, value, name, value…
 */
export function restHeaders(raw: readonly string[]): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const [name, value] = [raw[i]!, raw[i + 1]!];
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  return { headers, multiValueHeaders };
}

/**
 * A request's query string as API Gateway REST reads it into `queryStringParameters` and
 * `multiValueQueryStringParameters`: pairs split at `&` and at a plain `;` (API Gateway developer guide, "Amazon API
 * Gateway important notes for REST APIs": "The semicolon character (;) is not supported for any request URL query
 * string and results in the data being split."), each name and value then percent-decoded, `+` as a space (as API
 * Gateway decodes it: aws/aws-cdk#19827); an encoded `%3B` stays in its value. URLSearchParams alone kept `a;b` one
 * value, so a hand-written `?order=desc;limit=2` was another request here than deployed.
 * @param search the URL's search part, `?` included or empty
 */
export function restQuery(search: string): URLSearchParams {
  return new URLSearchParams(search.replace(/^\?/, '').replace(/;/g, '&'));
}

/** The router Lambda's timeout (constructs/inference-api.ts: 15 minutes), which its context's remaining time counts down. */
const ROUTER_TIMEOUT_MS = 15 * 60_000;

const read = (req: IncomingMessage) => new Promise<Buffer>((resolve) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => resolve(Buffer.concat(chunks)));
});



/**
 * The CORS origin index (GATEWAY_ENV.corsOriginsTable) in moto, as the registry-stream Lambda
 * keeps it: one `{ origin, tenantId }` item per origin of each tenant's `gateway.allowedOrigins`.
 */
async function createCorsOriginIndex(table: string, tenants: TenantRecord[]): Promise<void> {
  const ddb = new DynamoDBClient({});
  await ddb.send(new CreateTableCommand({
    TableName: table, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'origin', AttributeType: 'S' }, { AttributeName: 'tenantId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'origin', KeyType: 'HASH' }, { AttributeName: 'tenantId', KeyType: 'RANGE' }],
  }));
  for (const t of tenants) {
    if (t.status === 'OFFBOARDED') continue;
    for (const origin of t.gateway?.allowedOrigins ?? []) await ddb.send(new PutItemCommand({ TableName: table, Item: { origin: { S: origin }, tenantId: { S: t.tenantId } } }));
  }
}

/** API Gateway's status of each response type answered here (developer guide, "Gateway response types for API Gateway"). */
const DEFAULT_STATUS: Record<Exclude<GatewayResponseType, 'DEFAULT_4XX' | 'DEFAULT_5XX'>, number> = {
  UNAUTHORIZED: 401, ACCESS_DENIED: 403, AUTHORIZER_FAILURE: 500, AUTHORIZER_CONFIGURATION_ERROR: 500, INVALID_API_KEY: 403,
  THROTTLED: 429, QUOTA_EXCEEDED: 429, WAF_FILTERED: 403, MISSING_AUTHENTICATION_TOKEN: 403, REQUEST_TOO_LARGE: 413, INTEGRATION_TIMEOUT: 504,
};

/**
 * What API Gateway answers for `type` with the API's gateway responses (gateway-responses.ts, as
 * constructs/inference-api.ts deploys them): the template with its `$context` variables substituted
 * as they are (no escaping: API Gateway's templates are not VTL). A variable the emulator does not
 * know fails the test, as it would be sent literally.
 */
export function renderGatewayResponse(type: Exclude<GatewayResponseType, 'DEFAULT_4XX' | 'DEFAULT_5XX'>, requestId: string, authorizer: Record<string, string> = {}) {
  const status = DEFAULT_STATUS[type];
  const spec = GATEWAY_RESPONSES.find((r) => r.type === type) ?? GATEWAY_RESPONSES.find((r) => r.type === (status < 500 ? 'DEFAULT_4XX' : 'DEFAULT_5XX'))!;
  const body = gatewayResponseTemplate(spec).replace(/\$context\.[A-Za-z.]+/g, (variable) => {
    if (variable === '$context.requestId') return requestId;
    if (variable === '$context.error.responseType') return type;
    if (variable.startsWith('$context.authorizer.')) return authorizer[variable.slice('$context.authorizer.'.length)] ?? '';
    throw new Error(`gateway response ${spec.type} uses ${variable}, which the emulator does not substitute`);
  });
  const mapped = Object.fromEntries(Object.entries(GATEWAY_RESPONSE_MAPPED_HEADERS).map(([name, source]) => {
    if (source !== 'context.requestId') throw new Error(`gateway response header ${name} maps ${source}, which the emulator does not know`);
    return [name, requestId];
  }));
  return { status: spec.statusCode ?? status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, ...spec.headers, ...mapped }, body };
}

/**
 * API Gateway (REST, Lambda REQUEST authorizer on `Authorization`, Lambda proxy integration with
 * `responseTransferMode: STREAM`) in front of the real authorizer and router handlers, on
 * loopback, with the handlers' AWS dependencies in moto: the registry and usage tables, the
 * audit bucket, the tenant's provider key in Secrets Manager, and the JWKS served over HTTP. The
 * API's resources and methods are the deployed API's (lib/inference-api-methods.ts), resolved as
 * API Gateway does (resolveInferenceMethod): the greedy `/v1/{proxy+}` ANY takes every /v1 path no
 * more specific resource takes, so only a path outside /v1 (or /v1 itself) is
 * MISSING_AUTHENTICATION_TOKEN, before the authorizer. For any other method the
 * authorizer runs first (no `Authorization` header, or an `Unauthorized` throw, is UNAUTHORIZED, a
 * Deny ACCESS_DENIED with the Deny's context, another throw AUTHORIZER_CONFIGURATION_ERROR, each answered with
 * the API's gateway responses: renderGatewayResponse), then the router streams its answer through
 * `awslambda.HttpResponseStream`; a client that disconnects closes the Lambda's response stream.
 * An OPTIONS method has no authorizer (browser preflights carry no credentials): the router, or
 * the fine-tuning Lambda on its resources, answers from the origin index, a moto table.
 * The Lambda's event is REST's: headers under their names as sent, the last of a repeated one, with `multiValueHeaders`
 * (restHeaders, the authorizer's event too), the query split at `&` and `;` and decoded (restQuery), `path` as the client sent it (percent-encoding kept), `resource`
 * the resolved resource, `pathParameters` decoded (`{proxy+}` of `/v1/models/{proxy+}` holds
 * `bedrock/anthropic...`). The tenant-users function's methods run the router's handler (its
 * code; the emulator has no user pool, so both answer users 404). With `options.fineTuning`, the
 * fine-tuning Lambda's methods go to its API handler (whole answers), its jobs table in moto;
 * without, they are left out and their paths reach the router; a body whose
 * Content-Type is one of the API's binaryMediaTypes reaches it base64-encoded, as in AWS.
 */
export async function startApiGatewayEmulator(config: PlatformConfig, upstreamUrl: string, tenants: TenantRecord[], options: { fineTuning?: boolean } = {}) {
  const moto: MotoServer = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  await createGatewayTables(tenants);
  await createCorsOriginIndex('tessera-cors-origins', tenants);
  await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: 'tessera-audit' }));
  const secrets = new SecretsManagerClient({});
  for (const t of tenants) {
    for (const provider of ['openai-compatible', 'openai', 'huggingface']) await secrets.send(new CreateSecretCommand({ Name: `tessera/tenants/${t.tenantId}/${provider}`, SecretString: `key-of-${t.tenantId}`, Tags: [{ Key: 'tessera:tenant-id', Value: t.tenantId }] }));
  }
  const keysFile = join(tempDir('tessera-apigw-'), 'dev-keys.json');
  const keys = await devKeys(keysFile);
  let jwksStatus = 200;
  let jwksReads = 0;
  const jwks = createServer((_req, res) => void (jwksReads++, jwksStatus === 200
    ? res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [keys.publicJwk] }))
    : res.writeHead(jwksStatus, { 'content-type': 'text/plain' }).end('unavailable')));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const lambdaConfig: PlatformConfig = {
    ...config,
    gateway: { ...config.gateway, providers: { openai: { baseUrl: upstreamUrl }, huggingface: { baseUrl: upstreamUrl }, 'openai-compatible': { baseUrl: upstreamUrl } } },
  };
  Object.assign(process.env, {
    TESSERA_PLATFORM_CONFIG: JSON.stringify(lambdaConfig),
    [GATEWAY_ENV.registryTable]: 'tessera-tenants', [GATEWAY_ENV.usageTable]: 'tessera-usage', [GATEWAY_ENV.auditBucket]: 'tessera-audit',
    [GATEWAY_ENV.corsOriginsTable]: 'tessera-cors-origins',
    // The handlers read and write each tenant's items as that tenant: sessions of the tenant-data role from moto's STS.
    [GATEWAY_ENV.tenantDataRole]: 'arn:aws:iam::123456789012:role/tessera-tenant-data',
    // The handlers' CloudWatch metric lines (EMF on stdout) would fill the test output: off, as Powertools' switch turns them off.
    POWERTOOLS_METRICS_DISABLED: 'true',
    [GATEWAY_ENV.jwtIssuer]: DEV_ISSUER, [GATEWAY_ENV.jwtAudience]: DEV_AUDIENCE, [GATEWAY_ENV.jwksUri]: `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`,
  });
  if (options.fineTuning) {
    await new DynamoDBClient({}).send(new CreateTableCommand({
      TableName: 'tessera-fine-tuning-jobs', BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }, { AttributeName: 'jobId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'jobId', KeyType: 'RANGE' }],
    }));
    process.env[FINE_TUNING_ENV.jobsTable] = 'tessera-fine-tuning-jobs';
  }
  const fineTuning = options.fineTuning ? (await import('../../../lambdas/fine-tuning/api-handler.js')).handler : undefined;
  // The tenant-users function runs the router's code (with Cognito grants the emulator has no pool for): the router's handler plays it.
  const apiMethods = INFERENCE_API_METHODS.filter((m) => fineTuning || m.lambda !== 'fineTuning');
  const removeLambdaStreamingGlobal = installLambdaStreamingGlobal();
  const authorizer = (await import('../../../lambdas/inference/authorizer-handler.js')).handler;
  const router = (await import('../../../lambdas/inference/router-handler.js')).handler as unknown as (event: APIGatewayProxyEvent, stream: Writable, context: { getRemainingTimeInMillis(): number }) => Promise<void>;
  let authorizerCalls = 0;
  let edgeRefusal: ((req: { method: string; path: string }) => Exclude<GatewayResponseType, 'DEFAULT_4XX' | 'DEFAULT_5XX'> | undefined) | undefined;
  let routerTimeoutMs = ROUTER_TIMEOUT_MS;
  /** The bytes the router wrote on its response stream for the last request it served, and that request's event. */
  let lastPayload: Buffer[] = [];
  let lastEvent = '';
  /** Router invocations not yet returned (settled() waits for them). */
  const invocations = new Set<Promise<void>>();

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const body = await read(req);
    const url = new URL(req.url ?? '/', 'http://apigw');
    // The path as the client sent it: API Gateway REST routes on it and passes it on with its percent-encoding
    // and dot segments as they are (`/v1/models/%2e%2e/usage` is the model id `../usage`); `url.pathname` resolves them.
    const pathname = (req.url ?? '/').split(/[?#]/)[0];
    // The headers as the Lambdas get them (restHeaders): names in the caller's case, the last value of a repeated one;
    // `lower` is the emulator's own case-insensitive view (the identity source, the Content-Type and Accept it reads).
    const { headers, multiValueHeaders } = restHeaders(req.rawHeaders);
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const methodArn = `arn:aws:execute-api:us-east-1:111111111111:api0000001/prod/${req.method}${pathname}`;
    const requestId = randomUUID();
    const answer = (type: Parameters<typeof renderGatewayResponse>[0], authorizerContext?: Record<string, string>) => {
      const out = renderGatewayResponse(type, requestId, authorizerContext);
      res.writeHead(out.status, out.headers).end(out.body);
    };
    // The deployed API's resources and methods (lib/inference-api-methods.ts, as constructs/inference-api.ts and
    // constructs/fine-tuning.ts build them): the most specific resource that has the verb or ANY takes the request
    // (resolveInferenceMethod); none is MISSING_AUTHENTICATION_TOKEN, before the authorizer. Without options.fineTuning
    // the fine-tuning Lambda's methods are not there: its paths reach /v1/{proxy+}, the router.
    const route = pathname.replace(/^\/prod(?=\/)/, '').replace(/\/+$/, '');
    const resolved = resolveInferenceMethod(apiMethods, req.method ?? '', route);
    if (!resolved) return answer('MISSING_AUTHENTICATION_TOKEN');
    let context: Record<string, string> = {};
    // An OPTIONS method has no authorizer (the preflights); every other method has the JWT authorizer.
    if (resolved.method.verb !== 'OPTIONS') {
      if (!lower.authorization) return answer('UNAUTHORIZED');
      let verdict: Awaited<ReturnType<typeof authorizer>>;
      try {
        authorizerCalls++;
        const event = { type: 'REQUEST', methodArn, headers, multiValueHeaders, httpMethod: req.method, path: pathname, requestContext: { requestId, stage: 'prod' } } as unknown as APIGatewayRequestAuthorizerEvent;
        verdict = await authorizer(event);
      } catch (e) {
        // Any other throw is AUTHORIZER_CONFIGURATION_ERROR in AWS (`x-amzn-ErrorType: AuthorizerConfigurationException`).
        return answer((e as Error).message === 'Unauthorized' ? 'UNAUTHORIZED' : 'AUTHORIZER_CONFIGURATION_ERROR');
      }
      if (verdict.policyDocument.Statement.some((s) => s.Effect === 'Deny')) return answer('ACCESS_DENIED', verdict.context as Record<string, string>);
      context = verdict.context as Record<string, string>;
      const refusal = edgeRefusal?.({ method: req.method ?? '', path: pathname });
      if (refusal) return answer(refusal);
    }
    const binary = isBinaryMediaType(lower['content-type']);
    const query = restQuery(url.search);
    const event = {
      httpMethod: req.method, path: pathname, resource: resolved.method.resource, pathParameters: Object.keys(resolved.pathParameters).length ? resolved.pathParameters : null, headers, multiValueHeaders,
      body: body.length ? body.toString(binary ? 'base64' : 'utf8') : null, isBase64Encoded: binary && body.length > 0,
      queryStringParameters: query.size ? Object.fromEntries(query) : null,
      // Every value of each name, as API Gateway REST sends beside the last one (queryStringParameters).
      multiValueQueryStringParameters: query.size ? [...query].reduce<Record<string, string[]>>((all, [k, v]) => ({ ...all, [k]: [...(all[k] ?? []), v] }), {}) : null,
      requestContext: { authorizer: context, stage: 'prod', requestId },
    } as unknown as APIGatewayProxyEvent;
    // The event as Lambda is invoked with it: past Lambda's request payload limit no handler runs.
    if (Buffer.byteLength(JSON.stringify(event)) > LAMBDA_MAX_REQUEST_BYTES) return answer('REQUEST_TOO_LARGE');
    if (fineTuning && resolved.method.lambda === 'fineTuning') {
      const out = await fineTuning(event);
      // Lambda refuses a synchronous answer over 6 MB (its serialized JSON: AWS Lambda Developer Guide, "Lambda quotas",
      // 6,291,556 bytes; Function.ResponseSizeTooLarge), which API Gateway REST answers as a 502 "Internal server error".
      if (Buffer.byteLength(JSON.stringify(out)) > LAMBDA_MAX_RESPONSE_BYTES) {
        res.writeHead(502, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerErrorException' }).end(JSON.stringify({ message: 'Internal server error' }));
        return;
      }
      // A base64 answer leaves as bytes only when the request's first Accept type is a binary media type; else as the base64 text (as API Gateway does).
      const asBytes = out.isBase64Encoded && isBinaryMediaType(lower.accept);
      res.writeHead(out.statusCode, out.headers as Record<string, string>).end(asBytes ? Buffer.from(out.body, 'base64') : out.body);
      return;
    }
    const payload: Buffer[] = [];
    const stream = apiGatewayStreamReader(res, payload);
    lastPayload = payload;
    res.once('close', () => { if (!res.writableFinished) stream.destroy(); });
    // The Lambda context's remaining time, as the deployed router has it: its 15-minute timeout (constructs/inference-api.ts) from the invocation's start.
    const endsAt = Date.now() + routerTimeoutMs;
    lastEvent = JSON.stringify(event);
    const invocation = router(event, stream, { getRemainingTimeInMillis: () => endsAt - Date.now() }).catch((e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ message: (e as Error).message }));
    });
    invocations.add(invocation);
    await invocation.finally(() => invocations.delete(invocation));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`,
    token: (tenantId: string, claims: { sub?: string; role?: string } = {}) => mintDevToken(keysFile, { tenantId, ...claims }),
    /** How many requests reached the authorizer so far. */
    authorizerCalls: () => authorizerCalls,
    /**
     * Makes API Gateway refuse authorized requests itself, as a usage plan (THROTTLED,
     * QUOTA_EXCEEDED), the WAF or its own limits do: `refuse(request)` names the response type, or
     * undefined to pass the request on. Without an argument, nothing is refused.
     */
    refuseAtEdge: (refuse?: typeof edgeRefusal) => { edgeRefusal = refuse; },
    /** The status the issuer's JWKS endpoint answers (200 serves the key set; anything else, `unavailable`). */
    setJwksStatus: (status: number) => { jwksStatus = status; },
    /** How many times the issuer's JWKS endpoint was read so far (by the authorizer: a read that failed included). */
    jwksReads: () => jwksReads,
    /**
     * Resolves once no router invocation is running: each returned, as the Lambda runtime waits for the handler
     * (its settle and audit done). The test's barrier after a request whose work ends after its answer (a client that left).
     */
    settled: async () => {
      while (invocations.size) await Promise.allSettled([...invocations]);
    },
    /**
     * The last router invocation: its event as the JSON Lambda receives (API Gateway's synchronous invocation takes at
     * most 6 MB of it), and every byte it wrote on its response stream (the JSON prelude, 8 NUL bytes, the body).
     */
    lastInvocation: () => ({ eventBytes: Buffer.byteLength(lastEvent), payload: Buffer.concat(lastPayload) }),
    /** The router Lambda's timeout that its context's remaining time counts down from each invocation's start. @default 15 minutes */
    setRouterTimeout: (ms = ROUTER_TIMEOUT_MS) => { routerTimeoutMs = ms; },
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await new Promise((r) => jwks.close(r));
      await moto.stop();
      removeLambdaStreamingGlobal();
    },
  };
}
