import { describe, expect, it } from 'vitest';
import { notServiceAnswer, unparsedAnswer } from '../../lambdas/shared/unparsed-answer.js';

const hint = '\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.';

describe('unparsedAnswer: the AWS SDK\'s error for an answer it could not parse (Bedrock and the drift check)', () => {
  it('reads the JSON protocols\' SyntaxError and the XML parser\'s error, with the HTTP status of $metadata, else of $response', () => {
    expect(unparsedAnswer(Object.assign(new SyntaxError(`Unexpected token '<'${hint}`), { $metadata: { httpStatusCode: 500 } }))).toEqual({ status: 500, error: 'SyntaxError', detail: `Unexpected token '<'${hint}` });
    expect(unparsedAnswer(Object.assign(new Error(`@aws-sdk XML parse error: unexpected content.${hint}`), { $response: { statusCode: 404 } }))).toMatchObject({ status: 404, error: 'Error' });
    expect(unparsedAnswer(new Error(`@aws-sdk XML parse error${hint}`))).toEqual({ error: 'Error', detail: `@aws-sdk XML parse error${hint}` });
  });

  it('is undefined for the service\'s own errors and anything else', () => {
    expect(unparsedAnswer(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }))).toBeUndefined();
    expect(unparsedAnswer(undefined)).toBeUndefined();
    expect(unparsedAnswer('Deserialization error')).toBeUndefined();
  });

  it('notServiceAnswer names the overriding endpoint\'s host and variable, none for AWS\'s, and leaves out a status it does not have; then the likely cause', () => {
    const answer = { status: 404, error: 'Error', detail: '' };
    expect(notServiceAnswer('CloudFormation', 'CloudFormation', answer, 'the platform', { AWS_ENDPOINT_URL_CLOUDFORMATION: 'http://127.0.0.1:5000/x', AWS_ENDPOINT_URL: 'http://other:1' }))
      .toBe("CloudFormation's endpoint 127.0.0.1:5000 (AWS_ENDPOINT_URL_CLOUDFORMATION) answered HTTP 404 with a body that is not a CloudFormation answer (an emulator without this call, such as moto, or a proxy)");
    expect(notServiceAnswer('CloudFormation', 'CloudFormation', { error: 'Error', detail: '' }, 'the platform', {})).toBe("CloudFormation's endpoint answered with a body that is not a CloudFormation answer (a proxy between the platform and AWS?)");
  });

  // The host the SDK called (called-endpoint.ts) wins over the environment, which knows nothing of a profile's endpoint_url.
  it('notServiceAnswer with the endpoint the SDK called: its host; the variable only when the environment names that host; AWS\'s host named too', () => {
    const answer = (url: string, configured: boolean) => ({ status: 500, error: 'SyntaxError', detail: '', called: { url, configured } });
    const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' };
    expect(notServiceAnswer('Bedrock', 'Bedrock Runtime', answer('http://127.0.0.1:5000', true), 'the gateway', env)).toMatch(/^Bedrock's endpoint 127\.0\.0\.1:5000 \(AWS_ENDPOINT_URL\) answered HTTP 500 /);
    expect(notServiceAnswer('Bedrock', 'Bedrock Runtime', answer('http://localhost:4599', true), 'the gateway', {}))
      .toBe("Bedrock's endpoint localhost:4599 (configured for the SDK: a profile's endpoint_url or services section) answered HTTP 500 with a body that is not a Bedrock answer (an emulator without this call, such as moto, or a proxy)");
    expect(notServiceAnswer('Bedrock', 'Bedrock Runtime', answer('https://bedrock-runtime.us-east-1.amazonaws.com', false), 'the gateway', {}))
      .toBe("Bedrock's endpoint bedrock-runtime.us-east-1.amazonaws.com answered HTTP 500 with a body that is not a Bedrock answer (a proxy between the gateway and AWS?)");
  });
});
