import type { z } from 'zod';
import { nearest } from './nearest.js';

/**
 * A tier's `models.allowed` against the catalog. The gateway serves a tenant the catalog models whose provider its
 * tier's `models.providers` lists and whose id `models.allowed` names (or all of them with `*`;
 * lambdas/inference/policy.ts resolvePolicy), so an entry that is no catalog id (a typo, `openai/gpt-4o-mni`, or a model
 * a `gateway.models` of the config's own left out) or a catalog id of a provider the tier does not list matches no call:
 * the tier's tenants would get a 404 `model_not_found` for it with nothing said at synth. An issue at
 * `tiers.<tier>.models.allowed.<i>` for each, naming what to write. Aliases are left to
 * `checkTierModelsAreNotAliases` (model-aliases.ts), which names their target.
 * @param tiers the merged config's tiers
 * @param catalogIds `gateway.models[].id`, in catalog order
 * @param aliases `gateway.modelAliases` (entries that are aliases get that check's message, not this one's)
 */
export function checkTierModelsAreInCatalog(tiers: Record<string, { models: { providers: readonly string[]; allowed: readonly string[] } }>, catalogIds: readonly string[], aliases: Record<string, string> | undefined, ctx: z.RefinementCtx): void {
  for (const [name, tier] of Object.entries(tiers)) {
    tier.models.allowed.forEach((id, i) => {
      if (id === '*' || (aliases && Object.prototype.hasOwnProperty.call(aliases, id))) return;
      const path = ['tiers', name, 'models', 'allowed', i];
      if (!catalogIds.includes(id)) {
        const guess = nearest(id, catalogIds);
        // The catalog ids this tier can be given: those of its providers.
        const own = catalogIds.filter((c) => tier.models.providers.includes(c.slice(0, c.indexOf('/'))));
        const listed = own.length <= 8 ? own.join(', ') : `${own.slice(0, 8).join(', ')} and ${own.length - 8} more`;
        const choices = own.length ? `write a catalog id of the tier's providers (${listed}), ` : 'write a catalog id of the tier\'s providers (the catalog has none: add one), ';
        ctx.addIssue({ code: 'custom', path, message: `is not a model of the catalog (gateway.models), so it allows nothing: ${guess ? `did you mean "${guess}"? ` : ''}${choices}"*" for every model of the tier's providers, or add the model to gateway.models` });
        return;
      }
      const provider = id.slice(0, id.indexOf('/'));
      if (!tier.models.providers.includes(provider)) {
        ctx.addIssue({ code: 'custom', path, message: `is a model of provider ${provider}, which tiers.${name}.models.providers (${tier.models.providers.join(', ')}) does not list, so it allows nothing: add ${provider} to the providers or remove the model` });
      }
    });
  }
}
