/**
 * After the issuer's key set could not be read, how long JWTs that need it are refused at once
 * with the same 503 instead of each waiting on the JWKS endpoint again (jose's fetch timeout is
 * 5 s): during an outage every SDK retry would otherwise hold an authorizer Lambda (reserved
 * concurrency 50) for the timeout. Tokens verified before, and API keys, are not affected.
 * In milliseconds. A module of its own, without dependencies: the authorizer (auth.ts) and the API's
 * gateway responses (gateway-responses.ts, which the CDK app loads) both read it.
 */
export const KEY_SET_RETRY_MS = 5_000;
