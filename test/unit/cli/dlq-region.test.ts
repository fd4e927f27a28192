import { describe, expect, it } from 'vitest';
import { CliError } from '../../../lib/cli/cli-error.js';
import { call } from '../../../lib/cli/dlq/queues.js';

describe('tessera dlq without a region', () => {
  it('is a usage error (exit 2) that says where a region comes from; other AWS failures stay exit 1', async () => {
    const missing = await call('sqs:ListQueues (prefix tessera-dlq-)', () => Promise.reject(new Error('Region is missing'))).catch((e: CliError) => e);
    expect(missing).toBeInstanceOf(CliError);
    expect(missing).toMatchObject({ exitCode: 2, message: expect.stringMatching(/no AWS region: give --region .* AWS_REGION/) });
    const denied = await call('sqs:ListQueues', () => Promise.reject(Object.assign(new Error('not allowed'), { name: 'AccessDenied' }))).catch((e: CliError) => e);
    expect(denied).toMatchObject({ exitCode: 1 });
  });
});
