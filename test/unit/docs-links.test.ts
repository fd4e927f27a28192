// README.md and docs/*.md stay linked together: every relative link (outside code) reaches a file
// of the repository, and every anchor one of GitHub's heading anchors in its target. The README was
// split into docs/ pages, so a section moving between pages, or a heading renamed, breaks links in
// other files; a failure names the file, the line, the link and why.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { brokenLinks, documentationFiles, relativeLinks } from '../support/markdown-links.js';
import { tempDir } from '../support/temp-dirs.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('README.md and docs/*.md: relative links and anchors', () => {
  const files = documentationFiles(ROOT);

  it('are checked in README.md and the docs pages', () => {
    expect(files[0]).toBe('README.md');
    expect(files).toContain('docs/gateway.md');
    expect(files).toContain('docs/performance-history.md');
    expect(files, 'the changelog links the doc of each change').toContain('CHANGELOG.md');
    expect(files.reduce((n, file) => n + relativeLinks(readFileSync(join(ROOT, file), 'utf8')).length, 0), 'links found').toBeGreaterThan(100);
  });

  it('each reach an existing file, and a heading of it when they name an anchor', () => {
    expect(brokenLinks(ROOT, files), 'links that reach nothing').toEqual([]);
  });
});

describe('brokenLinks', () => {
  it('names a missing file, a missing anchor, an anchor on a non-Markdown file and a path outside the root; skips code and URLs', () => {
    const root = tempDir('tessera-test-docs-links-');
    mkdirSync(join(root, 'docs'));
    mkdirSync(join(root, 'lib'));
    writeFileSync(join(root, 'lib', 'a.ts'), '');
    writeFileSync(join(root, 'README.md'), [
      '# Title', '## Tests', '### Tests', '## Room (500 resources)',
      '[ok](#tests-1) [ok](docs/page.md#deep-dive) [ok](lib/a.ts) [ok](docs/) [ok](https://example.com/#x) [`code` ok](#title)',
      '[gone](docs/missing.md) [bad anchor](#tests-2) [not md](lib/a.ts#x) [outside](../x.md)',
      '```md', '[in a block](#nowhere)', '```', 'inline `[in code](#nowhere)` is no link',
    ].join('\n'));
    writeFileSync(join(root, 'docs', 'page.md'), ['# Page', '## Deep dive', '[back](../README.md#room-500-resources) [wrong](../README.md#room)'].join('\n'));
    expect(brokenLinks(root, ['README.md', 'docs/page.md'])).toEqual([
      'README.md:6: [gone](docs/missing.md): no file docs/missing.md',
      'README.md:6: [bad anchor](#tests-2): no heading of README.md has the anchor #tests-2',
      'README.md:6: [not md](lib/a.ts#x): an anchor on lib/a.ts, which is not a Markdown file',
      'README.md:6: [outside](../x.md): outside the repository',
      'docs/page.md:3: [wrong](../README.md#room): no heading of README.md has the anchor #room',
    ]);
  });
});
