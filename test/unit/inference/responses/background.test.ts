import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { cancelBackground, LAPSED_MESSAGE, runBackgroundResponse, type ExecuteBackground } from '../../../../lambdas/inference/responses/background.js';
import { DynamoDbResponseStore } from '../../../../lambdas/inference/stores/dynamodb-response-store.js';
import { MemoryResponseStore } from '../../../../lambdas/inference/stores/memory-response-store.js';
import { encodeStoredBody, type StoredResponse } from '../../../../lambdas/inference/stores/response-store.js';

const ID = `resp_${'a'.repeat(48)}`;
const queued = (over: Partial<StoredResponse> = {}): StoredResponse => ({
  tenantId: 'acme', responseId: ID, response: { id: ID, object: 'response', status: 'queued', background: true, created_at: 1, output: [] }, inputItems: [], messages: [],
  expiresAt: Math.floor(Date.now() / 1000) + 3600, job: { owner: { tenantId: 'acme', userId: 'u1', role: 'member' }, request: '{"model":"m","input":"hi","background":true}' }, ...over,
});
/** An execute that answers `completed` through settle, counting its calls. */
const answering = (calls: string[]): ExecuteBackground => async (_owner, _request, responseId, settle) => {
  calls.push(responseId);
  await settle({ ...queued(), job: undefined, response: { id: responseId, object: 'response', status: 'completed', background: true, created_at: 99, output: [{ type: 'message' }] } });
  return undefined;
};

describe('runBackgroundResponse: claim, lease, settle', () => {
  it('claims a queued response (in_progress under a lease), runs it once, settles it completed and drops the job; a second delivery runs nothing', async () => {
    const store = new MemoryResponseStore();
    await store.put(queued());
    const calls: string[] = [];
    let during: StoredResponse | undefined;
    const execute: ExecuteBackground = async (...args) => {
      during = await store.get('acme', ID);
      return answering(calls)(...args);
    };
    expect(await runBackgroundResponse({ responses: store, execute, nowMs: () => 1000 }, 'acme', ID, 60_000)).toBe('ran');
    expect(during?.response.status).toBe('in_progress');
    expect(during?.job?.lease).toMatchObject({ since: 1000, until: 61_000 });
    const after = await store.get('acme', ID);
    expect(after).toMatchObject({ response: { status: 'completed', created_at: 1 } });
    expect(after?.job).toBeUndefined();
    expect(await runBackgroundResponse({ responses: store, execute, nowMs: () => 2000 }, 'acme', ID, 60_000)).toBe('skipped');
    expect(calls).toEqual([ID]);
  });

  it('a delivery after serve\'s stop (deps.stopping aborted) claims nothing and runs nothing: stopped, the response still queued with its job', async () => {
    const store = new MemoryResponseStore();
    await store.put(queued());
    const calls: string[] = [];
    const stopping = new AbortController();
    stopping.abort();
    expect(await runBackgroundResponse({ responses: store, execute: answering(calls), stopping: stopping.signal }, 'acme', ID, 60_000)).toBe('stopped');
    expect(calls).toEqual([]);
    const left = await store.get('acme', ID);
    expect(left?.response.status).toBe('queued');
    expect(left?.job?.lease).toBeUndefined();
    // The next serve's delivery runs it.
    expect(await runBackgroundResponse({ responses: store, execute: answering(calls) }, 'acme', ID, 60_000)).toBe('ran');
    expect(calls).toEqual([ID]);
  });

  it('a run begun before serve\'s stop is given the stop signal (its file_search rounds end on it) and is settled failed with the failure it returns', async () => {
    const store = new MemoryResponseStore();
    await store.put(queued());
    const stopping = new AbortController();
    let given: AbortSignal | undefined;
    const execute: ExecuteBackground = async (_o, _r, _id, _settle, _signal, _events, _requestId, stop) => {
      given = stop;
      stopping.abort(); // serve stops while the run's first call is under way
      return stop?.aborted ? { code: 'server_error', message: 'server_stopping: stopped between rounds' } : undefined;
    };
    expect(await runBackgroundResponse({ responses: store, execute, stopping: stopping.signal }, 'acme', ID, 60_000)).toBe('ran');
    expect(given).toBe(stopping.signal);
    expect((await store.get('acme', ID))?.response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'server_stopping: stopped between rounds' } });
  });

  it('a duplicate delivery while the lease holds runs nothing; after the lease it settles the response failed (not run again)', async () => {
    const store = new MemoryResponseStore();
    await store.put(queued({ response: { ...queued().response, status: 'in_progress' }, job: { ...queued().job!, lease: { claim: 'other', since: 0, until: 5000 } } }));
    const calls: string[] = [];
    expect(await runBackgroundResponse({ responses: store, execute: answering(calls), nowMs: () => 4000 }, 'acme', ID, 60_000)).toBe('skipped');
    expect((await store.get('acme', ID))?.response.status).toBe('in_progress');
    expect(await runBackgroundResponse({ responses: store, execute: answering(calls), nowMs: () => 5000 }, 'acme', ID, 60_000)).toBe('lapsed');
    expect((await store.get('acme', ID))?.response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: LAPSED_MESSAGE } });
    expect(calls).toEqual([]);
  });

  it('a cancel during the run is not overwritten by its answer; a failure settles failed with the error', async () => {
    const store = new MemoryResponseStore();
    await store.put(queued());
    const calls: string[] = [];
    const cancelling: ExecuteBackground = async (...args) => {
      await cancelBackground(store, 'acme', ID);
      return answering(calls)(...args);
    };
    await runBackgroundResponse({ responses: store, execute: cancelling }, 'acme', ID, 60_000);
    expect((await store.get('acme', ID))?.response.status).toBe('cancelled');
    // Cancelling again answers it as it is.
    expect((await cancelBackground(store, 'acme', ID))?.response.status).toBe('cancelled');

    await store.put(queued());
    await runBackgroundResponse({ responses: store, execute: async () => ({ code: 'rate_limit_exceeded', message: 'budget_exceeded: out of budget' }) }, 'acme', ID, 60_000);
    expect((await store.get('acme', ID))?.response).toMatchObject({ status: 'failed', error: { code: 'rate_limit_exceeded', message: 'budget_exceeded: out of budget' } });
  });
});

