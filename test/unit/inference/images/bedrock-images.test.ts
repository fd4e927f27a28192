import { mockBedrockRuntime, refusedBedrockRequests } from '../../../support/bedrock-strict.js';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../../lib/config/schema.js';
import { bedrockImages, imageInvokeBody, TITAN_SIZES } from '../../../../lambdas/inference/providers/bedrock/image-models.js';
import type { ImageProviderRequest, ProviderError } from '../../../../lambdas/inference/providers/provider.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const bedrock = mockBedrockRuntime();
beforeEach(() => {
  bedrock.reset();
  refusedBedrockRequests.length = 0;
});

const entry = (id: string, upstream: string): ModelEntry => ({ id, upstream, kind: 'image', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096, pricePerImageUsd: 0.04 });
const NOVA = entry('bedrock/amazon.nova-canvas', 'amazon.nova-canvas-v1:0');
const TITAN = entry('bedrock/amazon.titan-image-generator-v2', 'amazon.titan-image-generator-v2:0');
const request = (model: ModelEntry, body: Record<string, unknown>): ImageProviderRequest => ({ model, body: { model: model.id, ...body } as ImageProviderRequest['body'], tenantId: 'acme', signal: new AbortController().signal });
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)) as never;
const sent = () => bedrock.commandCalls(InvokeModelCommand).map((c) => ({ modelId: c.args[0].input.modelId, body: JSON.parse(new TextDecoder().decode(c.args[0].input.body as Uint8Array)) }));
const refusal = (model: ModelEntry, body: Record<string, unknown>): ProviderError => {
  try {
    imageInvokeBody(request(model, body).body, model);
  } catch (e) {
    return e as ProviderError;
  }
  throw new Error('expected a refusal');
};

describe.each([['Amazon Nova Canvas', NOVA], ['Titan Image Generator v2', TITAN]])('Bedrock %s (InvokeModel TEXT_IMAGE)', (_name, model) => {
  it('maps prompt, n, size and quality onto the documented body, and answers b64_json for each image', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: json({ images: ['AAAA', 'BBBB'], error: null }), contentType: 'application/json' } as never);
    const out = await bedrockImages(new BedrockRuntimeClient({}), request(model, { prompt: 'a lighthouse at dusk', n: 2, size: '1024x1024', quality: 'hd', response_format: 'b64_json', output_format: 'png', user: 'u-1' }));
    expect(out.data).toEqual([{ b64_json: 'AAAA' }, { b64_json: 'BBBB' }]);
    expect(typeof out.created).toBe('number');
    expect(sent()).toEqual([{ modelId: model.upstream, body: { taskType: 'TEXT_IMAGE', textToImageParams: { text: 'a lighthouse at dusk' }, imageGenerationConfig: { numberOfImages: 2, width: 1024, height: 1024, quality: 'premium' } } }]);
    expect(refusedBedrockRequests).toEqual([]);
  });

  it('only a prompt: one image, the model\'s default size and quality; size and quality auto are the defaults too', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: json({ images: ['AAAA'] }) } as never);
    await bedrockImages(new BedrockRuntimeClient({}), request(model, { prompt: 'a cat' }));
    await bedrockImages(new BedrockRuntimeClient({}), request(model, { prompt: 'a cat', size: 'auto', quality: 'auto', n: null }));
    expect(sent().map((s) => s.body)).toEqual([
      { taskType: 'TEXT_IMAGE', textToImageParams: { text: 'a cat' }, imageGenerationConfig: { numberOfImages: 1 } },
      { taskType: 'TEXT_IMAGE', textToImageParams: { text: 'a cat' }, imageGenerationConfig: { numberOfImages: 1 } },
    ]);
  });

  it.each([['standard', 'standard'], ['low', 'standard'], ['medium', 'standard'], ['high', 'premium'], ['hd', 'premium'], ['xhigh', 'premium'], ['max', 'premium']])('quality %s is %s', (quality, mapped) => {
    expect(imageInvokeBody(request(model, { prompt: 'x', quality }).body, model).invoke).toMatchObject({ imageGenerationConfig: { quality: mapped } });
  });

  it('n above 5 is a 400 naming n (Bedrock makes 1 to 5 a call); nothing sent', () => {
    expect(refusal(model, { prompt: 'x', n: 6 })).toMatchObject({ status: 400, details: { param: 'n' }, message: expect.stringMatching(/n is 6; .* generates 1 to 5 images a request/) });
  });

  it('response_format url is a 400 naming it (Bedrock returns no URL)', () => {
    expect(refusal(model, { prompt: 'x', response_format: 'url' })).toMatchObject({ status: 400, details: { param: 'response_format', code: 'unsupported_parameter' }, message: expect.stringMatching(/no URL: use response_format "b64_json"/) });
  });

  it.each([
    ['style', 'vivid'], ['background', 'transparent'], ['moderation', 'low'], ['output_compression', 50], ['partial_images', 2], ['stream', true], ['output_format', 'jpeg'], ['negative_prompt', 'blurry'], ['frame_count', 4], ['svg', { model: 'x' }], ['complexity', 'high'],
  ])('%s is a 400 naming it', (field, value) => {
    expect(refusal(model, { prompt: 'x', [field]: value })).toMatchObject({ status: 400, details: { param: field } });
  });

  it('a size the model does not take is a 400 naming size and the allowed values', () => {
    const e = refusal(model, { prompt: 'x', size: '256x256' }); // DALL·E 2's smallest: below both models' sides
    expect(e).toMatchObject({ status: 400, details: { param: 'size', code: 'invalid_value' } });
    expect(e.message).toContain(model === TITAN ? TITAN_SIZES.join(', ') : 'each side 320-4096 and divisible by 16');
  });

  it('a prompt longer than the model takes is a 400 naming prompt', () => {
    const max = model === TITAN ? 512 : 1024;
    expect(refusal(model, { prompt: 'x'.repeat(max + 1) })).toMatchObject({ status: 400, details: { param: 'prompt' }, message: expect.stringContaining(`takes at most ${max}`) });
  });

  it('an answer with only an error (the content filter) is a 400 content_policy_violation naming prompt', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: json({ images: [], error: 'This request has been blocked by our content filters.' }) } as never);
    await expect(bedrockImages(new BedrockRuntimeClient({}), request(model, { prompt: 'x' }))).rejects.toMatchObject({ status: 400, details: { code: 'content_policy_violation', param: 'prompt' } });
  });
});

