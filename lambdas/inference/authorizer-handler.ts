import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { Authorizer } from './auth.js';
import { authorizerDenyContext } from './gateway-responses.js';
import { GatewayError } from './openai-errors.js';
import { lambdaAuthorizer } from './lambda-deps.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/**
 * The API Gateway REQUEST authorizer: verifies the bearer JWT or tenant API key (`tsk_…`; a key
 * whose prefix names no registered tenant is refused before any tenant-scoped read, so it costs
 * no STS AssumeRole: lambda-deps.ts lambdaAuthorizer `checkTenantExists`) and the tenant's status (auth.ts Authorizer); its answer is cached by API Gateway per Authorization
 * header for the authorizer's TTL (at most 60 s, the documented revocation delay). principalId is
 * `<tenant>/<user sub or key id>`; the context carries tenantId, userId, role and, for a key,
 * keyId. A bad token or key is 401 ("Unauthorized"; the reason, with API Gateway's request id,
 * goes to the function's log), a known caller of a tenant not served or
 * with a role claim naming no role is 403 (an explicit Deny whose context carries the refusal's
 * `reason` and `message` for the ACCESS_DENIED gateway response, gateway-responses.ts). A check
 * that could not be made (the JWKS or DynamoDB unreachable) throws another error, which API
 * Gateway answers 500 (AUTHORIZER_CONFIGURATION_ERROR, `x-amzn-ErrorType: AuthorizerConfigurationException`;
 * the same body as AUTHORIZER_FAILURE): the SDKs retry it, where a 401 would tell the caller
 * its valid credential is bad. The role check per route is the router's (gateway.ts), which sees
 * the method and path.
 */
export const handler = async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  const header = authorizationOf(event.headers);
  let authorizer: Authorizer | undefined;
  try {
    authorizer = await lambdaAuthorizer({ checkTenantExists: true });
    const caller = await authorizer.authorize(header);
    return {
      principalId: `${caller.tenantId}/${caller.userId}`,
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: apiMethods(event.methodArn) }] },
      context: { tenantId: caller.tenantId, userId: caller.userId, role: caller.role, ...(caller.keyId ? { keyId: caller.keyId } : {}) },
      // The tenant's key in its tier's usage plan (API key source AUTHORIZER): the tier's edge limits.
      usageIdentifierKey: caller.tenant.usageKey?.value,
    };
  } catch (e) {
    // API Gateway's answer cannot carry a 401's reason: the log line, found by API Gateway's request id (in the answer's message), does.
    if (e instanceof GatewayError && (e.status === 401 || e.status === 403)) {
      logger.info('credentials refused', { requestId: event.requestContext?.requestId, status: e.status, code: e.code, reason: e.message, ...e.audit });
    }
    if (e instanceof GatewayError && e.status === 403) {
      // The refusal is the caller's, whatever the method: the Deny covers the API's methods as the Allow does, so a
      // cached Deny answers another method with the same ACCESS_DENIED and context.
      return { principalId: 'refused', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: apiMethods(event.methodArn) }] }, context: authorizerDenyContext(e) };
    }
    if (e instanceof GatewayError && e.status === 401) throw new Error('Unauthorized');
    logger.error('authorizer could not check the credentials', { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    throw new Error('AuthorizerFailure: the credentials could not be checked', { cause: e });
  } finally {
    // A key's lastUsedAt write, done before the answer: a frozen environment would hold it.
    await authorizer?.settled();
  }
};

// Every `/v1` method of every stage of the API of `methodArn` (`arn:…:<api>/<stage>/<verb>/v1/…` becomes
// `arn:…:<api>/*/*/v1/*`): API Gateway caches the authorizer's answer per Authorization header and reuses
// it for any method, so the policy names them all.

function apiMethods(methodArn: string): string {
  return methodArn.replace(/\/[^/]+\/[^/]+\/.*$/, '/*/*/v1/*');
}

/**
 * The request's Authorization header, whatever the case of its name. API Gateway REST hands the authorizer (and the
 * proxy integration) each header under its name as the client sent it, and matches the identity source
 * `method.request.header.Authorization` without regard to case (HTTP field names are case-insensitive, RFC 9110 §5.1):
 * a client's `AUTHORIZATION: Bearer …` reached the authorizer, which read only `authorization` and `Authorization`
 * and answered it 401. A name sent in two cases (two lines): the last key read, as `headers` keeps the last line.
 * @returns the header's value @default - undefined when there is none
 */
export function authorizationOf(headers: Readonly<Record<string, string | undefined>> | null | undefined): string | undefined {
  let value: string | undefined;
  for (const [name, v] of Object.entries(headers ?? {})) if (name.toLowerCase() === 'authorization' && v !== undefined) value = v;
  return value;
}
