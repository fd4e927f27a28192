/**
 * HTTP errors with a JSON body in OpenAI's error shape (`{ error: { message, type, param, code } }`),
 * the one shape every Tessera API answers with.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: 'invalid_request_error' | 'not_found_error' | 'conflict_error' | 'api_error',
    readonly code: string,
    readonly param?: string,
    /** Extra JSON beside `error` (e.g. the running `operation` of a 409). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function errorBody(e: ApiError): string {
  return JSON.stringify({ error: { message: e.message, type: e.type, param: e.param ?? null, code: e.code }, ...e.details });
}
