/**
 * The headings of a Markdown document and the anchors GitHub gives them, for the documentation
 * index check (test/unit/readme-contents.test.ts) and the link check (test/unit/docs-links.test.ts).
 *
 * Own code rather than a library: no Markdown parser or slugger is among the project's dependencies,
 * and the check needs only ATX headings outside fenced code blocks and GitHub's slug rule
 * (github-slugger: lower-case, every character that is not a letter, mark, number, connector
 * punctuation such as `_`, space or hyphen dropped, each space a hyphen, a repeated slug given
 * `-1`, `-2`... in document order).
 */

/** One ATX heading (`## Text`) outside fenced code blocks. */
export interface Heading {
  /** 1 for `#` ... 6 for `######`. */
  level: number;
  /** The heading's Markdown text, without the leading hashes (inline code kept with its backticks). */
  text: string;
  /** GitHub's anchor for it, duplicate suffix included (`tests-1` for the second `Tests`). */
  anchor: string;
  /** 1-based line number. */
  line: number;
}

/** One `[text](#anchor)` link to a place in the same document. */
export interface AnchorLink {
  text: string;
  anchor: string;
  line: number;
}

/**
 * GitHub's slug of a heading's text, before any duplicate suffix: `Embeddings: \`POST /v1/embeddings\``
 * gives `embeddings-post-v1embeddings`. A Markdown link keeps only its text.
 */
export function githubSlug(text: string): string {
  return text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/**
 * The lines of `markdown` outside fenced code blocks (``` or ~~~, three or more, closed by a fence
 * of the same character at least as long), with their 1-based numbers.
 */
export function proseLines(markdown: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(text)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && text.trim() === marker) fence = undefined;
      return;
    }
    if (marker) {
      fence = marker;
      return;
    }
    out.push({ text, line: index + 1 });
  });
  return out;
}

/**
 * Lines inside a fenced code block that look like the opening fence of another (a fence with an
 * info string, such as ```ts): the sign of a stray or missing fence before them, which turns the
 * rest of the document inside out (prose rendered as code, headings lost).
 */
export function fencesInsideBlocks(markdown: string): Array<{ text: string; line: number }> {
  const found: Array<{ text: string; line: number }> = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const match = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(text);
    if (!match) return;
    const [, marker, info] = match as unknown as [string, string, string];
    if (!fence) fence = marker;
    else if (marker[0] === fence[0] && marker.length >= fence.length && info.trim() === '') fence = undefined;
    else if (info.trim() !== '') found.push({ text, line: index + 1 });
  });
  return found;
}

/** Every ATX heading of `markdown` outside code blocks, in order, with GitHub's anchors. */
export function markdownHeadings(markdown: string): Heading[] {
  const seen = new Map<string, number>();
  const headings: Heading[] = [];
  for (const { text: lineText, line } of proseLines(markdown)) {
    const match = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(lineText);
    if (!match) continue;
    const text = match[2]!;
    const slug = githubSlug(text);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    headings.push({ level: match[1]!.length, text, anchor: count === 0 ? slug : `${slug}-${count}`, line });
  }
  return headings;
}

/** Every `[text](#anchor)` link of `markdown` outside code blocks (inline code spans included: rare, and harmless to check). */
export function anchorLinks(markdown: string): AnchorLink[] {
  const links: AnchorLink[] = [];
  for (const { text: lineText, line } of proseLines(markdown)) {
    for (const match of lineText.matchAll(/\[((?:[^\]`]|`[^`]*`)*)\]\(#([^)\s]*)\)/g)) {
      links.push({ text: match[1]!, anchor: match[2]!, line });
    }
  }
  return links;
}

/**
 * The links of the section headed `## <title>` (up to the next `#` or `##` heading), as listed.
 * @throws Error when there is no such section.
 */
export function sectionLinks(markdown: string, title: string): AnchorLink[] {
  const headings = markdownHeadings(markdown);
  const start = headings.find((h) => h.level === 2 && h.text === title);
  if (!start) throw new Error(`no "## ${title}" heading`);
  const end = headings.find((h) => h.line > start.line && h.level <= 2)?.line ?? Number.POSITIVE_INFINITY;
  return anchorLinks(markdown).filter((link) => link.line > start.line && link.line < end);
}
