/**
 * The relative links of the repository's Markdown documents, and those that reach nothing: for
 * test/unit/docs-links.test.ts, which keeps README.md and docs/*.md linked together after the
 * README was split into pages.
 *
 * A link is `[text](target)` or `![alt](target)` outside fenced code blocks and inline code spans
 * (GitHub renders neither as a link). A target with a scheme (`https:`, `mailto:`) is not checked.
 * A relative target names a file or directory relative to the document's own directory, and an
 * anchor (`#...`) must be one GitHub gives a heading of the target file (test/support/readme-headings.ts:
 * github-slugger's rule, duplicates suffixed `-1`, `-2`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { markdownHeadings, proseLines } from './readme-headings.js';

/** One relative link of a document. */
export interface RelativeLink {
  /** The link's text (or an image's alt text). */
  text: string;
  /** The target as written: `docs/gateway.md#tessera-serve`, `#terms`, `../README.md`. */
  target: string;
  /** 1-based line of the document. */
  line: number;
}

/** Column ranges [start, end) of a line's inline code spans (a run of N backticks closed by the next run of exactly N). */
function codeSpans(line: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const runs = [...line.matchAll(/`+/g)];
  for (let i = 0; i < runs.length; i++) {
    const open = runs[i]!;
    const close = runs.slice(i + 1).findIndex((run) => run[0].length === open[0].length);
    if (close === -1) continue;
    const end = runs[i + 1 + close]!;
    spans.push([open.index, end.index + end[0].length]);
    i += 1 + close;
  }
  return spans;
}

/**
 * Every link of `markdown` whose target has no scheme (no `https:`, `mailto:`...), in order.
 * Links inside fenced code blocks or inline code spans are left out; link text may contain code
 * spans (`` [`tessera serve`](#tessera-serve) ``).
 */
export function relativeLinks(markdown: string): RelativeLink[] {
  const links: RelativeLink[] = [];
  for (const { text: lineText, line } of proseLines(markdown)) {
    const spans = codeSpans(lineText);
    for (const match of lineText.matchAll(/!?\[((?:[^\]`]|`[^`]*`)*)\]\(([^)\s]+)\)/g)) {
      if (spans.some(([start, end]) => match.index >= start && match.index < end)) continue;
      const target = match[2]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      links.push({ text: match[1]!, target, line });
    }
  }
  return links;
}

/**
 * The links of the given Markdown files (paths relative to `root`) that reach nothing, each as
 * `<file>:<line>: [text](target): <why>`: a file or directory that does not exist, a path outside
 * `root`, an anchor on a file that is not Markdown, or an anchor no heading of the target has.
 * @param root the repository's root directory
 * @param files Markdown files relative to `root`, e.g. `['README.md', 'docs/gateway.md']`
 * @returns an empty array when every link resolves
 */
export function brokenLinks(root: string, files: readonly string[]): string[] {
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string): Set<string> => {
    let set = anchorsOf.get(file);
    if (!set) {
      set = new Set(markdownHeadings(readFileSync(file, 'utf8')).map((h) => h.anchor));
      anchorsOf.set(file, set);
    }
    return set;
  };
  const broken: string[] = [];
  for (const file of files) {
    const absolute = resolve(root, file);
    for (const link of relativeLinks(readFileSync(absolute, 'utf8'))) {
      const say = (why: string) => broken.push(`${file}:${link.line}: [${link.text}](${link.target}): ${why}`);
      const hash = link.target.indexOf('#');
      const path = hash === -1 ? link.target : link.target.slice(0, hash);
      const anchor = hash === -1 ? undefined : decodeURIComponent(link.target.slice(hash + 1));
      const target = path === '' ? absolute : resolve(dirname(absolute), decodeURIComponent(path));
      const fromRoot = relative(resolve(root), target);
      if (fromRoot.startsWith('..')) { say('outside the repository'); continue; }
      if (!existsSync(target)) { say(`no file ${fromRoot}`); continue; }
      if (anchor === undefined) continue;
      if (statSync(target).isDirectory() || !target.endsWith('.md')) { say(`an anchor on ${fromRoot}, which is not a Markdown file`); continue; }
      if (!anchors(target).has(anchor)) say(`no heading of ${fromRoot} has the anchor #${anchor}`);
    }
  }
  return broken;
}

/**
 * README.md, CHANGELOG.md (when the repository has one: its lines link the docs that describe each change) and every
 * docs/*.md of the repository at `root`, relative to it (docs/ in name order).
 */
export function documentationFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort();
  const changelog = existsSync(join(root, 'CHANGELOG.md')) ? ['CHANGELOG.md'] : [];
  return ['README.md', ...changelog, ...docs.map((name) => `docs/${name}`)];
}
