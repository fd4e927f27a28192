import { isDeepStrictEqual } from 'node:util';

/**
 * Walking every page of an AWS listing without asking for ever when a service (or an endpoint, a
 * proxy, a mock) answers the page token it was sent. Shared by the Lambdas and the CLI.
 *
 * - `pages(client, pageSize)`: the configuration of the SDK's paginators (`paginateX(config, input)`
 *   of the client's package). `stopOnSameToken: true` ends the listing at a page whose next token is
 *   the one it was asked with; the SDK's paginators otherwise stop only on an absent token
 *   (stopOnSameToken defaults to false, @smithy/core createPaginator).
 * - `untilKeyRepeats(pages, keyOf)`: the same stop for tokens that are objects (DynamoDB's
 *   LastEvaluatedKey): the SDK compares tokens with `!==`, and each answer is a new object, so
 *   `stopOnSameToken` never stops a Query or Scan that DynamoDB answers with the key it was sent.
 * - `pagesOf(ask, nextOf)`: the pages of an operation for which the SDK publishes no paginator
 *   (EventBridge ListRules and ListTargetsByRule, Cost Explorer GetCostAndUsage, S3
 *   ListObjectVersions with its two markers), with the same stop.
 *
 * A listing stopped this way ends with the repeated page (read once): what it holds is kept.
 */

/** What `pages` gives an SDK paginator (its PaginationConfiguration, @smithy/types). */
export interface PageConfig<C> {
  readonly client: C;
  readonly pageSize?: number;
  readonly stopOnSameToken: true;
  readonly withCommand: <Cmd extends { input: object }>(command: Cmd) => Cmd;
}

/**
 * The configuration of an SDK paginator (`paginateX(pages(client), input)`): `stopOnSameToken`,
 * and each call with its own copy of the input (`withCommand`): the SDK's paginator sends one input
 * object, rewriting its token for each page, so a call kept after it was sent (aws-sdk-client-mock's
 * commandCalls, a middleware holding the command) would otherwise show the last page's token.
 * @param client - the SDK client of the call (the paginator refuses any other than an instance of its client class)
 * @param pageSize - items per page (the API's MaxResults / MaxRecords / Limit / MaxKeys); @default - the input's own, else the service's default
 */
export function pages<C>(client: C, pageSize?: number): PageConfig<C> {
  const withCommand = <Cmd extends { input: object }>(command: Cmd): Cmd => Object.assign(command, { input: { ...command.input } });
  return pageSize === undefined ? { client, stopOnSameToken: true, withCommand } : { client, pageSize, stopOnSameToken: true, withCommand };
}

/** Whether a next token ends a listing: absent or empty (as the SDK's paginators: `!!token`), or equal in value to the token the page was asked with. */
function ends(next: unknown, asked: unknown): boolean {
  return next === undefined || next === null || next === '' || isDeepStrictEqual(next, asked);
}

/**
 * The pages of `pages` (an SDK paginator) up to the first whose next token (`keyOf`) is absent or
 * equal in value (node:util isDeepStrictEqual) to the token it was asked with; then the paginator
 * is returned (it asks no further). For DynamoDB's paginateQuery / paginateScan, whose key is an object.
 * @param start - the token of the first page (the input's ExclusiveStartKey); @default - none
 */
export async function* untilKeyRepeats<P>(pages: AsyncIterable<P>, keyOf: (page: P) => unknown, start?: unknown): AsyncGenerator<P, void, undefined> {
  let asked = start;
  for await (const page of pages) {
    yield page;
    const next = keyOf(page);
    if (ends(next, asked)) return;
    asked = next;
  }
}

/**
 * Every page of an operation without an SDK paginator: `ask(undefined)` first, then `ask(nextOf(page))`
 * while that token is present and not equal in value to the one the page was asked with. Errors of
 * `ask` propagate as they are.
 * @param ask - one call of the operation for a token (undefined: the first page)
 * @param nextOf - the token of the page after `page`, undefined when it is the last (e.g. `IsTruncated` false)
 */
export async function* pagesOf<P, T>(ask: (token: T | undefined) => Promise<P>, nextOf: (page: P) => T | undefined): AsyncGenerator<P, void, undefined> {
  let token: T | undefined;
  for (;;) {
    const page = await ask(token);
    yield page;
    const next = nextOf(page);
    if (ends(next, token)) return;
    token = next;
  }
}