describe('the sizes each model takes', () => {
  it('Nova Canvas: 1280x720 and 2048x2048 go as width and height; 1000x1000 (not a multiple of 16), 4096x320 (past 4:1) and 4096x4096 (past 4.19 MP) are refused', () => {
    expect(imageInvokeBody(request(NOVA, { prompt: 'x', size: '1280x720' }).body, NOVA).invoke).toMatchObject({ imageGenerationConfig: { width: 1280, height: 720 } });
    expect(imageInvokeBody(request(NOVA, { prompt: 'x', size: '2048x2048' }).body, NOVA).invoke).toMatchObject({ imageGenerationConfig: { width: 2048, height: 2048 } });
    for (const size of ['1000x1000', '4096x320', '4096x4096', 'big']) expect(refusal(NOVA, { prompt: 'x', size }).details.param, size).toBe('size');
  });

  it('Titan v2: its listed sizes (1152x640) go; OpenAI\'s 1536x1024 is refused', () => {
    expect(imageInvokeBody(request(TITAN, { prompt: 'x', size: '1152x640' }).body, TITAN).invoke).toMatchObject({ imageGenerationConfig: { width: 1152, height: 640 } });
    expect(refusal(TITAN, { prompt: 'x', size: '1536x1024' }).details.param).toBe('size');
  });

  it('the strict mock refuses what Bedrock refuses: 6 images, an unlisted Titan size, an extra field', async () => {
    const client = new BedrockRuntimeClient({});
    const call = (modelId: string, body: unknown) => client.send(new InvokeModelCommand({ modelId, contentType: 'application/json', body: new TextEncoder().encode(JSON.stringify(body)) }));
    await expect(call(TITAN.upstream, { taskType: 'TEXT_IMAGE', textToImageParams: { text: 'x' }, imageGenerationConfig: { numberOfImages: 6 } })).rejects.toThrow(/numberOfImages: 6 is not between 1 and 5/);
    await expect(call(TITAN.upstream, { taskType: 'TEXT_IMAGE', textToImageParams: { text: 'x' }, imageGenerationConfig: { width: 1000, height: 1000 } })).rejects.toThrow(/1000x1000 is not a supported size/);
    await expect(call(NOVA.upstream, { taskType: 'TEXT_IMAGE', textToImageParams: { text: 'x', n: 1 } })).rejects.toThrow(/extraneous key \[n\]/);
    await expect(call(NOVA.upstream, { taskType: 'TEXT_IMAGE', textToImageParams: {} })).rejects.toThrow(/required key \[text\]/);
  });
});
