import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { platformClient } from '../../shared/aws-clients.js';
import { tenantRoleClient } from '../../shared/tenant-role-clients.js';
import { textOf } from '../chat-schema.js';
import { ProviderError, type Provider, type ProviderRequest } from './provider.js';

/**
 * A tenant's own model on a SageMaker endpoint serving the OpenAI messages API (LMI/TGI/vLLM
 * containers do). `upstream` is the endpoint name. Streams as one chunk.
 */
export class SageMakerProvider implements Provider {
  private client(r: ProviderRequest): Promise<SageMakerRuntimeClient> | SageMakerRuntimeClient {
    // A tenant's fine-tuned model runs in the tenant's account: invoked as its model-invoker role.
    return r.model.invokeRoleArn ? tenantRoleClient(SageMakerRuntimeClient, r.model.invokeRoleArn, r.tenantId, 'invoke') : platformClient(SageMakerRuntimeClient);
  }

  async complete(r: ProviderRequest) {
    try {
      const out = await (await this.client(r)).send(new InvokeEndpointCommand({
        EndpointName: r.model.upstream,
        ContentType: 'application/json',
        Body: JSON.stringify({ messages: r.messages.map((m) => ({ role: m.role, content: textOf(m.content) })), max_tokens: r.maxTokens, temperature: r.temperature, top_p: r.topP, stop: r.stop }),
      }), { abortSignal: r.signal });
      const body = JSON.parse(new TextDecoder().decode(out.Body)) as { choices?: Array<{ message?: { content?: string }; finish_reason?: string }>; usage?: { prompt_tokens: number; completion_tokens: number } };
      return {
        content: body.choices?.[0]?.message?.content ?? '',
        finishReason: body.choices?.[0]?.finish_reason ?? 'stop',
        usage: body.usage ? { promptTokens: body.usage.prompt_tokens, completionTokens: body.usage.completion_tokens } : undefined,
      };
    } catch (e) {
      if (e instanceof ProviderError) throw e;
      const name = (e as Error).name;
      throw new ProviderError(`SageMaker ${name}`, (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, name === 'ThrottlingException' || name === 'ServiceUnavailable');
    }
  }

  async *stream(r: ProviderRequest) {
    const result = await this.complete(r);
    yield { delta: result.content, finishReason: result.finishReason, usage: result.usage };
  }
}
