// README.md's Contents stays true: every link in it names a heading, every `##` and `###` heading
// is in it, and every in-page link of the README (`[text](#anchor)`) reaches a heading. A failure
// prints the lines to add or fix.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { anchorLinks, fencesInsideBlocks, githubSlug, markdownHeadings, sectionLinks } from '../support/readme-headings.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README.md: Contents and in-page links', () => {
  const headings = markdownHeadings(README);
  const anchors = new Set(headings.map((h) => h.anchor));
  const contents = sectionLinks(README, 'Contents');

  it('lists every ## and ### heading in Contents, as a link to its anchor', () => {
    const listed = new Set(contents.map((link) => link.anchor));
    const missing = headings
      .filter((h) => (h.level === 2 || h.level === 3) && h.text !== 'Contents' && !listed.has(h.anchor))
      .map((h) => `line ${h.line}: ${h.level === 3 ? '  ' : ''}- [${h.text}](#${h.anchor})`);
    expect(missing, 'headings missing from Contents (add these lines)').toEqual([]);
  });

  it('links only to ## and ### headings from Contents, each once', () => {
    const byAnchor = new Map(headings.map((h) => [h.anchor, h]));
    const wrong = contents
      .filter((link) => ![2, 3].includes(byAnchor.get(link.anchor)?.level ?? 0))
      .map((link) => `line ${link.line}: [${link.text}](#${link.anchor})`);
    expect(wrong, 'Contents links that name no ## or ### heading').toEqual([]);
    const anchorsListed = contents.map((link) => link.anchor);
    expect(anchorsListed.filter((a, i) => anchorsListed.indexOf(a) !== i), 'listed twice').toEqual([]);
  });

  it('resolves every [text](#anchor) link of the README to a heading', () => {
    const broken = anchorLinks(README)
      .filter((link) => !anchors.has(link.anchor))
      .map((link) => `line ${link.line}: [${link.text}](#${link.anchor})`);
    expect(broken, 'in-page links whose anchor no heading has').toEqual([]);
  });

  it('resolves every [text](#anchor) link of docs/performance-history.md to one of its headings', () => {
    const history = readFileSync(new URL('../../docs/performance-history.md', import.meta.url), 'utf8');
    const historyAnchors = new Set(markdownHeadings(history).map((h) => h.anchor));
    const broken = anchorLinks(history)
      .filter((link) => !historyAnchors.has(link.anchor))
      .map((link) => `line ${link.line}: [${link.text}](#${link.anchor})`);
    expect(broken, 'in-page links of docs/performance-history.md whose anchor no heading has').toEqual([]);
  });

  it('resolves every [text](<file>.md#anchor) link of the README to a heading of that file', () => {
    const broken = [...README.matchAll(/\]\(([\w./-]+\.md)(?:#([^)\s]*))?\)/g)].flatMap(([link, file, anchor]) => {
      const url = new URL(`../../${file}`, import.meta.url);
      if (!existsSync(url)) return [`${link}: no file ${file}`];
      const fileAnchors = new Set(markdownHeadings(readFileSync(url, 'utf8')).map((h) => h.anchor));
      return anchor === undefined || fileAnchors.has(anchor) ? [] : [`${link}: no heading of ${file} has the anchor ${anchor}`];
    });
    expect(broken, 'links to other Markdown files of the repository').toEqual([]);
  });
});

describe('README.md: Terms', () => {
  it('comes right after Contents, stays under 40 lines, and sends each term to the section that explains it', () => {
    const headings = markdownHeadings(README);
    const level2 = headings.filter((h) => h.level === 2).map((h) => h.text);
    expect(level2[level2.indexOf('Contents') + 1], 'the ## heading after Contents').toBe('Terms');
    const lines = README.split('\n');
    const start = headings.find((h) => h.level === 2 && h.text === 'Terms')!.line;
    const end = headings.find((h) => h.line > start && h.level <= 2)!.line;
    expect(end - start, 'lines from ## Terms to the next ## heading').toBeLessThan(40);
    const links = sectionLinks(README, 'Terms');
    const entries = lines.slice(start, end - 1).map((text, i) => ({ text, line: start + 1 + i })).filter((l) => l.text.startsWith('- **'));
    expect(entries.length, 'terms defined').toBeGreaterThanOrEqual(10);
    const unlinked = entries.filter((e) => !links.some((link) => link.line === e.line)).map((e) => `line ${e.line}: ${e.text.slice(0, 60)}`);
    expect(unlinked, 'terms with no link to a section').toEqual([]);
  });
});

describe('README.md: code fences', () => {
  it('pairs them up: no fence with an info string (```ts) inside a code block', () => {
    const stray = fencesInsideBlocks(README).map((f) => `line ${f.line}: ${f.text}`);
    expect(stray, 'a code block opened here is inside another: a fence before it is missing or stray').toEqual([]);
  });
});

describe('GitHub anchors of headings', () => {
  it('lower-cases, drops punctuation and backticks, and makes each space a hyphen', () => {
    expect(githubSlug('`tessera serve`')).toBe('tessera-serve');
    expect(githubSlug("Room in TesseraPlatform (CloudFormation's 500 resources)")).toBe('room-in-tesseraplatform-cloudformations-500-resources');
    expect(githubSlug('Embeddings: `POST /v1/embeddings`')).toBe('embeddings-post-v1embeddings');
    expect(githubSlug('3. Organization, then platform')).toBe('3-organization-then-platform');
    expect(githubSlug('Upgrades that cannot destroy data — and drift')).toBe('upgrades-that-cannot-destroy-data--and-drift');
    expect(githubSlug('A tenant admin\'s own keys: `/v1/tenant/keys`')).toBe('a-tenant-admins-own-keys-v1tenantkeys');
    expect(githubSlug('snake_case [a link](https://example.com)')).toBe('snake_case-a-link');
  });

  it('suffixes repeated headings -1, -2 in document order, and skips headings inside code blocks', () => {
    const doc = ['# T', '## Tests', '```bash', '## Tests', '```', '### Tests', '#### Tests', '~~~', '# not a heading', '~~~'].join('\n');
    expect(markdownHeadings(doc).map((h) => h.anchor)).toEqual(['t', 'tests', 'tests-1', 'tests-2']);
  });

  it('finds an opening fence inside a block, and none in balanced blocks', () => {
    expect(fencesInsideBlocks(['```bash', 'a', '```', '```ts', 'b', '```'].join('\n'))).toEqual([]);
    expect(fencesInsideBlocks(['text', '```', '```ts', 'b', '```'].join('\n')).map((f) => f.line)).toEqual([3]);
  });

  it('reads the links of one ## section only', () => {
    const doc = ['## Contents', '- [A](#a)', '  - [B](#b)', '## A', 'see [B](#b)', '### B'].join('\n');
    expect(sectionLinks(doc, 'Contents').map((l) => l.anchor)).toEqual(['a', 'b']);
    expect(anchorLinks(doc).map((l) => l.anchor)).toEqual(['a', 'b', 'b']);
  });
});
