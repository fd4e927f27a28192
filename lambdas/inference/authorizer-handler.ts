import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { GatewayError } from './openai-errors.js';
import { lambdaAuthorizer } from './lambda-deps.js';

/**
 * The API Gateway REQUEST authorizer: verifies the bearer JWT and the tenant's status; its answer
 * (tenant, user, role in the context) is cached by API Gateway per token. A bad token is 401
 * ("Unauthorized"), a known token of a tenant not served is 403 (an explicit Deny).
 */
export const handler = async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  try {
    const caller = await (await lambdaAuthorizer()).authorize(header);
    return {
      principalId: `${caller.tenantId}/${caller.userId}`,
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn.replace(/\/[^/]+\/[^/]+\/.*$/, '/*/*/v1/*') }] },
      context: { tenantId: caller.tenantId, userId: caller.userId, role: caller.role },
      // The tenant's key in its tier's usage plan (API key source AUTHORIZER): the tier's edge limits.
      usageIdentifierKey: caller.tenant.usageKey?.value,
    };
  } catch (e) {
    if (e instanceof GatewayError && e.status === 403) {
      return { principalId: 'refused', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: event.methodArn }] }, context: { reason: e.code } };
    }
    throw new Error('Unauthorized');
  }
};
