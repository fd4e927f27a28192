import type { Authorizer, Caller } from './auth.js';
import { GatewayError } from './openai-errors.js';

/**
 * The refusal of the owner of work the gateway runs after answering its create (a batch's lines, a background
 * response's run, a vector store file's embeddings): the owner's tenant not served (403 `tenant_not_active`:
 * SUSPENDED, OFFBOARDING, OFFBOARDED; 403 `unknown_tenant`: gone) or the API key that created the work revoked,
 * expired or deleted (401 `api_key_revoked`, `api_key_expired`, `invalid_api_key`), as Authorizer.callerOf refuses it.
 * No later step of that work can be served either: it stops, ending in its object's failed state with this code.
 */
export interface OwnerRefusal {
  /** The refusal's OpenAI error code (`tenant_not_active`, `unknown_tenant`, `api_key_revoked`, ...). */
  code: string;
  /** The refusal's message, naming the tenant and its status, or the key and when it was revoked or expired. */
  message: string;
}

/** Who runs the work: the creator recorded with it (BatchOwner, BackgroundOwner, VectorStoreOwner). */
export type WorkOwner = Parameters<Authorizer['callerOf']>[0];
/** What the owner created, as the refusal names it. */
export type OwnedWork = NonNullable<Parameters<Authorizer['callerOf']>[1]>;

/** The owner's caller, or its refusal with the GatewayError that answers it (status, OpenAI error shape). */
export type OwnerCheck = { caller: Caller; refused?: undefined } | { caller?: undefined; refused: OwnerRefusal; error: GatewayError };

/**
 * Reads the owner of running work again, as Authorizer.callerOf does (its tenant from the registry, its creating key
 * by id): the one check batches (Gateway.batchRequest, before each line), background responses (at their run's start
 * and while it runs: responses/background.ts) and vector store files (Gateway.vectorStoreEmbeddings, before each
 * embeddings call) make, so that the work stops being served when its creator would be.
 * @param work what the owner created, as the refusal names it
 * @returns the caller; or, when the owner itself is refused (a GatewayError of callerOf), the refusal and that error
 * @throws what callerOf throws that is no refusal (a registry or key store read failing)
 */
export async function checkOwner(authorizer: Pick<Authorizer, 'callerOf'>, owner: WorkOwner, work: OwnedWork): Promise<OwnerCheck> {
  try {
    return { caller: await authorizer.callerOf(owner, work) };
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    return { refused: { code: e.code, message: e.message }, error: e };
  }
}

/**
 * The reason an AbortSignal is aborted with when running work stops because its owner was refused (the background
 * response's owner check while it runs): the run that sees the abort (Gateway.backgroundResponse) settles and audits
 * it as that refusal, not as a cancel.
 */
export class OwnerRefused extends Error {
  constructor(readonly refusal: OwnerRefusal, readonly error: GatewayError) {
    super(`${refusal.code}: ${refusal.message}`);
    this.name = 'OwnerRefused';
  }
}
