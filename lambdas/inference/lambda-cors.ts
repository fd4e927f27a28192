import { GATEWAY_ENV } from './lambda-deps.js';
import { CachedCorsOrigins, NO_ORIGINS, type CorsOrigins } from './stores/cors-origins.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

let origins: CorsOrigins | undefined;

/**
 * The origin index as the Lambdas read it: the DynamoDB table named by
 * `TESSERA_CORS_ORIGINS_TABLE` (GATEWAY_ENV.corsOriginsTable), with the function's own
 * credentials (not a tenant's: a preflight has no tenant), answers cached 60 s per execution
 * environment. The SDK is imported on the first lookup. Without the variable no origin is allowed
 * (logged once), so a missing setting never opens the gateway to browsers.
 */
export function lambdaCorsOrigins(): CorsOrigins {
  if (origins) return origins;
  const table = process.env[GATEWAY_ENV.corsOriginsTable];
  if (!table) {
    logger.error(`${GATEWAY_ENV.corsOriginsTable} is not set: CORS preflights are answered without CORS headers`);
    return (origins = NO_ORIGINS);
  }
  let index: Promise<CorsOrigins> | undefined;
  const load = () => (index ??= Promise.all([import('./stores/dynamodb-cors-origins.js'), import('../shared/document-clients.js')])
    .then(([{ DynamoDbCorsOrigins }, { platformDocumentClient }]) => new DynamoDbCorsOrigins(table, async () => platformDocumentClient())));
  return (origins = new CachedCorsOrigins({ allows: async (origin) => (await load()).allows(origin) }));
}
