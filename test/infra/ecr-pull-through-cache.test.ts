import { describe, expect, it } from 'vitest';
import { defaultAppTemplates } from '../support/default-app.js';
import { ecrResourceProblems } from '../support/ecr-rules.js';

type Resource = { Type: string; Properties?: Record<string, any> };

/** The Cluster Autoscaler's image caches (constructs/cluster-autoscaler.ts), as ECR's CreatePullThroughCacheRule would take them. */
describe('ECR pull through cache rules', () => {
  it.each<[string, Resource, RegExp]>([
    ['a prefix of one character', { Type: 'AWS::ECR::PullThroughCacheRule', Properties: { EcrRepositoryPrefix: 'k', UpstreamRegistry: 'k8s', UpstreamRegistryUrl: 'registry.k8s.io' } }, /must be 2-30 characters/],
    ['an upper-case prefix', { Type: 'AWS::ECR::PullThroughCacheRule', Properties: { EcrRepositoryPrefix: 'Registry-K8s', UpstreamRegistry: 'k8s', UpstreamRegistryUrl: 'registry.k8s.io' } }, /must be 2-30 characters of a repository name/],
    ['the URL of another registry', { Type: 'AWS::ECR::PullThroughCacheRule', Properties: { EcrRepositoryPrefix: 'k8s', UpstreamRegistry: 'k8s', UpstreamRegistryUrl: 'k8s.gcr.io' } }, /"k8s\.gcr\.io" is not the URL of upstream registry k8s/],
    ['Docker Hub without credentials', { Type: 'AWS::ECR::PullThroughCacheRule', Properties: { EcrRepositoryPrefix: 'hub', UpstreamRegistry: 'docker-hub', UpstreamRegistryUrl: 'registry-1.docker.io' } }, /needs credentials/],
    ['credentials for registry.k8s.io', { Type: 'AWS::ECR::PullThroughCacheRule', Properties: { EcrRepositoryPrefix: 'k8s', UpstreamRegistry: 'k8s', UpstreamRegistryUrl: 'registry.k8s.io', CredentialArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:ecr-pullthroughcache/x' } }, /takes no credentials/],
  ])('refuses %s', (_what, resource, message) => {
    expect(ecrResourceProblems('R', resource).join('\n')).toMatch(message);
  });

  it('the blueprints\' and the platform\'s rules are ones ECR takes (registry.k8s.io, no credentials)', () => {
    const app = defaultAppTemplates();
    const templates: Array<[string, Record<string, Resource>]> = [
      ['TesseraPlatform/ClusterAutoscaler', (app.clusterAutoscaler?.toJSON().Resources ?? {}) as Record<string, Resource>],
      ...Object.entries(app.blueprints).map(([tier, t]) => [tier, t.toJSON().Resources] as [string, Record<string, Resource>]),
    ];
    const rules = templates.flatMap(([name, resources]) => Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ECR::PullThroughCacheRule').map(([id, r]) => [name, id, r] as const));
    expect(rules.map(([name]) => name).sort()).toEqual(['TesseraPlatform/ClusterAutoscaler', 'enterprise']);
    expect(rules.flatMap(([name, id, r]) => ecrResourceProblems(`${name} ${id}`, r))).toEqual([]);
  });
});
