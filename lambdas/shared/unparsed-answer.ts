import { calledEndpointOf, type CalledEndpoint } from './called-endpoint.js';
import { endpointHost, endpointOverride } from './endpoint-override.js';

/**
 * An answer the AWS SDK could not parse as the service's: its `SyntaxError` (a JSON protocol) or its
 * XML parser's error (`@aws-sdk XML parse error`, the query protocols: CloudFormation, STS), with
 * "Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this
 * object" appended to the message. An HTML page, a proxy's error, an emulator such as moto without the
 * call. The SDK's hint means nothing to whoever reads a recorded reason or an API error: they are told
 * the endpoint and the HTTP status instead (notServiceAnswer), the SDK's message goes to the log.
 */
export interface UnparsedAnswer {
  /** The HTTP status of the answer: the SDK's `$metadata.httpStatusCode`, else its `$response.statusCode`. */
  status?: number;
  /** The SDK's error name (`SyntaxError`, `Error`). */
  error: string;
  /** The SDK's whole message (the parser's words and its `$response` hint): for the log. */
  detail: string;
  /** Where the request went, when the client records it (called-endpoint.ts recordCalledEndpoint). */
  called?: CalledEndpoint;
}

/** `e` as an UnparsedAnswer, or undefined when it is any other error (the service's own, a network failure…). */
export function unparsedAnswer(e: unknown): UnparsedAnswer | undefined {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } } | undefined;
  const message = typeof err?.message === 'string' ? err.message : '';
  if (!err || (err.name !== 'SyntaxError' && !/Deserialization error/.test(message))) return undefined;
  const status = err.$metadata?.httpStatusCode ?? err.$response?.statusCode;
  const called = calledEndpointOf(e);
  return { ...(status === undefined ? {} : { status }), error: err.name ?? 'Error', detail: message, ...(called ? { called } : {}) };
}

/**
 * `<Service>'s endpoint[ <host>[ (<source>)]] answered[ HTTP <status>] with a body that is not a <Service> answer (<why>)`,
 * `why` the likely cause: `an emulator without this call, such as moto, or a proxy` for an endpoint configured for the
 * SDK; for AWS's own endpoint, whose answer only a proxy between `caller` and AWS can have replaced, `a proxy between
 * <caller> and AWS?`.
 *
 * The host is the one the SDK called when the answer says it (`answer.called`: recordCalledEndpoint; whatever configured
 * it: AWS_ENDPOINT_URL..., or a profile's `endpoint_url` / `services` section under `tessera serve --profile`), with
 * AWS's own host named too; the source is the variable when the environment's (endpointOverride) names that host, else
 * `configured for the SDK: a profile's endpoint_url or services section`. Without `answer.called` (a client that does not
 * record it), the environment's override as the SDK reads it, and no host for AWS's own endpoint.
 * @param service the service as a reader knows it, e.g. `Bedrock`, `CloudFormation`
 * @param serviceId the SDK client's serviceId, e.g. `Bedrock Runtime`, `CloudFormation`
 * @param caller who made the call, as the sentence names it, e.g. `the gateway`, `the platform`
 */
export function notServiceAnswer(service: string, serviceId: string, answer: UnparsedAnswer, caller: string, env: NodeJS.ProcessEnv = process.env): string {
  const { endpoint, configured } = serviceEndpointNamed(service, serviceId, answer.called, env);
  const why = configured ? 'an emulator without this call, such as moto, or a proxy' : `a proxy between ${caller} and AWS?`;
  return `${endpoint} answered${answer.status === undefined ? '' : ` HTTP ${answer.status}`} with a body that is not a ${service} answer (${why})`;
}

/**
 * `<Service>'s endpoint[ <host>[ (<source>)]]`: the endpoint a failed call went to, as a message names it (an answer that
 * is not the service's: notServiceAnswer; an endpoint that could not be reached), and whether it was configured for the
 * SDK rather than AWS's own.
 *
 * With `called` (recordCalledEndpoint: the host the SDK called, whatever configured it) its host, and the source when
 * configured: the variable when the environment's override (endpointOverride) names that host, else `configured for the
 * SDK: a profile's endpoint_url or services section` (`tessera serve --profile`); AWS's own host has no source. Without
 * `called` (a client that does not record it, or no request sent), the environment's override as the SDK reads it, and
 * no host for AWS's own endpoint.
 * @param service the service as a reader knows it, e.g. `Bedrock`
 * @param serviceId the SDK client's serviceId, e.g. `Bedrock Runtime`
 * @param called where the SDK sent the call (calledEndpointOf), if known
 */
export function serviceEndpointNamed(service: string, serviceId: string, called: CalledEndpoint | undefined, env: NodeJS.ProcessEnv = process.env): { endpoint: string; configured: boolean } {
  const override = endpointOverride(serviceId, env);
  if (called) {
    const host = endpointHost(called.url);
    const source = !called.configured ? '' : override && endpointHost(override.url) === host ? override.variable : 'configured for the SDK: a profile\'s endpoint_url or services section';
    return { endpoint: `${service}'s endpoint ${host}${source ? ` (${source})` : ''}`, configured: called.configured };
  }
  return { endpoint: override ? `${service}'s endpoint ${endpointHost(override.url)} (${override.variable})` : `${service}'s endpoint`, configured: override !== undefined };
}
