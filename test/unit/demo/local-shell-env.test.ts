import { describe, expect, it } from 'vitest';
import { localShellEnv, serviceEndpointVariables, shellLine } from '../../demo/local-shell-env.js';

/**
 * The local platform's export line lacked AWS_ENDPOINT_URL: the AWS CLI and SDKs run in the shell it was pasted into
 * (`aws …`, `tessera dlq`, `tessera doctor`) went to real AWS with its placeholder keys, not to its moto. And its
 * `AWS_PROFILE=` (emptied) made the AWS CLI refuse every command: `The config profile () could not be found`.
 */
const where = { apiUrl: 'http://127.0.0.1:8790/v1', motoEndpoint: 'http://127.0.0.1:5001', region: 'us-west-2' };

describe('the local platform\'s shell line', () => {
  it('sends the AWS CLI and SDKs to moto (AWS_ENDPOINT_URL), with the admin API, the region for the SDKs and both CLIs, placeholder keys; the profile and a session token unset, not emptied', () => {
    const env = localShellEnv(where, {});
    expect(env).toEqual({
      unset: ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN'],
      set: { TESSERA_API_URL: 'http://127.0.0.1:8790/v1', AWS_ENDPOINT_URL: 'http://127.0.0.1:5001', AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'us-west-2', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
    });
    expect(shellLine(env)).toBe('unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN; export TESSERA_API_URL=http://127.0.0.1:8790/v1 AWS_ENDPOINT_URL=http://127.0.0.1:5001 AWS_REGION=us-west-2 AWS_DEFAULT_REGION=us-west-2 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local');
    // no variable is left empty (the AWS CLI refuses an empty AWS_PROFILE)
    expect(Object.values(env.set).filter((v) => v === '')).toEqual([]);
  });

  it('unsets each service\'s AWS_ENDPOINT_URL_<SERVICE> set where the platform started (it comes before AWS_ENDPOINT_URL), leaving empty ones and other variables alone', () => {
    const env = { AWS_ENDPOINT_URL_SQS: 'http://localstack:4566', AWS_ENDPOINT_URL_S3: 'http://minio:9000', AWS_ENDPOINT_URL_STS: '', AWS_ENDPOINT_URLS: 'x', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' };
    expect(serviceEndpointVariables(env)).toEqual(['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS']);
    expect(localShellEnv(where, env).unset).toEqual(['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS']);
  });
});
