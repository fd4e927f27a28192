import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../../lib/config/schema.js';
import { midStreamError } from '../../../../lambdas/inference/chat/chat-exchange.js';
import { ProviderError } from '../../../../lambdas/inference/providers/provider.js';

const model: ModelEntry = { id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 10 };

/**
 * An error event inside an upstream's stream (no HTTP status: the answer had begun) reaches the caller as its stream's
 * error event. Its message is the upstream's, without OpenAI's organization, project and key ids, as a whole answer's
 * error has it (upstream-calls.ts callerErrorOf). s37n: the mid-stream path relayed them as sent.
 */
describe('an upstream error in the middle of a stream', () => {
  it("keeps OpenAI's words and type but not its organization, project or key ids", () => {
    const e = new ProviderError('Rate limit reached for gpt-4o-mini in organization org-AbCdEf123456 (project proj_AbCdEf123456) on tokens per min', undefined, true, { type: 'tokens', code: 'rate_limit_exceeded' });
    const err = midStreamError(e, model);
    expect(err.message).toBe('Rate limit reached for gpt-4o-mini in organization [redacted] (project [redacted]) on tokens per min');
    expect(err).toMatchObject({ status: 502, type: 'tokens', code: 'rate_limit_exceeded' });
  });

  it('an idle timeout says so without the ids either', () => {
    const e = new ProviderError('no chunk from https://api.openai.com for org-AbCdEf123456', undefined, true, { timedOut: true });
    expect(midStreamError(e, model).message).toBe('the upstream sent nothing for longer than the idle timeout: no chunk from https://api.openai.com for [redacted]');
  });
});
