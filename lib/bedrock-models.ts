/**
 * Bedrock model ids of the gateway catalog (`gateway.models[*].upstream` of its `bedrock/` models),
 * read as the foundation models they run on. No aws-cdk-lib and no SDK here: the doctor and the
 * constructs both use it.
 */

/**
 * Geographic prefixes of Bedrock cross-region inference profiles (`us.`, `eu.`, `apac.`, ...):
 * a profile id is `<geo>.<foundation model id>`; model access is granted on the foundation model.
 * Source: Bedrock user guide, "Supported Regions and models for inference profiles".
 */
const INFERENCE_PROFILE_PREFIX = /^(us|us-gov|eu|apac|jp|au|ca|global)\.(?=[a-z0-9-]+\.)/;

/** The foundation model id of an `upstream` (an inference profile's prefix removed) and the prefix removed. */
export function foundationModelId(upstream: string): { modelId: string; profilePrefix?: string } {
  const m = INFERENCE_PROFILE_PREFIX.exec(upstream);
  return m ? { modelId: upstream.slice(m[0].length), profilePrefix: m[1] } : { modelId: upstream };
}

/**
 * The foundation-model ARNs the catalog's `bedrock/` models run on, for `bedrock:InvokeModel` (which
 * IAM authorizes on the foundation model also when the call names an inference profile; Bedrock user
 * guide, "Prerequisites for inference profiles"). Per `upstream`:
 * - a model id (`amazon.nova-lite-v1:0`): that foundation model in `region`;
 * - a cross-region profile id (`us.anthropic…`) or system inference-profile ARN: its foundation
 *   model in every Region (`bedrock:*::foundation-model/<id>`): Bedrock routes the call to one of
 *   the profile's destination Regions and IAM authorizes it on the foundation model there (Bedrock
 *   user guide, "Prerequisites for inference profiles"; the destinations are the profile's, listed in
 *   "Supported Regions and models for inference profiles", and change as AWS adds Regions);
 * - a foundation-model ARN: itself;
 * - any other ARN (an application inference profile, whose model the ARN does not say):
 *   `foundation-model/*` of `region`, as before this list existed.
 *
 * A model with deployments (`gateway.models[].deployments`) is called at its deployments only, each in its `region`
 * with its `upstream` (@default the entry's): the ARNs are the deployments', a model id's in the deployment's region
 * (so the grant reaches the deployments' regions and no other).
 *
 * @param models the gateway catalog (`config.gateway.models`); other providers' models are skipped
 * @param partition the partition (`stack.partition`, a token is fine)
 * @param region the gateway's region (`stack.region`, a token is fine)
 * @returns the ARNs, sorted, each once; empty when the catalog has no `bedrock/` model
 */
export function catalogFoundationModelArns(models: ReadonlyArray<CatalogBedrockEntry>, partition: string, region: string): string[] {
  const foundationModel = (r: string, id: string) => `arn:${partition}:bedrock:${r}::foundation-model/${id}`;
  const arns = bedrockCalls(models, region).map(({ upstream, region: at }) => {
    // A cross-region profile's model in any of its destination Regions (a system profile id always has a geographic prefix).
    const anyRegionOf = (id: { modelId: string; profilePrefix?: string }) => foundationModel(id.profilePrefix ? '*' : at, id.modelId);
    const arn = /^arn:[a-z-]+:bedrock:([a-z0-9-]*):[0-9]*:(foundation-model|inference-profile)\/(.+)$/.exec(upstream);
    if (arn) return arn[2] === 'foundation-model' ? foundationModel(arn[1], arn[3]) : anyRegionOf(foundationModelId(arn[3]));
    if (upstream.startsWith('arn:')) return foundationModel(at, '*');
    const id = foundationModelId(upstream);
    return id.profilePrefix ? anyRegionOf(id) : foundationModel(at, id.modelId);
  });
  return [...new Set(arns)].sort();
}

/** A catalog entry as the Bedrock grants read it: its id, upstream and deployments (lib/config/schema.ts ModelEntrySchema). */
export interface CatalogBedrockEntry {
  id: string;
  upstream: string;
  deployments?: ReadonlyArray<{ region?: string; upstream?: string }>;
}

/** Each Bedrock call the catalog's `bedrock/` models make: the model id (or profile) called and the region called in. */
function bedrockCalls(models: ReadonlyArray<CatalogBedrockEntry>, home: string): Array<{ upstream: string; region: string }> {
  return models.filter((m) => m.id.startsWith('bedrock/')).flatMap((m) => m.deployments?.length
    ? m.deployments.map((d) => ({ upstream: d.upstream ?? m.upstream, region: d.region ?? home }))
    : [{ upstream: m.upstream, region: home }]);
}

/**
 * The regions other than the home region where the catalog's Bedrock deployments call a cross-region inference profile
 * (`eu.…` in eu-west-1): the router's `inference-profile/*` grant must name the profile in the region it is called in
 * (IAM authorizes the call on the profile there as well as on its foundation model; Bedrock user guide, "Prerequisites
 * for inference profiles").
 * @param home the gateway's region (`config.homeRegion`)
 * @returns the regions, sorted, each once; empty without such a deployment
 */
export function deploymentProfileRegions(models: ReadonlyArray<CatalogBedrockEntry>, home: string): string[] {
  const regions = bedrockCalls(models, home).filter((c) => c.region !== home && foundationModelId(c.upstream).profilePrefix !== undefined).map((c) => c.region);
  return [...new Set(regions)].sort();
}
