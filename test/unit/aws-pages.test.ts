import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ListQueuesCommand, paginateListQueues, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { mockStrict } from '../support/strict-mock.js';
import { afterEach, describe, expect, it } from 'vitest';
import { pages, pagesOf, untilKeyRepeats } from '../../lib/aws-pages.js';
import { bounded } from './bounded-answer.js';

/**
 * lib/aws-pages.ts: the listings end at a page whose next token is the one it was asked with. Every
 * mock answer here gives up after a few calls (`bounded`): a listing that would ask for ever fails
 * the test with that error instead of hanging it.
 */
const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
const sqs = mockStrict(SQSClient, 'sqs', SQSServiceException);
const doc = mockClient(DynamoDBDocumentClient);
afterEach(() => {
  sqs.reset();
  doc.reset();
});

async function all<P>(pages: AsyncIterable<P>): Promise<P[]> {
  const out: P[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('pages(): the SDK paginators\' configuration', () => {
  it('stops a paginator at a page that answers the token it was sent (read once, its items kept), pageSize as the page size', async () => {
    sqs.on(ListQueuesCommand).callsFake(bounded((n) => ({ QueueUrls: [`q${n}`], NextToken: 'again' })));
    const listed = await all(paginateListQueues(pages(new SQSClient({ region: 'us-east-1', credentials }), 1000), { QueueNamePrefix: 'tessera-' }));
    expect(listed.flatMap((p) => p.QueueUrls)).toEqual(['q1', 'q2']);
    // Each call keeps the input it was sent with (the paginator rewrites one input object for every page).
    expect(sqs.commandCalls(ListQueuesCommand).map((c) => c.args[0].input)).toEqual([
      { QueueNamePrefix: 'tessera-', MaxResults: 1000, NextToken: undefined },
      { QueueNamePrefix: 'tessera-', MaxResults: 1000, NextToken: 'again' },
    ]);
  });

  it('without a page size leaves the input\'s own (or none)', () => {
    const client = new SQSClient({ region: 'us-east-1', credentials });
    expect(pages(client)).not.toHaveProperty('pageSize');
    expect(pages(client, 20)).toMatchObject({ client, pageSize: 20, stopOnSameToken: true });
  });
});

describe('untilKeyRepeats: DynamoDB\'s LastEvaluatedKey is an object', () => {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials }));
  // As DynamoDB answers: each page's key a new object (deserialized from the response), never the one sent.
  const sameKeyAnew = () => ({ Items: [{ id: 'x' }], LastEvaluatedKey: { id: 'x', sk: 1 } });

  it('the SDK\'s stopOnSameToken compares keys with !==, so alone it never stops a Scan answered with the key it was sent (why untilKeyRepeats exists)', async () => {
    doc.on(ScanCommand).callsFake(bounded(sameKeyAnew));
    await expect(all(paginateScan(pages(client), { TableName: 't' }))).rejects.toThrow(/asked 6 times: the listing does not stop/);
  });

  it('ends the paginator at the page whose key equals (in value) the key it was asked with', async () => {
    doc.on(ScanCommand).callsFake(bounded(sameKeyAnew));
    const listed = await all(untilKeyRepeats(paginateScan(pages(client), { TableName: 't' }), (p) => p.LastEvaluatedKey));
    expect(listed).toHaveLength(2);
    expect(doc.commandCalls(ScanCommand).map((c) => c.args[0].input.ExclusiveStartKey)).toEqual([undefined, { id: 'x', sk: 1 }]);
  });

  it('reads every page while the keys move on, and stops on an absent key', async () => {
    doc.on(ScanCommand).callsFake(bounded((n) => ({ Items: [{ id: n }], ...(n < 3 ? { LastEvaluatedKey: { id: n } } : {}) })));
    const listed = await all(untilKeyRepeats(paginateScan(pages(client), { TableName: 't' }), (p) => p.LastEvaluatedKey));
    expect(listed.flatMap((p) => p.Items)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });
});

describe('pagesOf: operations without an SDK paginator', () => {
  it('asks with each next token until none, and stops on a repeated token (a string or an object, compared in value)', async () => {
    const asked: unknown[] = [];
    const walk = (answers: Array<string | undefined>) => all(pagesOf(async (token: string | undefined) => {
      asked.push(token);
      if (asked.length > 5) throw new Error('asked too often');
      return { next: answers[asked.length - 1] };
    }, (p) => p.next));
    expect(await walk(['a', 'b', undefined])).toHaveLength(3);
    expect(asked).toEqual([undefined, 'a', 'b']);
    asked.length = 0;
    expect(await walk(['a', 'b', 'b', 'c'])).toHaveLength(3);
    expect(asked).toEqual([undefined, 'a', 'b']);
    asked.length = 0;
    expect(await walk(['a', ''])).toHaveLength(2); // an empty token ends a listing, as in the SDK's paginators

    const pairs: unknown[] = [];
    const twoMarkers = pagesOf(async (at: { key?: string; version?: string } | undefined) => {
      pairs.push(at);
      if (pairs.length > 5) throw new Error('asked too often');
      return { truncated: true, key: 'k', version: 'v' };
    }, (p) => (p.truncated ? { key: p.key, version: p.version } : undefined));
    expect(await all(twoMarkers)).toHaveLength(2);
    expect(pairs).toEqual([undefined, { key: 'k', version: 'v' }]);
  });

  it('lets an error of a call through as it is', async () => {
    const failing = pagesOf(async () => {
      throw new Error('AccessDenied');
    }, () => undefined);
    await expect(all(failing)).rejects.toThrow('AccessDenied');
  });
});
