import { describe, expect, it } from 'vitest';
import { readImageForm } from '../../../../lambdas/inference/images/image-form.js';
import { imageFormInvokeBody } from '../../../../lambdas/inference/providers/bedrock/image-models.js';
import { invokeModelRefusal } from '../../../support/bedrock-strict.js';
import { TINY_PNG_BASE64 } from '../../../support/fake-upstream.js';

/** readImageForm's edge cases (multipart as the SDKs write it) and the Bedrock IMAGE_VARIATION bodies, checked by the strict mock's rules. */
const PNG = Buffer.from(TINY_PNG_BASE64, 'base64');
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]);
const B = 'xyzBOUNDARY';
const CT = `multipart/form-data; boundary=${B}`;
type Part = [name: string, value: string | Buffer, filename?: string];
const body = (parts: Part[]) => Buffer.concat([
  ...parts.map(([name, value, filename]) => Buffer.concat([
    Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"\r\nContent-Type: application/octet-stream` : ''}\r\n\r\n`),
    Buffer.from(value), Buffer.from('\r\n'),
  ])),
  Buffer.from(`--${B}--\r\n`),
]);
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return { status: (e as { status?: number }).status, param: (e as { param?: string }).param ?? (e as { field?: string }).field ?? (e as { details?: { param?: string } }).details?.param, message: (e as Error).message };
  }
  return undefined;
};
const nova = { id: 'bedrock/nova', upstream: 'amazon.nova-canvas-v1:0' } as never;
const titan = { id: 'bedrock/titan', upstream: 'amazon.titan-image-generator-v2:0' } as never;

describe('readImageForm', () => {
  it('image[] parts are the images in order; image alone one; text fields by name', () => {
    const { form, modelPart } = readImageForm('edits', body([['image[]', PNG, 'a.png'], ['image[]', JPEG, 'b.jpg'], ['prompt', 'a hat'], ['model', 'm'], ['n', '2']]), CT);
    expect(form.images.map((i) => i.type)).toEqual(['image/png', 'image/jpeg']);
    expect(form.images[1]!.bytes.equals(JPEG)).toBe(true);
    expect(form.fields).toEqual({ prompt: 'a hat', model: 'm', n: '2' });
    expect(modelPart).toBeDefined();
    expect(readImageForm('variations', body([['image', PNG, 'a.png']]), CT).form.images).toHaveLength(1);
  });

  it('an edit without prompt, a variation of two images or of a JPEG, a mask that is not a PNG, n 0, a field twice: 400s naming the field', () => {
    expect(refusal(() => readImageForm('edits', body([['image', PNG, 'a.png']]), CT))).toMatchObject({ status: 400, param: 'prompt', message: 'prompt is required: a text description of the edit' });
    expect(refusal(() => readImageForm('edits', body([['image', PNG, 'a.png'], ['prompt', '']]), CT))).toMatchObject({ param: 'prompt' });
    expect(refusal(() => readImageForm('variations', body([['image[]', PNG, 'a.png'], ['image[]', PNG, 'b.png']]), CT))).toMatchObject({ param: 'image', message: 'image is 2 files; a variation takes one image' });
    expect(refusal(() => readImageForm('variations', body([['image', JPEG, 'a.jpg']]), CT))).toMatchObject({ param: 'image', message: 'image is image/jpeg; a variation takes a PNG' });
    expect(refusal(() => readImageForm('edits', body([['image', PNG, 'a.png'], ['mask', JPEG, 'm.jpg'], ['prompt', 'x']]), CT))).toMatchObject({ param: 'mask' });
    expect(refusal(() => readImageForm('edits', body([['image', PNG, 'a.png'], ['prompt', 'x'], ['n', '0']]), CT))).toMatchObject({ param: 'n', message: 'n is "0"; it must be an integer from 1 to 10' });
    expect(refusal(() => readImageForm('edits', body([['image', PNG, 'a.png'], ['prompt', 'x'], ['prompt', 'y']]), CT))).toMatchObject({ param: 'prompt', message: 'prompt is sent twice; send each field once' });
    expect(refusal(() => readImageForm('edits', body([['image', 'not a file'], ['prompt', 'x']]), CT))).toMatchObject({ param: 'image' });
    expect(refusal(() => readImageForm('edits', body([['prompt', 'x']]), CT))).toMatchObject({ param: 'image', message: expect.stringMatching(/^image is required/) });
    expect(refusal(() => readImageForm('edits', Buffer.from('{}'), 'application/json'))).toMatchObject({ status: 400, message: expect.stringMatching(/takes multipart\/form-data/) });
  });
});

