import { describe, expect, it } from 'vitest';
import { modelNotFoundFor, resolvePolicy } from '../../../lambdas/inference/policy.js';
import { didYouMean, visibleModelNames } from '../../../lambdas/inference/model-suggestions.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { gatewayConfig } from '../../support/gateway-config.js';

const acme = resolvePolicy(gatewayConfig(), localTenant('acme', 'enterprise'));
const globex = resolvePolicy(gatewayConfig(), localTenant('globex', 'enterprise'));

describe('the 404 model_not_found names the nearest of the caller\'s own models (lib/config/nearest.ts)', () => {
  it('a misspelt alias, catalog id or own fine-tuned id: "did you mean", in OpenAI\'s error shape', () => {
    for (const [sent, meant] of [['gpt-4o-mni', 'gpt-4o-mini'], ['GPT-4o-Mini', 'gpt-4o-mini'], ['bedrock/amazon.nova-lte', 'bedrock/amazon.nova-lite'], ['sagemaker/ft:nova:acme:suport', 'sagemaker/ft:nova:acme:support']]) {
      const e = modelNotFoundFor(acme, sent);
      expect({ status: e.status, type: e.type, code: e.code, param: e.param }, sent).toEqual({ status: 404, type: 'invalid_request_error', code: 'model_not_found', param: 'model' });
      expect(e.message, sent).toBe(`The model '${sent}' does not exist or you do not have access to it; did you mean '${meant}'? GET /v1/models lists yours`);
    }
  });

  it('never names another tenant\'s fine-tuned model, nor an alias of a model the caller may not use', () => {
    // globex's own id, one edit away, is named to globex only
    expect(modelNotFoundFor(globex, 'sagemaker/ft:nova:globex:sale').message).toContain("did you mean 'sagemaker/ft:nova:globex:sales'?");
    for (const sent of ['sagemaker/ft:nova:globex:sale', 'sagemaker/ft:nova:globex:sales', 'sagemaker/ft:nova:globex:saless']) expect(modelNotFoundFor(acme, sent).message).toBe(`The model '${sent}' does not exist or you do not have access to it; GET /v1/models lists yours`);
    expect(visibleModelNames(acme)).not.toContain('sagemaker/ft:nova:globex:sales');
    const narrowed = { ...acme, models: new Map([...acme.models].filter(([id]) => id !== 'openai/gpt-4o-mini')) };
    expect(visibleModelNames(narrowed)).not.toContain('gpt-4o-mini');
    expect(didYouMean(narrowed, 'gpt-4o-mni')).toBeUndefined();
  });

  it('an id with a provider is matched after it: a shared provider does not make two models near', () => {
    expect(didYouMean(acme, 'openai-compatible/primry')).toBe("did you mean 'openai-compatible/primary'?");
    const narrowed = { ...acme, models: new Map([...acme.models].filter(([id]) => id !== 'openai-compatible/primary')) };
    expect(didYouMean(narrowed, 'openai-compatible/primary')).toBeUndefined(); // not 'openai-compatible/default'
    expect(didYouMean(acme, 'opneai/gpt-4o-mini')).toBe("did you mean 'openai/gpt-4o-mini'?"); // a misspelt provider: matched whole
  });

  it('nothing near: the plain message', () => {
    expect(modelNotFoundFor(acme, 'bedrock/not-in-the-catalog').message).toBe("The model 'bedrock/not-in-the-catalog' does not exist or you do not have access to it; GET /v1/models lists yours");
  });
});

describe('a library\'s default model (LangChain, the OpenAI Agents SDK) is told one of the caller\'s models of its kind', () => {
  // The embedded default platform config: its bare OpenAI aliases are what a tenant on `tessera serve` without --config gets.
  const served = resolvePolicy(DEFAULT_CONFIG, localTenant('acme', 'enterprise'));

  it('gpt-3.5-turbo (ChatOpenAI()), gpt-5.6-luna (Agent without a model), text-embedding-ada-002 (OpenAIEmbeddings())', () => {
    const chat = modelNotFoundFor(served, 'gpt-3.5-turbo').message;
    expect(chat).toMatch(/^The model 'gpt-3\.5-turbo' does not exist or you do not have access to it; did you mean '([^']+)'\? 'gpt-3\.5-turbo' is what LangChain's ChatOpenAI\(\) sends, not served here: pass ChatOpenAI\(model='\1'\) \(JS: new ChatOpenAI\(\{ model: '\1' \}\)\)\. GET \/v1\/models lists yours$/);
    const chatId = /did you mean '([^']+)'/.exec(chat)![1]!;
    expect(chatId).toBe('gpt-5.4-mini'); // not gpt-4o-mini, the first alias: OpenAI shuts it down on 2027-01-14
    // A tenant's default model of the kind is its own choice, named first
    const withDefault = { ...served, aliases: new Map([...(served.aliases ?? []), ['default', 'openai/gpt-4o-mini']]) };
    expect(modelNotFoundFor(withDefault, 'gpt-3.5-turbo').message).toContain("did you mean 'default'?");
    expect(served.models.get(served.aliases?.get(chatId) ?? chatId)?.kind ?? 'chat').toBe('chat');
    expect(modelNotFoundFor(served, 'gpt-5.6-luna').message).toContain(`pass Agent(model=OpenAIResponsesModel(model='${chatId}', openai_client=...)) (JS: new Agent({ model: '${chatId}', ... })) or OPENAI_DEFAULT_MODEL=${chatId}.`);
    expect(modelNotFoundFor(served, 'text-embedding-ada-002').message).toBe("The model 'text-embedding-ada-002' does not exist or you do not have access to it; did you mean 'text-embedding-3-small'? 'text-embedding-ada-002' is what LangChain's OpenAIEmbeddings() sends, not served here: pass OpenAIEmbeddings(model='text-embedding-3-small') (JS: new OpenAIEmbeddings({ model: 'text-embedding-3-small' })) (another embedding model's vectors are in another space: re-embed what is stored). GET /v1/models lists yours");
  });

  it('a caller with no model of that kind is told so', () => {
    expect(modelNotFoundFor(acme, 'text-embedding-ada-002').message).toBe("The model 'text-embedding-ada-002' does not exist or you do not have access to it; 'text-embedding-ada-002' is what LangChain's OpenAIEmbeddings() sends, and you have no embedding model here; GET /v1/models lists yours");
  });
});
