import { nearest } from '../../lib/config/nearest.js';
import { openAiShutdownDateOf } from '../../lib/config/model-lifecycle.js';
import type { ModelEntry } from '../../lib/config/schema.js';
import type { TenantPolicy } from './policy.js';

type Kind = NonNullable<ModelEntry['kind']>;

/**
 * The models OpenAI client libraries send when the application names none, by id, with the library and the model's
 * kind (tried 2026-12-06, docs/gateway.md *Model aliases*): LangChain's `ChatOpenAI()` (langchain-openai 1.8,
 * `@langchain/openai` 1.6), its `OpenAIEmbeddings()`, and the OpenAI Agents SDK's `Agent` without a `model`
 * (openai-agents 0.24, `@openai/agents` 0.20). None is a catalog name, and none is a few edits from one, so the
 * 404 names one of the caller's models of the same kind instead.
 */
export const LIBRARY_DEFAULT_MODELS: ReadonlyMap<string, { library: string; kind: Kind; setting: string }> = new Map([
  ['gpt-3.5-turbo', { library: "LangChain's ChatOpenAI()", kind: 'chat', setting: "ChatOpenAI(model='<id>') (JS: new ChatOpenAI({ model: '<id>' }))" }],
  ['text-embedding-ada-002', { library: "LangChain's OpenAIEmbeddings()", kind: 'embedding', setting: "OpenAIEmbeddings(model='<id>') (JS: new OpenAIEmbeddings({ model: '<id>' }))" }],
  ['gpt-5.6-luna', { library: "the OpenAI Agents SDK's Agent without a model", kind: 'chat', setting: "Agent(model=OpenAIResponsesModel(model='<id>', openai_client=...)) (JS: new Agent({ model: '<id>', ... })) or OPENAI_DEFAULT_MODEL=<id>" }],
]);

/**
 * The names the caller may send: its models' ids and the aliases whose target is one of them (an alias of a model the
 * caller may not use is not its name, and another tenant's fine-tuned id is never among `policy.models`), in catalog
 * order then alias order.
 */
export function visibleModelNames(policy: Pick<TenantPolicy, 'models' | 'aliases'>): string[] {
  const aliases = [...(policy.aliases ?? [])].filter(([, target]) => policy.models.has(target)).map(([alias]) => alias);
  return [...policy.models.keys(), ...aliases];
}

/**
 * The caller's model of `kind` to name: `default` when it is of that kind (the tenant's own choice), else one whose
 * shutdown OpenAI has not announced (model-lifecycle.ts openAiShutdownDateOf: `gpt-4o-mini` shuts down 2027-01-14)
 * before one whose it has, an alias of one (the bare name unchanged code sends) before a catalog id, in catalog order.
 */
function modelOfKind(policy: Pick<TenantPolicy, 'models' | 'aliases'>, kind: Kind): string | undefined {
  const entry = (name: string) => policy.models.get(policy.aliases?.get(name) ?? name);
  const ofKind = (name: string) => {
    const m = entry(name);
    return m !== undefined && (m.kind ?? 'chat') === kind;
  };
  const aliases = [...(policy.aliases ?? [])].filter(([, target]) => policy.models.has(target)).map(([alias]) => alias).filter(ofKind);
  if (aliases.includes('default')) return 'default';
  const names = [...aliases, ...[...policy.models.keys()].filter(ofKind)];
  return names.find((n) => openAiShutdownDateOf(entry(n)!) === undefined) ?? names[0];
}

/**
 * The nearest of `names` to `id` (`nearest`). An id with a provider (`openai-compatible/primary`) is matched on what
 * follows the provider among the names of that provider, so that the shared prefix does not widen the edits allowed
 * (`openai-compatible/default` is not near `openai-compatible/primary`); an id without one, or whose provider no name
 * has (a misspelt provider), is matched whole.
 */
function nearestName(id: string, names: readonly string[]): string | undefined {
  const slash = id.indexOf('/');
  const prefix = slash > 0 ? id.slice(0, slash + 1) : '';
  const sameProvider = prefix ? names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)) : [];
  if (!sameProvider.length) return nearest(id, names);
  const near = nearest(id.slice(prefix.length), sameProvider);
  return near === undefined ? undefined : prefix + near;
}

/**
 * What the 404 `model_not_found` of `id` adds to help, from the caller's own names only (visibleModelNames):
 * "did you mean '<name>'?" for the nearest name (nearestName, over lib/config/nearest.ts `nearest`: at most 2
 * edits or a third of the id's length, after its provider, case-insensitive); for a library's default model (LIBRARY_DEFAULT_MODELS), whatever is near it, one
 * of the caller's models of that kind and where the library takes it. A `ft:` id is matched as sent (a tenant's own fine-tuned ids
 * are among its models; another tenant's never are).
 * @returns the sentence to add, ending with a full stop or `?`, or undefined when no name is near
 */
export function didYouMean(policy: Pick<TenantPolicy, 'models' | 'aliases'>, id: string): string | undefined {
  const known = LIBRARY_DEFAULT_MODELS.get(id);
  if (!known) {
    const near = nearestName(id, visibleModelNames(policy));
    return near === undefined ? undefined : `did you mean '${near}'?`;
  }
  const own = modelOfKind(policy, known.kind);
  if (own === undefined) return `'${id}' is what ${known.library} sends, and you have no ${known.kind} model here;`;
  const reembed = known.kind === 'embedding' ? ` (another embedding model's vectors are in another space: re-embed what is stored)` : '';
  return `did you mean '${own}'? '${id}' is what ${known.library} sends, not served here: pass ${known.setting.replaceAll('<id>', own)}${reembed}.`;
}