describe('DynamoDbResponseStore.update: a conditional write on the item\'s version', () => {
  it('writes version 1 over an item put once (attribute_not_exists), reads and applies again after losing to another writer', async () => {
    const ddb = mockClient(DynamoDBDocumentClient);
    const doc = DynamoDBDocumentClient.from(new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient({ region: 'us-east-1' }));
    const item = (status: string, version?: number) => ({ Item: { tenantId: 'acme', responseId: ID, expiresAt: queued().expiresAt, body: encodeStoredBody({ response: { ...queued().response, status }, inputItems: [], messages: [], job: queued().job }), ...(version ? { version } : {}) } });
    ddb.on(GetCommand).resolvesOnce(item('queued')).resolvesOnce(item('queued', 1)).resolves({});
    ddb.on(PutCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} })).resolves({});
    const store = new DynamoDbResponseStore('responses', async () => doc);
    const calls: string[] = [];
    expect(await runBackgroundResponse({ responses: store, execute: async () => { calls.push('x'); return undefined; }, pollMs: 60_000 }, 'acme', ID, 1000)).toBe('ran');
    expect(calls).toEqual(['x']);
    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(puts[0]).toMatchObject({ ConditionExpression: 'attribute_exists(responseId) AND attribute_not_exists(#v)', Item: { version: 1 } });
    expect(puts[1]).toMatchObject({ ConditionExpression: '#v = :v', ExpressionAttributeValues: { ':v': 1 }, Item: { version: 2 } });
    ddb.restore();
  });
});
