import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { Authorizer } from './auth.js';
import { GatewayError } from './openai-errors.js';
import { lambdaAuthorizer } from './lambda-deps.js';

/**
 * The API Gateway REQUEST authorizer: verifies the bearer JWT or tenant API key (`tsk_…`) and the
 * tenant's status (auth.ts Authorizer); its answer is cached by API Gateway per Authorization
 * header for the authorizer's TTL (at most 60 s, the documented revocation delay). principalId is
 * `<tenant>/<user sub or key id>`; the context carries tenantId, userId, role and, for a key,
 * keyId. A bad token or key is 401 ("Unauthorized"), a known caller of a tenant not served or
 * with a role claim naming no role is 403 (an explicit Deny). The role check per route is the
 * router's (gateway.ts), which sees the method and path.
 */
export const handler = async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  let authorizer: Authorizer | undefined;
  try {
    authorizer = await lambdaAuthorizer();
    const caller = await authorizer.authorize(header);
    return {
      principalId: `${caller.tenantId}/${caller.userId}`,
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn.replace(/\/[^/]+\/[^/]+\/.*$/, '/*/*/v1/*') }] },
      context: { tenantId: caller.tenantId, userId: caller.userId, role: caller.role, ...(caller.keyId ? { keyId: caller.keyId } : {}) },
      // The tenant's key in its tier's usage plan (API key source AUTHORIZER): the tier's edge limits.
      usageIdentifierKey: caller.tenant.usageKey?.value,
    };
  } catch (e) {
    if (e instanceof GatewayError && e.status === 403) {
      return { principalId: 'refused', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: event.methodArn }] }, context: { reason: e.code } };
    }
    throw new Error('Unauthorized');
  } finally {
    // A key's lastUsedAt write, done before the answer: a frozen environment would hold it.
    await authorizer?.settled();
  }
};
