import { isThrottlingError, isTransientError } from '@smithy/service-error-classification';
import { describe, expect, it } from 'vitest';
import { RETRYABLE_ERRORS, TERMINAL_ERRORS } from '../../../lambdas/shared/errors.js';

/** Every AWS client the lifecycle and admin Lambdas call (grep '@aws-sdk/client-' lambdas/lifecycle lambdas/shared lambdas/admin; Cognito's: Invite tenant admin, Revoke tenant identities). */
const CLIENTS = ['api-gateway', 'backup', 'cloudformation', 'cloudwatch-logs', 'cognito-identity-provider', 'dynamodb', 'ec2', 'eks', 'elasticache', 'eventbridge', 'iam', 'kms', 'organizations', 'rds', 's3', 'service-quotas', 'sfn', 'sts'];

/** The modeled errors of a client that the SDK treats as throttling or transient, that are server faults (5xx), or that carry the retryable trait. */
async function retryableErrorsOf(client: string): Promise<string[]> {
  const mod = (await import(`@aws-sdk/client-${client}`)) as Record<string, unknown>;
  const base = Object.entries(mod).find(([k]) => k.endsWith('ServiceException') && !k.startsWith('__'))?.[1] as (new (...a: never[]) => Error) | undefined;
  expect(base, `@aws-sdk/client-${client} exports its ServiceException base`).toBeDefined();
  const names: string[] = [];
  for (const value of Object.values(mod)) {
    if (typeof value !== 'function' || !(value.prototype instanceof base!)) continue;
    const error = new (value as new (o: unknown) => Error & { $fault?: 'client' | 'server'; $retryable?: { throttling?: boolean } })({ $metadata: {}, message: 'probe' });
    if (isThrottlingError(error) || isTransientError(error) || error.$retryable || error.$fault === 'server') names.push(error.name);
  }
  return names;
}

describe('retry lists by kind', () => {
  it.each(CLIENTS)('every throttling and transient error @aws-sdk/client-%s models is retried', async (client) => {
    const missing = (await retryableErrorsOf(client)).filter((n) => !(RETRYABLE_ERRORS as readonly string[]).includes(n));
    expect(missing).toEqual([]);
  });

  it('includes the codes of the query and XML protocols that no client models as a class', () => {
    expect(RETRYABLE_ERRORS).toEqual(expect.arrayContaining(['Throttling', 'RequestLimitExceeded', 'SlowDown', 'InternalError', 'ServiceUnavailable', 'InternalFailure']));
  });

  it('includes contention: Organizations, DynamoDB transactions, the registry', () => {
    expect(RETRYABLE_ERRORS).toEqual(expect.arrayContaining(['ConcurrentModificationException', 'TransactionConflictException', 'RegistryContention']));
  });

  it('never retries a terminal error', () => {
    expect(RETRYABLE_ERRORS.filter((n) => (TERMINAL_ERRORS as readonly string[]).includes(n))).toEqual([]);
  });

  it('the probe sees what the SDK classifies (negative control: a client error is not retryable)', async () => {
    const dynamodb = await retryableErrorsOf('dynamodb');
    expect(dynamodb).toEqual(expect.arrayContaining(['ProvisionedThroughputExceededException', 'InternalServerError']));
    expect(dynamodb).not.toContain('ConditionalCheckFailedException');
  });
});
