import { describe, expect, it } from 'vitest';
import { citationMarker, citedText, fileSearchCallMessages, resultsForModel, type FileSearchResult } from '../../../../lambdas/inference/responses/file-search.js';

/**
 * The file_search tool's citations (responses/file-search.ts): the results given to the model numbered across a
 * response's searches, each with its marker; the answer's markers taken out and made OpenAI `file_citation`
 * annotations at the place they stood (`index` in code points of the text without them).
 */
const result = (n: number): FileSearchResult => ({ file_id: `file-${String(n).padStart(24, '0')}`, filename: `f${n}.md`, score: 0.5, attributes: null, text: `text ${n}` });
const [a, b, c] = [result(1), result(2), result(3)];

describe('resultsForModel', () => {
  it('numbers the sources from `first` with their markers and says how to cite; an earlier turn\'s results have no markers', () => {
    const second = resultsForModel([c], 3);
    expect(second).toContain(`<source index="3" marker="${citationMarker(3)}" filename="f3.md" file_id="${c.file_id}"`);
    expect(second).toMatch(/write its marker right after the statement it supports/);
    const context = fileSearchCallMessages({ id: 'fs_1', queries: ['q'], results: [a] }, 'input[0]')[1].content as string;
    expect(context).toContain('<source index="1" filename="f1.md"');
    expect(context).not.toContain('\u3010');
  });
});

describe('citedText', () => {
  it('takes each marker of a source out of the text and cites its file where it stood, in code points', () => {
    const text = `Refunds take 14 days ${citationMarker(1)}; shipping 3 😀 days${citationMarker(3)}${citationMarker(2)}.`;
    const out = citedText(text, [a, b, c]);
    expect(out.text).toBe('Refunds take 14 days ; shipping 3 😀 days.');
    const at = (s: string) => [...s].length;
    expect(out.annotations).toEqual([
      { type: 'file_citation', file_id: a.file_id, filename: 'f1.md', index: at('Refunds take 14 days ') },
      { type: 'file_citation', file_id: c.file_id, filename: 'f3.md', index: at('Refunds take 14 days ; shipping 3 😀 days') },
      { type: 'file_citation', file_id: b.file_id, filename: 'f2.md', index: at('Refunds take 14 days ; shipping 3 😀 days') },
    ]);
    // 😀 is two UTF-16 units but one code point: the index counts it once.
    expect(out.annotations[1]!.index).toBe('Refunds take 14 days ; shipping 3 😀 days'.length - 1);
  });

  it('leaves a marker of no source (0, past the sources) and other brackets as written, guessing nothing', () => {
    const text = `a ${citationMarker(0)} b ${citationMarker(4)} c [1] 【x】`;
    expect(citedText(text, [a, b, c])).toEqual({ text, annotations: [] });
    expect(citedText(`x${citationMarker(1)}`, [])).toEqual({ text: `x${citationMarker(1)}`, annotations: [] });
  });
});
