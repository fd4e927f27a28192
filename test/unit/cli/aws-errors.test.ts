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

// Doctor's lines read "bedrock:GetFoundationModelAvailability failed: SyntaxError: Unexpected token 'T', "The get_fo"...
// is not valid JSON" for moto's HTML 501: the parser's words, neither the endpoint nor the cause.
describe('describeAwsError: an answer that is not the service\'s', () => {
  const parserError = (status: number) => Object.assign(new SyntaxError('Unexpected token \'<\', "<!doctype "... is not valid JSON\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), { $response: { statusCode: status } });

  it('names the endpoint of AWS_ENDPOINT_URL and the HTTP status, and an emulator or a proxy as the cause', () => {
    expect(describeAwsError('bedrock:GetFoundationModelAvailability', parserError(501), undefined)).toMatch(/^bedrock:GetFoundationModelAvailability failed: the endpoint/);
    const saved = process.env.AWS_ENDPOINT_URL;
    try {
      process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:5000';
      expect(describeAwsError('bedrock:GetFoundationModelAvailability', parserError(501))).toBe('bedrock:GetFoundationModelAvailability failed: the endpoint http://127.0.0.1:5000 (AWS_ENDPOINT_URL) answered HTTP 501 with a body that is not the service\'s answer (an emulator without this call, such as moto, or a proxy)');
      delete process.env.AWS_ENDPOINT_URL;
      expect(describeAwsError('ssm:GetParameter', parserError(403))).toBe('ssm:GetParameter failed: the endpoint answered HTTP 403 with a body that is not the service\'s answer (a proxy between this machine and AWS?)');
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = saved;
    }
  });
});
