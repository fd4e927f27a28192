// Where the AWS SDK for JavaScript v3 sends a service's calls when the environment or the selected profile of the shared
// files names an endpoint (AWS_ENDPOINT_URL_<SERVICE>, a profile's `services` section or `endpoint_url`): what
// `tessera serve`'s start-up line names instead of AWS.
import { loadSharedFiles } from './aws-profiles.js';

/** Where the AWS SDK sends a service's calls instead of AWS's own endpoint, and what set it. */
export interface ConfiguredEndpoint {
  url: string;
  /** `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, or the profile's setting and its file (`endpoint_url of profile ops in ~/.aws/config`). */
  source: string;
}

/**
 * The endpoint the AWS SDK for JavaScript v3 calls for `serviceId` instead of AWS's, as its endpoint middleware resolves
 * it (@smithy/core/endpoints getEndpointFromConfig, not exported: its rules, with the SDK's reader of the shared files):
 * - none when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is `true`, or (that variable unset, or neither `true` nor `false`)
 *   the profile's `ignore_configured_endpoint_urls` is `true`;
 * - `AWS_ENDPOINT_URL_<SERVICE ID>` (upper case, spaces as `_`), else `AWS_ENDPOINT_URL`;
 * - the profile's (AWS_PROFILE, else `default`; config file over credentials file) `services` section, its
 *   `<service id>` (lower case, spaces as `_`) `endpoint_url`; a `services` naming no section ends the lookup (the SDK
 *   then calls AWS);
 * - the profile's `endpoint_url`.
 * A client given `endpoint` in code is not this (serve's clients are not).
 * @param serviceId the SDK client's serviceId, e.g. `Bedrock Runtime`, `SageMaker`
 * @returns undefined when the SDK calls AWS's own endpoint
 */
export async function configuredEndpoint(serviceId: string, env: NodeJS.ProcessEnv = process.env): Promise<ConfiguredEndpoint | undefined> {
  const { paths, configFile, credentialsFile } = await loadSharedFiles(env);
  const name = env.AWS_PROFILE || 'default';
  const profile: Record<string, string | undefined> = { ...credentialsFile[name], ...configFile[name] };
  const ignore = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
  if (ignore === 'true' || (ignore !== 'false' && profile.ignore_configured_endpoint_urls === 'true')) return undefined;
  const variable = ['AWS_ENDPOINT_URL', ...serviceId.split(' ').map((w) => w.toUpperCase())].join('_');
  for (const v of [variable, 'AWS_ENDPOINT_URL']) if (env[v]) return { url: env[v]!, source: v };
  const where = `profile ${name} in ${paths.configFile}`;
  if (profile.services) {
    const key = `${serviceId.split(' ').map((w) => w.toLowerCase()).join('_')}.endpoint_url`;
    const url = configFile[`services.${profile.services}`]?.[key];
    if (url) return { url, source: `services ${profile.services} ${key.replace('.', ' ')} of ${where}` };
    if (!configFile[`services.${profile.services}`]) return undefined;
  }
  return profile.endpoint_url ? { url: profile.endpoint_url, source: `endpoint_url of ${where}` } : undefined;
}