describe('imageFormInvokeBody: Bedrock IMAGE_VARIATION, as the strict mock takes it', () => {
  const invoke = (model: never, kind: 'edits' | 'variations', parts: Part[]) => imageFormInvokeBody(readImageForm(kind, body(parts), CT).form, model).invoke;
  const strict = (model: { upstream: string }, b: Record<string, unknown>) => invokeModelRefusal({ modelId: model.upstream, contentType: 'application/json', body: new TextEncoder().encode(JSON.stringify(b)) });

  it('an edit: the images and the prompt as text; a variation: no text; both pass the strict rules', () => {
    const edit = invoke(titan, 'edits', [['image[]', PNG, 'a.png'], ['image[]', JPEG, 'b.jpg'], ['prompt', 'in snow'], ['size', '512x512'], ['n', '3']]);
    expect(edit).toEqual({ taskType: 'IMAGE_VARIATION', imageVariationParams: { images: [PNG.toString('base64'), JPEG.toString('base64')], text: 'in snow' }, imageGenerationConfig: { numberOfImages: 3, width: 512, height: 512 } });
    expect(strict(titan as never, edit)).toBeUndefined();
    const variation = invoke(nova, 'variations', [['image', PNG, 'a.png'], ['quality', 'high']]);
    expect(variation).toEqual({ taskType: 'IMAGE_VARIATION', imageVariationParams: { images: [PNG.toString('base64')] }, imageGenerationConfig: { numberOfImages: 1, quality: 'premium' } });
    expect(strict(nova as never, variation)).toBeUndefined();
  });

  it('the strict mock refuses what Bedrock refuses: six images, text over the limit, no images', () => {
    const six = { taskType: 'IMAGE_VARIATION', imageVariationParams: { images: Array.from({ length: 6 }, () => TINY_PNG_BASE64) } };
    expect(strict(nova as never, six)).toMatch(/images: expected minimum item count: 1, maximum 5, found: 6/);
    expect(strict(titan as never, { taskType: 'IMAGE_VARIATION', imageVariationParams: { images: [TINY_PNG_BASE64], text: 'x'.repeat(513) } })).toMatch(/text: expected a string of length 1 to 512/);
    expect(strict(nova as never, { taskType: 'IMAGE_VARIATION', imageVariationParams: {} })).toMatch(/required key \[images\]/);
    expect(strict(nova as never, { taskType: 'INPAINTING', inPaintingParams: { image: TINY_PNG_BASE64 } })).toMatch(/exactly one of maskPrompt and maskImage/);
  });

  it('mask, a WebP image, six images, a variation\'s prompt, url, n 6: 400s naming the field; the mask\'s says why and what to send', () => {
    const webp = Buffer.concat([Buffer.from('RIFF\0\0\0\0WEBP'), Buffer.alloc(4)]);
    expect(refusal(() => invoke(nova, 'edits', [['image', PNG, 'a.png'], ['mask', PNG, 'm.png'], ['prompt', 'x']]))).toMatchObject({ status: 400, param: 'mask', message: expect.stringMatching(/transparent pixels .* no PNG decoder .* Leave mask out \(the edit is then an IMAGE_VARIATION guided by the prompt\) or use an OpenAI image model/) });
    expect(refusal(() => invoke(nova, 'edits', [['image', webp, 'a.webp'], ['prompt', 'x']]))).toMatchObject({ param: 'image', message: 'image is image/webp; Amazon Nova Canvas takes PNG or JPEG input images' });
    expect(refusal(() => invoke(nova, 'edits', [...Array.from({ length: 6 }, (): Part => ['image[]', PNG, 'a.png']), ['prompt', 'x']]))).toMatchObject({ param: 'image' });
    expect(refusal(() => invoke(nova, 'variations', [['image', PNG, 'a.png'], ['prompt', 'x']]))).toMatchObject({ param: 'prompt' });
    expect(refusal(() => invoke(titan, 'variations', [['image', PNG, 'a.png'], ['response_format', 'url']]))).toMatchObject({ param: 'response_format' });
    expect(refusal(() => invoke(titan, 'variations', [['image', PNG, 'a.png'], ['n', '6']]))).toMatchObject({ param: 'n' });
  });
});
