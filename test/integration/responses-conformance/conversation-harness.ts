import type OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';
import type { ConversationStore } from '../../../lambdas/inference/stores/conversation-store.js';
import { DynamoDbConversationStore } from '../../../lambdas/inference/stores/dynamodb-conversation-store.js';
import { unscopedDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { createResponsesTable } from '../support/gateway-tables.js';
import { startMoto, type MotoServer, pointSdkAtMoto } from '../support/moto-server.js';

/** A conversation store a suite runs on: `make` answers undefined for `tessera serve`'s default (files under its state dir). */
export interface ConversationStoreCase { name: string; make: () => ConversationStore | undefined }

/**
 * What the Conversations API's files share: a fake upstream and a moto server with the responses table `table` for the
 * file (started in beforeAll, stopped in afterAll), and the two stores each file's suites run on: serve's default and the
 * DynamoDB store on that table.
 * @returns `env` (its `upstream` and `moto` once beforeAll ran), `stores`, and `chatRequests()`: the chat requests the
 *   upstream got (a conversation turn is one)
 */
export function conversationHarness(table: string) {
  const env = {} as { upstream: FakeUpstream; moto: MotoServer };
  beforeAll(async () => {
    [env.upstream, env.moto] = await Promise.all([new FakeUpstream().start(), startMoto({ serial: true })]);
    pointSdkAtMoto(env.moto);
    await createResponsesTable(table);
  });
  afterAll(async () => {
    await env.upstream?.stop();
    await env.moto?.stop();
  });
  const stores: ConversationStoreCase[] = [
    { name: "tessera serve's default store (files under its state dir)", make: () => undefined },
    { name: 'DynamoDB store on the responses table (moto)', make: () => new DynamoDbConversationStore(table, unscopedDocumentClient()) },
  ];
  return { env, stores, chatRequests: () => env.upstream.requests.filter((r) => Array.isArray(r.messages)) };
}

/** The official Node client's error of a call expected to fail; a call that succeeds fails the test. */
export const failure = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
