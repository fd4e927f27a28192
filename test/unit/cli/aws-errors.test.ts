import { describe, expect, it } from 'vitest';
import { describeAwsError } from '../../../lib/cli/aws-errors.js';

const credentialsError = (message: string) => Object.assign(new Error(message), { name: 'CredentialsProviderError' });

describe('describeAwsError: credentials', () => {
  it('names the profile the SDK could not use instead of saying to pass one (new user 26: --profile nosuch read "no credentials: … pass --profile")', () => {
    const line = describeAwsError('sqs:ListQueues', credentialsError('Could not resolve credentials using profile: [nosuch] in configuration/credentials file(s).'));
    expect(line).toBe('sqs:ListQueues failed: CredentialsProviderError: Could not resolve credentials using profile: [nosuch] in configuration/credentials file(s). (profile nosuch has no usable credentials: check its name in ~/.aws/config and ~/.aws/credentials, or run aws sso login --profile nosuch)');
  });

  it('without a profile named, says how to give credentials', () => {
    expect(describeAwsError('sqs:ListQueues', credentialsError('Could not load credentials from any providers'))).toMatch(/\(no credentials: set AWS_PROFILE or pass --profile\)$/);
  });
});
