import OpenAI from 'openai';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { conformanceConfig } from './gateway-config.js';

/**
 * The embedding model the vector store tests configure as `gateway.vectorStores.embeddingModel`: the fake upstream's
 * `/v1/embeddings` (`bge`), priced so that embeddings calls are metered.
 */
export const TEST_EMBEDDING_MODEL = { id: 'openai-compatible/embeddings', upstream: 'bge', kind: 'embedding' as const, inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 };

/** conformanceConfig() with TEST_EMBEDDING_MODEL in the catalog and as the vector stores' embedding model. */
export function vectorStoreConfig(): PlatformConfig {
  const c = conformanceConfig();
  return { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, TEST_EMBEDDING_MODEL], vectorStores: { embeddingModel: TEST_EMBEDDING_MODEL.id } } };
}

/** Enterprise-tier local tenants of these ids (localTenant), for serveGateway. */
export const enterpriseTenants = (...ids: string[]) => ids.map((id) => localTenant(id, 'enterprise'));

/**
 * The refusal of an official Node client call: its status, code, param and message.
 * @throws the call's error when it is not an OpenAI.APIError, or an Error when the call succeeded
 */
export async function apiRefusal(p: Promise<unknown>): Promise<{ status: number | undefined; code: string | null | undefined; param: string | null | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpenAI.APIError) return { status: e.status, code: e.code, param: e.param, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}
