/**
 * The shell line `npm run local-platform` prints, for another shell's `tessera` commands and for the AWS CLI and SDKs run
 * there: `unset` of the variables that would take the calls elsewhere, then `export` of TESSERA_API_URL (the admin API),
 * AWS_ENDPOINT_URL (the local platform's moto), the region and placeholder credentials (the local admin API does not
 * check the signature; moto takes any).
 *
 * - AWS_ENDPOINT_URL: without it, whatever the user ran next that calls AWS itself (`tessera dlq`, `tessera doctor`, the
 *   SQS part of `tessera platform health`, `aws …`) went to real AWS with the placeholder keys. It is read by the AWS SDK
 *   for JavaScript v3 (@smithy/core getEndpointUrlConfig), the AWS CLI (v2 from 2.13.0, v1 from 1.29.0) and the other
 *   SDKs ("Service-specific endpoints", AWS SDKs and Tools Reference Guide). A service's own `AWS_ENDPOINT_URL_<SERVICE>`
 *   (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`) comes first: each one set where the platform was started
 *   is unset.
 * - AWS_REGION (the SDKs, the AWS CLI v2) and AWS_DEFAULT_REGION (the AWS CLI v1 reads only this one): the same region.
 * - AWS_PROFILE and AWS_DEFAULT_PROFILE unset, not emptied: the SDK prefers a profile to the keys (the deploy guide's
 *   shells export `AWS_PROFILE=platform-admin`), and the AWS CLI refuses an empty one (`The config profile () could not
 *   be found`), which the line printed before. AWS_SESSION_TOKEN unset: a session's token would go with the placeholder keys.
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is left alone (`true` would make the SDKs and the CLI skip AWS_ENDPOINT_URL; it is
 * rarely set).
 * @param env the environment the platform was started in, read for `AWS_ENDPOINT_URL_<SERVICE>` @default process.env
 * @returns `unset`, the names to unset, and `set`, the variables to export, each in the order printed
 */
export function localShellEnv(where: { apiUrl: string; motoEndpoint: string; region: string }, env: NodeJS.ProcessEnv = process.env): { unset: string[]; set: Record<string, string> } {
  return {
    unset: ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN', ...serviceEndpointVariables(env)],
    set: {
      TESSERA_API_URL: where.apiUrl,
      AWS_ENDPOINT_URL: where.motoEndpoint,
      AWS_REGION: where.region, AWS_DEFAULT_REGION: where.region,
      AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local',
    },
  };
}

/** The line itself: `unset <names>; export <name>=<value> …` (the values are URLs, a region and `local`: nothing to quote). */
export function shellLine(env: { unset: readonly string[]; set: Readonly<Record<string, string>> }): string {
  return `unset ${env.unset.join(' ')}; export ${Object.entries(env.set).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

/** The `AWS_ENDPOINT_URL_<SERVICE>` variables set (not empty) in `env`, sorted: each overrides AWS_ENDPOINT_URL for its service. */
export function serviceEndpointVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter((k) => k.startsWith('AWS_ENDPOINT_URL_') && env[k]).sort();
}
