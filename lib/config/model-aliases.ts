import { z } from 'zod';

/**
 * Model aliases (`gateway.modelAliases`): other names for catalog models, so that an application
 * written for LiteLLM (a `model_list` entry's `model_name`) or Portkey (a config's model name)
 * calls the gateway with the bare names it already sends (`gpt-4o-mini`, `claude-sonnet`,
 * `default`) while the catalog keeps its `<provider>/<model>` ids.
 *
 * Platform-wide, not per tier: a name means one model everywhere (an application moved to another
 * tier or tenant never switches model, price or behaviour under the same name), and what a tenant
 * may call stays its tier's `models` (checked on the target). The per-tenant name is the tenant
 * policy's `defaultModel` (`default`), which wins over a platform alias `default`.
 */

/** The rule for an alias's name, spelled out (config errors name it). */
export const MODEL_ALIAS_NAME_RULE = 'an alias is 1-128 characters of letters, digits and . _ - : / @ +, starting with a letter or digit, and not starting with "ft:" (the fine-tuned models\' ids)';

/** An alias's name: the `model` string a caller sends; bounded well below the request schemas' 256 characters. */
export const ModelAliasName = z.string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/, `is not a valid alias: ${MODEL_ALIAS_NAME_RULE}`)
  .refine((name) => !name.startsWith('ft:'), `is not a valid alias: ${MODEL_ALIAS_NAME_RULE}`);

/**
 * The cross-key rules of `gateway.modelAliases` (the platform schema runs them: it knows the
 * catalog), each an issue at `gateway.modelAliases.<alias>`:
 * - an alias must not be a catalog model id (it would shadow that model, or the model it names);
 * - its target must be a catalog model id (`gateway.models[].id`), not another alias (one step, so
 *   what a name serves is read off one line); a target without its provider gets the catalog ids
 *   that are it with a provider in front (`gpt-4o-mini` → `openai/gpt-4o-mini`).
 */
export function checkModelAliases(gateway: { models: ReadonlyArray<{ id: string }>; modelAliases?: Record<string, string> }, ctx: z.RefinementCtx): void {
  const aliases = gateway.modelAliases ?? {};
  const ids = gateway.models.map((m) => m.id);
  for (const [alias, target] of Object.entries(aliases)) {
    const path = ['gateway', 'modelAliases', alias];
    const shadowed = ids.indexOf(alias);
    if (shadowed >= 0) {
      ctx.addIssue({ code: 'custom', path, message: `is an alias named as catalog model gateway.models[${shadowed}] ("${alias}"): an alias must not collide with a catalog id (a request for it would reach one or the other); rename the alias or remove it` });
      continue;
    }
    if (ids.includes(target)) continue;
    const withProvider = ids.filter((id) => id.endsWith(`/${target}`) && id.indexOf('/') === id.length - target.length - 1);
    const fix = withProvider.length
      ? `did you mean ${withProvider.map((id) => `"${id}"`).join(' or ')}? Catalog ids name their provider`
      : `use the id of one of gateway.models (${ids.length <= 8 ? ids.join(', ') : `${ids.slice(0, 8).join(', ')} and ${ids.length - 8} more`}), add the model to gateway.models, or remove the alias (gateway: { modelAliases: { ${alias}: null } }; modelAliases: null removes every alias, the embedded default's bare OpenAI names too)`;
    const what = target === alias ? 'names the alias itself'
      : Object.prototype.hasOwnProperty.call(aliases, target) ? `names another alias ("${target}"), not a catalog model: aliases do not chain`
        : 'is not a model of the catalog (gateway.models)';
    const direct = target !== alias && ids.includes(aliases[target] ?? '') ? `write "${aliases[target]}", the model it names` : fix;
    ctx.addIssue({ code: 'custom', path, message: `${what}: ${direct}` });
  }
}

/**
 * A tier's `models.allowed` names catalog ids (the gateway checks a call's target, never the alias
 * it came by), so an alias listed there would match no call: an issue at
 * `tiers.<tier>.models.allowed.<i>` naming the catalog id to write instead.
 */
export function checkTierModelsAreNotAliases(tiers: Record<string, { models: { allowed: readonly string[] } }>, modelAliases: Record<string, string> | undefined, ctx: z.RefinementCtx): void {
  if (!modelAliases) return;
  for (const [name, tier] of Object.entries(tiers)) {
    tier.models.allowed.forEach((id, i) => {
      if (!Object.prototype.hasOwnProperty.call(modelAliases, id)) return;
      ctx.addIssue({ code: 'custom', path: ['tiers', name, 'models', 'allowed', i], message: `"${id}" is an alias (gateway.modelAliases.${id}), and a tier's allowed models are catalog ids (calls by alias are checked against the model it names): write "${modelAliases[id]}"` });
    });
  }
}
