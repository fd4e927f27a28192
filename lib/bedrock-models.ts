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
 * @param models the gateway catalog (`config.gateway.models`); other providers' models are skipped
 * @param partition the partition (`stack.partition`, a token is fine)
 * @param region the gateway's region (`stack.region`, a token is fine)
 * @returns the ARNs, sorted, each once; empty when the catalog has no `bedrock/` model
 */
export function catalogFoundationModelArns(models: ReadonlyArray<{ id: string; upstream: string }>, partition: string, region: string): string[] {
  const foundationModel = (r: string, id: string) => `arn:${partition}:bedrock:${r}::foundation-model/${id}`;
  // A cross-region profile's model in any of its destination Regions (a system profile id always has a geographic prefix).
  const anyRegionOf = (id: { modelId: string; profilePrefix?: string }) => foundationModel(id.profilePrefix ? '*' : region, id.modelId);
  const arns = models.filter((m) => m.id.startsWith('bedrock/')).map((m) => {
    const arn = /^arn:[a-z-]+:bedrock:([a-z0-9-]*):[0-9]*:(foundation-model|inference-profile)\/(.+)$/.exec(m.upstream);
    if (arn) return arn[2] === 'foundation-model' ? foundationModel(arn[1], arn[3]) : anyRegionOf(foundationModelId(arn[3]));
    if (m.upstream.startsWith('arn:')) return foundationModel(region, '*');
    const id = foundationModelId(m.upstream);
    return id.profilePrefix ? anyRegionOf(id) : foundationModel(region, id.modelId);
  });
  return [...new Set(arns)].sort();
}
