import { describe, expect, it } from 'vitest';
import { UnsupportedFieldError } from '../../../../lambdas/inference/providers/provider.js';
import { refuseToolMessageMedia } from '../../../../lambdas/inference/providers/tool-message-parts.js';

const body = (content: unknown) => ({ model: 'm', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'a', content }] }) as never;

describe('refuseToolMessageMedia: a chat tool message carries text only', () => {
  it('passes text (a string or text parts) and other roles\' images', () => {
    expect(() => refuseToolMessageMedia(body('3°C'), 'openai-compatible')).not.toThrow();
    expect(() => refuseToolMessageMedia(body([{ type: 'text', text: '3°C' }]), 'openai-compatible')).not.toThrow();
    expect(() => refuseToolMessageMedia({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] }] } as never, 'openai-compatible')).not.toThrow();
  });

  it.each([
    [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }, 'an image'],
    [{ type: 'file', file: { file_data: 'data:application/pdf;base64,AA==' } }, 'a file'],
  ])('refuses %j in a tool message: a 400 naming messages[i].content[j] and the provider', (part, what) => {
    let e: unknown;
    try {
      refuseToolMessageMedia(body([{ type: 'text', text: 'Chart:' }, part]), 'sagemaker');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(UnsupportedFieldError);
    const u = e as UnsupportedFieldError;
    expect(u.status).toBe(400);
    expect(u.details).toMatchObject({ code: 'unsupported_parameter', param: 'messages[2].content[1]' });
    expect(u.message).toMatch(/^messages\[2\]\.content\[1\] is not supported by the sagemaker provider: .*text only/);
    expect(u.message).toContain(what);
  });

  it('names a custom tool\'s output as a custom tool\'s (the call\'s type), and offers no Bedrock way out (Bedrock takes no custom tools); a function\'s keeps it', () => {
    const custom = { model: 'm', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'custom', custom: { name: 'plot', input: 'x' } }] }, { role: 'tool', tool_call_id: 'c', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] }] } as never;
    const message = (b: never) => {
      try {
        refuseToolMessageMedia(b, 'openai-compatible');
      } catch (x) {
        return (x as Error).message;
      }
      return '';
    };
    const refused = message(custom);
    expect(refused).toContain("a custom tool's output reaches this upstream");
    expect(refused).not.toContain("function's output");
    expect(refused).not.toContain('Bedrock');
    expect(message(body([{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }]))).toMatch(/a function's output reaches .*use a Bedrock model/);
  });
});
