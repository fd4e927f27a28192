/**
 * The endpoint the AWS SDK sends a service's calls to instead of AWS's own, from the environment as
 * the SDK reads it (@smithy/core getEndpointUrlConfig): `AWS_ENDPOINT_URL_<SERVICE ID>` (the
 * client's serviceId upper-cased, spaces as `_`: `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`), else
 * `AWS_ENDPOINT_URL`; neither when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is `true`. A moto server
 * in the documentation's local recipes. Not read: a profile's `endpoint_url` in ~/.aws/config (no Lambda has one;
 * `tessera serve`'s start-up line reads it: lib/cli/configured-endpoint.ts configuredEndpoint).
 * @param serviceId the SDK client's serviceId, e.g. `Bedrock Runtime`, `SageMaker Runtime`
 * @returns the URL and the variable it came from, or `undefined` (the calls go to AWS)
 */
export function endpointOverride(serviceId: string, env: NodeJS.ProcessEnv = process.env): { url: string; variable: string } | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.trim().toLowerCase() === 'true') return undefined;
  const own = ['AWS_ENDPOINT_URL', ...serviceId.split(' ').map((w) => w.toUpperCase())].join('_');
  for (const variable of [own, 'AWS_ENDPOINT_URL']) {
    const url = env[variable];
    if (url) return { url, variable };
  }
  return undefined;
}

/** The host (and port) of an endpoint URL, or the value as given when it is not a URL. */
export function endpointHost(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}
