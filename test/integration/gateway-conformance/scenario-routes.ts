import { ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { beforeEach } from 'vitest';
import type { FakeUpstream } from '../../support/fake-upstream.js';
import { converseAnswerOf, converseEvents, converseOutput, openAiAnswer, openAiChunks, type Scenario } from './matrix.js';
import type { mockProviderSdks } from './setup.js';

/** A provider route a framework suite runs a conformance scenario through: the model id the app names, and the provider behind it. */
export interface ScenarioRoute {
  name: string;
  model: string;
  /** Queues the provider's answer for a chat scenario of the conformance matrix (matrix.ts). */
  script(s: Scenario, streamed: boolean): void;
  /** Each request the provider got. */
  sent(): Record<string, any>[];
  /** The usage the app sees for one call (the matrix's answers: 31/9 from the OpenAI-shaped upstream, 27/8 from Bedrock). */
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
}

/**
 * The OpenAI-shaped route: the fake upstream answers each scenario as OpenAI would (matrix.ts openAiAnswer, openAiChunks).
 * @param upstream the suite's fake upstream, read when a test runs (the gateway starts in beforeAll)
 */
export function relayRoute(name: string, model: string, upstream: () => FakeUpstream): ScenarioRoute {
  return {
    name, model,
    script: (s, streamed) => void upstream().script(streamed ? { events: [...openAiChunks(s).map((data) => ({ data })), { data: '[DONE]' }] } : { body: openAiAnswer(s) }),
    sent: () => upstream().calls.map((c) => c.body),
    usage: { inputTokens: 31, outputTokens: 9, totalTokens: 40 },
  };
}

async function* iterate<T>(items: T[]) {
  for (const i of items) yield i;
}

/**
 * The Bedrock route (`bedrock/amazon.nova-lite`): the mocked Bedrock Runtime answers each scripted scenario in turn, whole
 * (Converse) or streamed (ConverseStream), as matrix.ts converts it; the queue is emptied before each test.
 * @param bedrock the suite's mocked Bedrock Runtime client (setup.ts mockProviderSdks)
 */
export function bedrockRoute(bedrock: ReturnType<typeof mockProviderSdks>['bedrock']): ScenarioRoute {
  const queue: Array<() => unknown> = [];
  beforeEach(() => {
    queue.length = 0;
  });
  return {
    name: 'bedrock', model: 'bedrock/amazon.nova-lite',
    script: (s, streamed) => {
      const answer = converseAnswerOf(s);
      queue.push(streamed ? () => ({ $metadata: { httpStatusCode: 200 }, stream: iterate(converseEvents(answer)) }) : () => converseOutput(answer));
      bedrock.on(ConverseCommand).callsFake(() => queue.shift()?.());
      bedrock.on(ConverseStreamCommand).callsFake(() => queue.shift()?.());
    },
    sent: () => [...bedrock.commandCalls(ConverseCommand), ...bedrock.commandCalls(ConverseStreamCommand)].map((c) => c.args[0].input as Record<string, any>),
    usage: { inputTokens: 27, outputTokens: 8, totalTokens: 35 },
  };
}
