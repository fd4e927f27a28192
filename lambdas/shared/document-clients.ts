import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import { clientWith, platformClient } from './aws-clients.js';

/**
 * DynamoDB document clients, each over a DynamoDB client of its own per marshalling options.
 *
 * `DynamoDBDocumentClient.from(base, translateConfig)` stores `translateConfig` on the base
 * client's config object (the DynamoDBDocumentClient constructor of @aws-sdk/lib-dynamodb 3.x:
 * `this.config = client.config; this.config.translateConfig = translateConfig`), and every command
 * reads it when it is sent. Two document clients over one base therefore both marshal with the
 * options of whichever was made last: a store that needs `removeUndefinedValues` refuses its own
 * items ("Pass options.removeUndefinedValues=true to remove undefined values…") once another
 * document client without it is made over the same base, even between its `from` and its `send`.
 */

/** Attributes whose value is `undefined` are left out of the item instead of refusing it. */
export const DROP_UNDEFINED: TranslateConfig = { marshallOptions: { removeUndefinedValues: true } };

/** An id per function given in the options (`unmarshallOptions.wrapNumbers` may be one), for the keys. */
const functionIds = new WeakMap<object, number>();
let functionsSeen = 0;

/**
 * `translate` as a key: its JSON, with each function among the options named by its own id (JSON
 * would drop it, and two functions would share a key). `{}` for no options.
 */
export function documentOptionsKey(translate: TranslateConfig | undefined): string {
  return JSON.stringify(translate ?? {}, (_key, value: unknown) => {
    if (typeof value !== 'function') return value;
    if (!functionIds.has(value)) functionIds.set(value, ++functionsSeen);
    return `function#${functionIds.get(value)}`;
  });
}

/**
 * The client variant (aws-clients.ts) of a document client with `translate`: lib-dynamodb's
 * defaults (no options) take the class's shared client, which no other document client writes
 * to (they all come from here); each other option set has a DynamoDB client of its own.
 */
const variantOf = (translate: TranslateConfig | undefined) => {
  const options = documentOptionsKey(translate);
  return options === '{}' ? '' : `dynamodb-document:${options}`;
};

/**
 * A copy of `translate` for lib-dynamodb, which writes its defaults into the options it is given
 * (`marshallOptions.convertTopLevelContainer`, `unmarshallOptions.convertWithoutMapWrapper`, on the
 * first command sent): the caller's object, and so the cache keys made from it, stay as they were.
 * Its two option objects are copied; their values (booleans, a `wrapNumbers` function) are kept.
 */
const copyOf = (translate: TranslateConfig | undefined): TranslateConfig | undefined => translate && {
  ...(translate.marshallOptions ? { marshallOptions: { ...translate.marshallOptions } } : {}),
  ...(translate.unmarshallOptions ? { unmarshallOptions: { ...translate.unmarshallOptions } } : {}),
};

const platformDocuments = new Map<string, DynamoDBDocumentClient>();

/**
 * Every DynamoDB client made here has the gateway's `request` HTTP timeouts (lib/aws-http-timeouts.ts:
 * 5 s to connect, 15 s without a byte): DynamoDB answers in milliseconds, and the registry, usage
 * and key tables are on every gateway request's path.
 */
const HTTP = { http: 'request' } as const;

/**
 * A document client with the Lambda's own credentials, cached per `translate`, over a DynamoDB
 * client used by no document client with other options (without options: `platformClient(DynamoDBClient, '', { http: 'request' })`).
 * @param translate lib-dynamodb's marshalling options. @default none (lib-dynamodb's defaults)
 */
export function platformDocumentClient(translate?: TranslateConfig): DynamoDBDocumentClient {
  const variant = variantOf(translate);
  let doc = platformDocuments.get(variant);
  if (!doc) platformDocuments.set(variant, (doc = DynamoDBDocumentClient.from(platformClient(DynamoDBClient, variant, HTTP), copyOf(translate))));
  return doc;
}

/**
 * A document client acting with `credentials` (an assumed session), over the session's DynamoDB
 * client for `translate` (aws-clients.ts clientWith: one per credentials object and variant;
 * without options, the session's shared `clientWith(DynamoDBClient, credentials, { http: 'request' })`).
 * @param translate lib-dynamodb's marshalling options. @default none (lib-dynamodb's defaults)
 */
export function documentClientWith(credentials: AwsCredentialIdentity, translate?: TranslateConfig): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(clientWith(DynamoDBClient, credentials, { variant: variantOf(translate) || undefined, ...HTTP }), copyOf(translate));
}
