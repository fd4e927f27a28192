import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../../lib/config/schema.js';
import { checkImageFieldsFor } from '../../../../lambdas/inference/images/model-rules.js';
import { checkImageFormFor } from '../../../../lambdas/inference/images/image-form.js';
import type { ImageForm } from '../../../../lambdas/inference/providers/provider.js';

/**
 * s31n: OpenAI's per-model rules for `size`, `quality` and `input_fidelity`, as the openai package 7.55.0 documents
 * them (images.d.ts, ImageGenerateParams / ImageEditParams). Before, the gateway checked only dall-e-2 and gpt-image-1
 * (edits) and relayed every newer model's fields unchecked; a check must never refuse what those docs allow.
 */
const model = (id: string, upstream: string) => ({ id, upstream, kind: 'image', pricePerImageUsd: 0.25, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 }) as ModelEntry;
const openai = (upstream: string) => model(`openai/${upstream}`, upstream);
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    const err = e as { status?: number; param?: string; code?: string; message: string };
    return { status: err.status, param: err.param, code: err.code, message: err.message };
  }
  return undefined;
};
const gen = (upstream: string, fields: Record<string, unknown>) => refusal(() => checkImageFieldsFor(openai(upstream), fields, 'generations'));
const edit = (upstream: string, fields: Record<string, string>) => refusal(() => checkImageFormFor({ kind: 'edits', fields, images: [] } as unknown as ImageForm, openai(upstream)));

const ANY_SIZE = ['gpt-image-2', 'gpt-image-2-2026-04-21', 'gpt-image-2.5-sunburst', 'gpt-image-2.5-sunburst-2026-09-08', 'gpt-image-2.5-flare', 'gpt-image-2.5-flare-2026-09-08'];

