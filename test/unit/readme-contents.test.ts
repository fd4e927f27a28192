// README.md's Documentation index stays true: it links every `##` and `###` heading of the README
// and every page of docs/, each once; each docs page's own list ("On this page") links every `##`,
// `###` and `####` heading of that page, in order (a `####` section far below its `###` is found from
// the top); Terms follows the index. A failure prints the lines to add or fix. Whether every link reaches its target: test/unit/docs-links.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { anchorLinks, fencesInsideBlocks, githubSlug, markdownHeadings, sectionLinks } from '../support/readme-headings.js';
import { relativeLinks } from '../support/markdown-links.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const DOCS = readdirSync(new URL('../../docs/', import.meta.url)).filter((name) => name.endsWith('.md')).sort();
const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');
/** docs/ pages made from the README's sections: each opens with its list of sections ("On this page:"); pages written as pages (performance-history.md, control-tower.md) need none. */
const PAGES = DOCS.filter((name) => /^On this page:$/m.test(doc(name)));

describe('README.md: the Documentation index', () => {
  const headings = markdownHeadings(README);
  const index = sectionLinks(README, 'Documentation');
  const start = headings.find((h) => h.level === 2 && h.text === 'Documentation')!.line;
  const end = headings.find((h) => h.line > start && h.level <= 2)!.line;
  const indexText = README.split('\n').slice(start, end - 1).join('\n');

  it('lists every ## and ### heading of the README, as a link to its anchor', () => {
    const listed = new Set(index.map((link) => link.anchor));
    const missing = headings
      .filter((h) => (h.level === 2 || h.level === 3) && h.text !== 'Documentation' && !listed.has(h.anchor))
      .map((h) => `line ${h.line}: [${h.text}](#${h.anchor})`);
    expect(missing, 'README headings missing from Documentation (add them to its "This page" line)').toEqual([]);
  });

  it('links only to ## and ### headings of the README, each once', () => {
    const byAnchor = new Map(headings.map((h) => [h.anchor, h]));
    const wrong = index
      .filter((link) => ![2, 3].includes(byAnchor.get(link.anchor)?.level ?? 0))
      .map((link) => `line ${link.line}: [${link.text}](#${link.anchor})`);
    expect(wrong, 'Documentation links that name no ## or ### heading').toEqual([]);
    const anchorsListed = index.map((link) => link.anchor);
    expect(anchorsListed.filter((a, i) => anchorsListed.indexOf(a) !== i), 'listed twice').toEqual([]);
  });

  it('lists every page of docs/ once, with a line saying what it answers, and no page that does not exist', () => {
    expect(PAGES.length, 'pages made from the README').toBeGreaterThanOrEqual(10);
    const lines = indexText.split('\n').filter((l) => l.startsWith('- '));
    const pages = lines.map((l) => relativeLinks(l).map((link) => link.target)).map((targets) => targets.find((t) => t.startsWith('docs/')));
    expect(pages.filter((p, i) => p !== undefined && pages.indexOf(p) !== i), 'pages listed twice').toEqual([]);
    expect([...pages].sort(), 'docs/ pages, one index line each').toEqual(DOCS.map((name) => `docs/${name}`));
    const bare = lines.filter((l) => !/\]\(docs\/[\w-]+\.md\),? .{20,}/.test(l));
    expect(bare, 'index lines without a description after the link').toEqual([]);
  });
});

describe.each(PAGES)('docs/%s: its list of sections', (name) => {
  it('links every ##, ### and #### heading of the page, in order, and nothing else, before its first section', () => {
    const text = doc(name);
    const headings = markdownHeadings(text);
    expect(headings[0]?.level, 'the page opens with a # title').toBe(1);
    const first = headings.find((h) => h.level > 1)!.line;
    const listed = anchorLinks(text).filter((link) => link.line < first).map((link) => link.anchor);
    const expected = headings.filter((h) => h.level >= 2 && h.level <= 4).map((h) => h.anchor);
    expect(listed, `docs/${name}: the list under its title`).toEqual(expected);
  });
});

describe('README.md: Terms', () => {
  it('comes right after Documentation, stays under 40 lines, and sends each term to the section that explains it', () => {
    const headings = markdownHeadings(README);
    const level2 = headings.filter((h) => h.level === 2).map((h) => h.text);
    expect(level2[level2.indexOf('Documentation') + 1], 'the ## heading after Documentation').toBe('Terms');
    const lines = README.split('\n');
    const start = headings.find((h) => h.level === 2 && h.text === 'Terms')!.line;
    const end = headings.find((h) => h.line > start && h.level <= 2)!.line;
    expect(end - start, 'lines from ## Terms to the next ## heading').toBeLessThan(40);
    const links = relativeLinks(lines.slice(start, end - 1).join('\n')).map((link) => ({ ...link, line: link.line + start }));
    const entries = lines.slice(start, end - 1).map((text, i) => ({ text, line: start + 1 + i })).filter((l) => l.text.startsWith('- **'));
    expect(entries.length, 'terms defined').toBeGreaterThanOrEqual(10);
    const unlinked = entries.filter((e) => !links.some((link) => link.line === e.line)).map((e) => `line ${e.line}: ${e.text.slice(0, 60)}`);
    expect(unlinked, 'terms with no link to a section').toEqual([]);
  });
});

describe('README.md and docs/*.md: code fences', () => {
  it.each(['README.md', ...DOCS.map((name) => `docs/${name}`)])('%s pairs them up: no fence with an info string (```ts) inside a code block', (file) => {
    const text = file === 'README.md' ? README : doc(file.slice('docs/'.length));
    const stray = fencesInsideBlocks(text).map((f) => `line ${f.line}: ${f.text}`);
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
