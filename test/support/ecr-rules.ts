/**
 * What Amazon ECR would refuse in an AWS::ECR::PullThroughCacheRule (CreatePullThroughCacheRule), as
 * `LogicalId (Type): Property: message` strings:
 * - EcrRepositoryPrefix: 2-30 characters of repository-name form (lower-case parts joined by `.`, `_`, `-`, `/`), or `ROOT`;
 * - UpstreamRegistryUrl: the URL of its UpstreamRegistry ("the syntax to use for each supported upstream registry":
 *   ecr-public `public.ecr.aws`, docker-hub `registry-1.docker.io`, quay `quay.io`, k8s `registry.k8s.io`,
 *   github-container-registry `ghcr.io`, gitlab-container-registry `registry.gitlab.com`, azure-container-registry
 *   `<name>.azurecr.io`, ecr `<account>.dkr.ecr.<region>.amazonaws.com`);
 * - CredentialArn: a Secrets Manager secret named `ecr-pullthroughcache/…` for the upstreams that need authentication
 *   (Docker Hub, GitHub, GitLab, Azure), none for the public ones (ECR Public, Quay, registry.k8s.io); an ECR upstream
 *   takes a CustomRoleArn instead.
 * Sources: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreatePullThroughCacheRule.html and the ECR User
 * Guide, "Sync an upstream registry with an Amazon ECR private registry" (upstream registries and their credentials).
 */
const UPSTREAM_URLS: Record<string, RegExp> = {
  'ecr-public': /^public\.ecr\.aws$/,
  'docker-hub': /^registry-1\.docker\.io$/,
  quay: /^quay\.io$/,
  k8s: /^registry\.k8s\.io$/,
  'github-container-registry': /^ghcr\.io$/,
  'gitlab-container-registry': /^registry\.gitlab\.com$/,
  'azure-container-registry': /^[a-z0-9]+\.azurecr\.io$/,
  ecr: /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/,
};
const NEEDS_CREDENTIALS = new Set(['docker-hub', 'github-container-registry', 'gitlab-container-registry', 'azure-container-registry']);
const PREFIX = /^((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*\/?|ROOT)$/;

export function ecrResourceProblems(logicalId: string, resource: { Type: string; Properties?: Record<string, any> }): string[] {
  if (resource.Type !== 'AWS::ECR::PullThroughCacheRule') return [];
  const props = resource.Properties ?? {};
  const at = (prop: string, msg: string) => `${logicalId} (${resource.Type}): ${prop}: ${msg}`;
  const out: string[] = [];
  const prefix = props.EcrRepositoryPrefix;
  if (typeof prefix === 'string' && (prefix.length < 2 || prefix.length > 30 || !PREFIX.test(prefix))) {
    out.push(at('EcrRepositoryPrefix', `"${prefix}" must be 2-30 characters of a repository name (lower-case parts joined by . _ - /) or ROOT`));
  }
  const registry = props.UpstreamRegistry;
  const url = props.UpstreamRegistryUrl;
  if (registry !== undefined && !Object.hasOwn(UPSTREAM_URLS, registry)) out.push(at('UpstreamRegistry', `"${registry}" must be one of ${Object.keys(UPSTREAM_URLS).join(', ')}`));
  else if (registry !== undefined && typeof url === 'string' && !UPSTREAM_URLS[registry].test(url)) out.push(at('UpstreamRegistryUrl', `"${url}" is not the URL of upstream registry ${registry}`));
  if (registry !== undefined && NEEDS_CREDENTIALS.has(registry)) {
    if (props.CredentialArn === undefined) out.push(at('CredentialArn', `upstream registry ${registry} needs credentials (a Secrets Manager secret named ecr-pullthroughcache/…)`));
    else if (typeof props.CredentialArn === 'string' && !/:secret:ecr-pullthroughcache\//.test(props.CredentialArn)) out.push(at('CredentialArn', `"${props.CredentialArn}" must name a secret ecr-pullthroughcache/…`));
  } else if (props.CredentialArn !== undefined) out.push(at('CredentialArn', `upstream registry ${registry} takes no credentials`));
  if (registry === 'ecr' && props.CustomRoleArn === undefined) out.push(at('CustomRoleArn', 'an ECR upstream needs the role ECR assumes to pull from it'));
  return out;
}
