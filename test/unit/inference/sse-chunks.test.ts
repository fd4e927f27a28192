import { describe, expect, it } from 'vitest';
import { sseChunks } from '../../../lambdas/inference/providers/sse-chunks.js';

async function* bytes(...texts: string[]) {
  for (const t of texts) yield new TextEncoder().encode(t);
}

describe('sseChunks', () => {
  it('reports keep-alive comments as signs of life and yields only the data events', async () => {
    let comments = 0;
    const out = [];
    for await (const c of sseChunks(bytes(': keep-alive\n\n', ': keep-alive\n\n', 'data: {"choices":[]}\n\n', 'data: [DONE]\n\n'), 'test', () => comments++)) out.push(c);
    expect(comments).toBe(2);
    expect(out).toEqual([{ choices: [] }]);
  });
});
