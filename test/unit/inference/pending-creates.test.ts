import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { awaitFirstAttempt, createInProgress, isPendingKey, pendingKey, pendingRetryAfterS, retryWaitMsOf, underNote } from '../../../lambdas/inference/pending-creates.js';
import { DirPendingCreates } from '../../../lambdas/inference/stores/dir-pending-creates.js';
import { DynamoDbPendingCreates } from '../../../lambdas/inference/stores/dynamodb-pending-creates.js';
import { tempDir } from '../../support/temp-dirs.js';

const KEY = pendingKey('files', 'a'.repeat(64));

describe('a retry\'s wait for its first attempt (pending-creates.ts)', () => {
  it('waits half the timeout the client states (openai-python every request, openai-node a call\'s own), at most 5 s; none when it states none', () => {
    expect(retryWaitMsOf({ 'x-stainless-read-timeout': '1.0' })).toBe(500);
    expect(retryWaitMsOf({ 'x-stainless-timeout': '4' })).toBe(2000);
    expect(retryWaitMsOf({ 'x-stainless-read-timeout': '600.0' })).toBe(5000);
    expect(retryWaitMsOf({})).toBe(0);
    expect(retryWaitMsOf({ 'x-stainless-timeout': 'soon' })).toBe(0);
  });

  it('a 409 create_in_progress is the one 409 the SDKs are told to retry, after as long as the first attempt has run (2 to 30 s)', () => {
    const e = createInProgress('files.create', Date.now() - 7_400);
    expect(e).toBeInstanceOf(GatewayError);
    expect(e).toMatchObject({ status: 409, code: 'create_in_progress', headers: { 'x-should-retry': 'true', 'retry-after': '8' } });
    // every other 409 still says false
    expect(new GatewayError(409, 'busy', 'invalid_request_error', 'conflict').headers['x-should-retry']).toBe('false');
    expect(pendingRetryAfterS(1_000, 1_100)).toBe(2);
    expect(pendingRetryAfterS(0, 3_600_000)).toBe(30);
  });

  it('on serve\'s notes: a retry is refused while its first attempt runs, goes on once it ended (or threw); a late end leaves a later attempt\'s note', async () => {
    const notes = new DirPendingCreates(tempDir('tessera-pending-'));
    let release!: () => void;
    const first = underNote(notes, 'acme', KEY, () => new Promise<void>((ok) => (release = ok)));
    await expect.poll(() => notes.read('acme', KEY)).toBeDefined();
    await expect(awaitFirstAttempt(notes, 'acme', KEY, 'files.create', 0)).rejects.toMatchObject({ status: 409, code: 'create_in_progress' });
    expect(await notes.read('globex', KEY)).toBeUndefined(); // another tenant's
    release();
    await first;
    await expect(awaitFirstAttempt(notes, 'acme', KEY, 'files.create', 0)).resolves.toBeUndefined();
    await expect(underNote(notes, 'acme', KEY, async () => { throw new Error('put failed'); })).rejects.toThrow('put failed');
    expect(await notes.read('acme', KEY)).toBeUndefined();
    await notes.begin('acme', KEY, 'older');
    await notes.begin('acme', KEY, 'newer');
    await notes.end('acme', KEY, 'older');
    expect((await notes.read('acme', KEY))?.attempt).toBe('newer');
  });

  it('takes the notes of every create that waits: files, background responses, fine-tuning jobs and batches; no other key', async () => {
    const notes = new DirPendingCreates(tempDir('tessera-pending-'));
    for (const route of ['files', 'responses', 'jobs', 'batches'] as const) {
      const key = pendingKey(route, 'b'.repeat(64));
      // The old code refused the jobs' and batches' keys ("not a key the gateway makes"): their creates took no note.
      await notes.begin('acme', key, `attempt-${route}`);
      expect((await notes.read('acme', key))?.attempt).toBe(`attempt-${route}`);
    }
    expect(['uploads#' + 'b'.repeat(64), 'jobs#' + 'b'.repeat(63), 'jobs#../x'].filter(isPendingKey)).toEqual([]);
  });
});

describe('DynamoDbPendingCreates (SDK mocked)', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
  const notes = new DynamoDbPendingCreates('tessera-responses', async () => doc);
  beforeEach(() => ddb.reset());
  afterAll(() => ddb.restore());

  it('writes the note under pending#<key> in the tenant\'s partition, reads it consistently, and removes it only on condition that it is the attempt\'s', async () => {
    ddb.on(PutCommand).resolves({});
    ddb.on(GetCommand).resolves({ Item: { tenantId: 'acme', responseId: `pending#${KEY}`, attempt: 'a1', since: 5, expiresAt: Math.floor(Date.now() / 1000) + 60 } });
    ddb.on(DeleteCommand).rejects(Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' }));
    await notes.begin('acme', KEY, 'a1');
    expect(ddb.commandCalls(PutCommand)[0].args[0].input).toMatchObject({ TableName: 'tessera-responses', Item: { tenantId: 'acme', responseId: `pending#${KEY}`, attempt: 'a1', since: expect.any(Number), expiresAt: expect.any(Number) } });
    expect(await notes.read('acme', KEY)).toEqual({ attempt: 'a1', since: 5, expiresAt: expect.any(Number) });
    expect(ddb.commandCalls(GetCommand)[0].args[0].input).toMatchObject({ ConsistentRead: true, Key: { tenantId: 'acme', responseId: `pending#${KEY}` } });
    await notes.end('acme', KEY, 'a0'); // a later attempt's note: the condition fails, and that is no error
    expect(ddb.commandCalls(DeleteCommand)[0].args[0].input).toMatchObject({ ConditionExpression: 'attempt = :a', ExpressionAttributeValues: { ':a': 'a0' } });
    await expect(notes.begin('acme', 'files#not-a-hash', 'a1')).rejects.toThrow(/not a key the gateway makes/);
  });
});
