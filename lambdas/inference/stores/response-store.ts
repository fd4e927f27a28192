/**
 * Stored Responses API answers (`store: true`): kept per tenant, read and written only as that
 * tenant (the Lambdas' DynamoDB client is the tenant-scoped one), expiring after
 * `gateway.responsesTtlDays`. One interface, two implementations with one semantics: in memory
 * (`tessera serve`) and DynamoDB (the platform's responses table, partition key `tenantId`, sort
 * key `responseId`, TTL attribute `expiresAt`).
 */
export interface StoredResponse {
  tenantId: string;
  /** `resp_…`, the Response object's id. */
  responseId: string;
  /** The Response object as it was answered (OpenAI's `Response`). */
  response: Record<string, unknown>;
  /** The input items of the request, with ids (`GET /v1/responses/{id}/input_items`). */
  inputItems: Record<string, unknown>[];
  /** Epoch seconds after which it is gone (DynamoDB TTL; the stores also refuse to return it). */
  expiresAt: number;
}

export interface ResponseStore {
  put(item: StoredResponse): Promise<void>;
  /** The tenant's stored response, or undefined (never another tenant's). */
  get(tenantId: string, responseId: string): Promise<StoredResponse | undefined>;
  /** @returns whether the tenant had such a response */
  delete(tenantId: string, responseId: string): Promise<boolean>;
}
