import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CorsOrigins } from './cors-origins.js';

/** The default port of each scheme an origin may name explicitly in a policy (`https://a.example:443`). */
const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/**
 * The platform's origin index in DynamoDB (GATEWAY_ENV.corsOriginsTable): one item
 * `{ origin, tenantId }` per origin a tenant's policy allows, partition key `origin`, sort key
 * `tenantId`, maintained from the registry's stream. Read with the router's own credentials
 * (a preflight has no tenant); the index says only whether some tenant allows an origin.
 *
 * One `Query` with `Limit: 1` on the origin; when the policy may have written the scheme's
 * default port (`https://app.example.com:443`, which a browser never sends), a second on that form.
 */
export class DynamoDbCorsOrigins implements CorsOrigins {
  private doc?: Promise<DynamoDBDocumentClient>;

  /**
   * @param tableName the index table
   * @param client makes the document client (the router's own credentials); called once, on the first lookup
   */
  constructor(private readonly tableName: string, private readonly client: () => Promise<DynamoDBDocumentClient>) {}

  /** @throws Error naming the table, the failed call and the fix (AccessDenied, a missing table, throttling) */
  async allows(origin: string): Promise<boolean> {
    const url = new URL(origin);
    const forms = url.port || !DEFAULT_PORTS[url.protocol] ? [origin] : [origin, `${origin}:${DEFAULT_PORTS[url.protocol]}`];
    const doc = await (this.doc ??= this.client());
    for (const form of forms) {
      try {
        const out = await doc.send(new QueryCommand({
          TableName: this.tableName, KeyConditionExpression: '#o = :o', ExpressionAttributeNames: { '#o': 'origin' },
          ExpressionAttributeValues: { ':o': form }, ProjectionExpression: '#o', Limit: 1,
        }));
        if ((out.Items ?? []).length > 0) return true;
      } catch (e) {
        const name = (e as Error).name;
        const fix = name === 'AccessDeniedException' ? 'the router role needs dynamodb:Query on this table'
          : name === 'ResourceNotFoundException' ? 'the table does not exist: check TESSERA_CORS_ORIGINS_TABLE on the router'
            : 'retry; DynamoDB refused or throttled the read';
        throw new Error(`DynamoDB Query on the CORS origin index ${this.tableName} failed (${name}: ${(e as Error).message}); ${fix}`, { cause: e });
      }
    }
    return false;
  }
}
