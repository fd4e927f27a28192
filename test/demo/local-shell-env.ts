/**
 * The variables `npm run local-platform` prints on its `export` line, for another shell's `tessera` commands and for the
 * AWS CLI and SDKs run there: TESSERA_API_URL (the admin API), AWS_ENDPOINT_URL (the local platform's moto), AWS_REGION
 * and placeholder credentials (the local admin API does not check the signature; moto takes any).
 *
 * Without AWS_ENDPOINT_URL, whatever the user ran next that calls AWS itself (`tessera dlq`, `tessera doctor`, the SQS
 * part of `tessera platform health`, `aws …`) went to real AWS with the placeholder keys. AWS_ENDPOINT_URL is read by the
 * AWS SDK for JavaScript v3 (@smithy/core getEndpointUrlConfig), the AWS CLI v2 (since 2.13.0) and the other SDKs
 * ("Service-specific endpoints", AWS SDKs and Tools Reference Guide); a service's own `AWS_ENDPOINT_URL_<SERVICE>`
 * (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`) comes first, so each one set where the platform was started
 * is emptied on the line (an empty value counts as unset to both). `AWS_PROFILE` is emptied: the SDK prefers a profile to
 * the keys, and the deploy guide's shells export one. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is left alone: the SDK refuses
 * an empty value (it takes only `true` or `false`).
 * @param env the environment the platform was started in, read for `AWS_ENDPOINT_URL_<SERVICE>` @default process.env
 * @returns the variables in the order printed
 */
export function localShellEnv(where: { apiUrl: string; motoEndpoint: string; region: string }, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    TESSERA_API_URL: where.apiUrl,
    AWS_ENDPOINT_URL: where.motoEndpoint,
    ...Object.fromEntries(serviceEndpointVariables(env).map((k) => [k, ''])),
    AWS_REGION: where.region,
    AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_SESSION_TOKEN: '', AWS_PROFILE: '',
  };
}

/** The `AWS_ENDPOINT_URL_<SERVICE>` variables set (not empty) in `env`, sorted: each overrides AWS_ENDPOINT_URL for its service. */
export function serviceEndpointVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter((k) => k.startsWith('AWS_ENDPOINT_URL_') && env[k]).sort();
}
