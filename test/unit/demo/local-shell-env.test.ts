import { describe, expect, it } from 'vitest';
import { localShellEnv, serviceEndpointVariables } from '../../demo/local-shell-env.js';

/**
 * The local platform's export line lacked AWS_ENDPOINT_URL: the AWS CLI and SDKs run in the shell it was pasted into
 * (`aws stepfunctions …`, `tessera dlq`, `tessera doctor`) went to real AWS with its placeholder keys, not to its moto.
 */
const where = { apiUrl: 'http://127.0.0.1:8790/v1', motoEndpoint: 'http://127.0.0.1:5001', region: 'us-west-2' };

describe('the local platform\'s export line', () => {
  it('sends the AWS CLI and SDKs to moto (AWS_ENDPOINT_URL), with the admin API, the region and placeholder keys, the profile emptied', () => {
    expect(localShellEnv(where, {})).toEqual({
      TESSERA_API_URL: 'http://127.0.0.1:8790/v1', AWS_ENDPOINT_URL: 'http://127.0.0.1:5001', AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_SESSION_TOKEN: '', AWS_PROFILE: '',
    });
  });

  it('empties each service\'s AWS_ENDPOINT_URL_<SERVICE> set where the platform started (it comes before AWS_ENDPOINT_URL), leaving empty ones and other variables out', () => {
    const env = { AWS_ENDPOINT_URL_SQS: 'http://localstack:4566', AWS_ENDPOINT_URL_S3: 'http://minio:9000', AWS_ENDPOINT_URL_STS: '', AWS_ENDPOINT_URLS: 'x', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' };
    expect(serviceEndpointVariables(env)).toEqual(['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS']);
    const line = localShellEnv(where, env);
    expect(Object.keys(line)).toEqual(['TESSERA_API_URL', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']);
    expect([line.AWS_ENDPOINT_URL_S3, line.AWS_ENDPOINT_URL_SQS]).toEqual(['', '']);
  });
});
