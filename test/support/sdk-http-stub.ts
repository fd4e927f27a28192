import { HttpResponse } from '@smithy/protocol-http';
import { Readable } from 'node:stream';
import { afterEach, beforeEach } from 'vitest';
import { registerClientPlugin } from '../../lambdas/shared/aws-clients.js';

/** What the stubbed "network" answers one HTTP request of `command` (e.g. `ConverseCommand`). */
export interface StubbedAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

type Middleware = (next: unknown, context: { commandName?: string }) => () => Promise<{ response: HttpResponse }>;

/**
 * For each test of the calling file: every AWS SDK client the project builds (lambdas/shared/aws-clients.ts,
 * registerClientPlugin) answers each HTTP request with `answer(commandName)`, from a middleware just
 * before the HTTP handler (deserialize step, low priority: inside the SDK's retry and deserializer),
 * and counts the requests per command. What aws-sdk-client-mock cannot show, since it replaces
 * `send` and the SDK's retry middleware never runs: each count is one SDK attempt.
 * @returns the counts of the running test (a new object per test)
 */
export function stubSdkHttp(answer: (command: string) => StubbedAnswer): { readonly attempts: Record<string, number> } {
  const state = { attempts: {} as Record<string, number> };
  let unregister: () => void = () => {};
  beforeEach(() => {
    state.attempts = {};
    unregister = registerClientPlugin((client) => {
      (client.middlewareStack as unknown as { add(m: Middleware, o: object): void }).add((_next, context) => async () => {
        const command = context.commandName!;
        state.attempts[command] = (state.attempts[command] ?? 0) + 1;
        const { statusCode, headers, body } = answer(command);
        return { response: new HttpResponse({ statusCode, headers, body: Readable.from([Buffer.from(body)]) }) };
      }, { step: 'deserialize', priority: 'low', name: 'unitStubbedHttp' });
    });
  });
  afterEach(() => unregister());
  return state;
}