describe('size: WIDTHxHEIGHT on gpt-image-2 and 2.5 (divisible by 16, 1:3 to 3:1, at most 3840x2160 pixels)', () => {
  it.each(ANY_SIZE)('%s takes the standard sizes, auto and any size within the documented bounds, on generations and edits', (upstream) => {
    for (const size of ['auto', '1024x1024', '1536x1024', '1024x1536', '1536x864', '3840x2160', '2160x3840', '768x2304', '2304x768', '256x256', '2560x1440']) {
      expect(gen(upstream, { size }), size).toBeUndefined();
      expect(edit(upstream, { size }), size).toBeUndefined();
    }
  });

  it.each([
    ['1000x1000', /1000 is not divisible by 16/],
    ['1536x860', /860 is not divisible by 16/],
    ['512x2048', /aspect ratio 512:2048 is outside 1:3 to 3:1/],
    ['4096x2160', /8847360 pixels are over 3840x2160's 8294400/],
    ['0x1024', /a side is 0/],
    ['1024X1024', /takes auto or WIDTHxHEIGHT/],
    ['large', /takes auto or WIDTHxHEIGHT/],
  ])('gpt-image-2.5-flare refuses size %s: a 400 naming size and the value', (size, why) => {
    for (const r of [gen('gpt-image-2.5-flare', { size }), edit('gpt-image-2.5-flare', { size })]) {
      expect(r).toMatchObject({ status: 400, param: 'size', code: 'invalid_value' });
      expect(r!.message).toContain(`size is "${size}"`);
      expect(r!.message).toMatch(why);
      expect(r!.message).toContain('openai package 7.55.0');
    }
  });

  it('gpt-image-1-mini and gpt-image-1.5 take only the standard sizes and auto (arbitrary sizes are 2 and 2.5\'s)', () => {
    for (const upstream of ['gpt-image-1-mini', 'gpt-image-1.5']) {
      for (const size of ['auto', '1024x1024', '1536x1024', '1024x1536']) expect(gen(upstream, { size })).toBeUndefined();
      expect(gen(upstream, { size: '1536x864' })).toMatchObject({ status: 400, param: 'size', message: expect.stringContaining(`size is "1536x864"; openai/${upstream} (${upstream}) makes 1024x1024, 1536x1024, 1024x1536, auto`) });
      expect(edit(upstream, { size: '512x512' })).toMatchObject({ status: 400, param: 'size' });
    }
  });

  it('models the docs give no size rule (2.6, chatgpt-image-latest, an unknown one) and every non-openai provider: relayed unchecked', () => {
    for (const upstream of ['gpt-image-2.6-flare', 'gpt-image-2.6-sunburst', 'chatgpt-image-latest', 'gpt-image-3']) expect(gen(upstream, { size: '1000x1000', quality: 'ultra' })).toBeUndefined();
    expect(refusal(() => checkImageFieldsFor(model('openai-compatible/img', 'gpt-image-2.5-flare'), { size: '1000x1000', quality: 'ultra' }, 'generations'))).toBeUndefined();
    // null is "absent" in OpenAI's types
    expect(gen('gpt-image-1.5', { size: null, quality: null })).toBeUndefined();
  });
});

describe('quality: low/medium/high (+auto) on the GPT image models, xhigh and max only on gpt-image-2.5-sunburst/-flare', () => {
  it('2.5 takes xhigh and max; 1-mini, 1.5 and 2 refuse them, naming quality', () => {
    for (const upstream of ['gpt-image-2.5-flare', 'gpt-image-2.5-sunburst-2026-09-08']) for (const quality of ['auto', 'low', 'medium', 'high', 'xhigh', 'max']) expect(gen(upstream, { quality })).toBeUndefined();
    for (const upstream of ['gpt-image-1-mini', 'gpt-image-1.5', 'gpt-image-2', 'gpt-image-2-2026-04-21']) {
      for (const quality of ['auto', 'low', 'medium', 'high']) expect(gen(upstream, { quality })).toBeUndefined();
      expect(gen(upstream, { quality: 'max' })).toMatchObject({ status: 400, param: 'quality', message: expect.stringMatching(/^quality is "max"; .* takes auto, low, medium, high .*xhigh and max are gpt-image-2\.5-sunburst's and -flare's/) });
      expect(edit(upstream, { quality: 'xhigh' })).toMatchObject({ status: 400, param: 'quality' });
    }
    // dall-e-3's hd and dall-e-2's standard: not a GPT image model's
    expect(gen('gpt-image-2.5-flare', { quality: 'hd' })).toMatchObject({ status: 400, param: 'quality', message: expect.stringContaining('takes auto, low, medium, high, xhigh, max') });
    expect(edit('gpt-image-2', { quality: 'standard' })).toMatchObject({ status: 400, param: 'quality' });
  });
});

describe('input_fidelity (edits): high or low on gpt-image-1.5, low on gpt-image-1-mini, none on gpt-image-2', () => {
  it('as ImageEditParams.input_fidelity says; models it does not name are relayed', () => {
    expect(edit('gpt-image-1.5', { input_fidelity: 'high' })).toBeUndefined();
    expect(edit('gpt-image-1.5', { input_fidelity: 'low' })).toBeUndefined();
    expect(edit('gpt-image-1-mini', { input_fidelity: 'low' })).toBeUndefined();
    expect(edit('gpt-image-1-mini', { input_fidelity: 'high' })).toMatchObject({ status: 400, param: 'input_fidelity', message: expect.stringContaining('input_fidelity is "high"; openai/gpt-image-1-mini (gpt-image-1-mini) takes low') });
    expect(edit('gpt-image-2', { input_fidelity: 'low' })).toMatchObject({ status: 400, param: 'input_fidelity', message: expect.stringContaining('takes none: leave input_fidelity out') });
    expect(edit('gpt-image-2.5-flare', { input_fidelity: 'high' })).toBeUndefined();
  });
});

describe('the retired models\' rules are gone (dall-e-2 shut 2026-05-12, gpt-image-1 2026-10-23)', () => {
  it('an openai-compatible server that names a model dall-e-2 or gpt-image-1 says its own sizes; a variation form gets no per-model check', () => {
    const compat = (upstream: string, fields: Record<string, string>, kind = 'edits') => refusal(() => checkImageFormFor({ kind, fields, images: [{ type: 'image/jpeg' }, { type: 'image/png' }] } as unknown as ImageForm, model(`openai-compatible/${upstream}`, upstream)));
    expect(compat('dall-e-2', { size: '2048x2048' })).toBeUndefined();
    expect(compat('gpt-image-1', { size: '2048x2048' })).toBeUndefined();
    expect(compat('dall-e-2', { size: '2048x2048' }, 'variations')).toBeUndefined();
  });
});
