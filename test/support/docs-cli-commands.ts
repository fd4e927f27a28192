/**
 * The `tessera ...` commands and `npm run <script>` lines of the repository's Markdown documents, and what is wrong with
 * them against the CLI as built (lib/cli/program.ts tesseraProgram) and package.json's scripts: for
 * test/unit/docs-cli-commands.test.ts. A renamed flag, a subcommand that never existed or a required option left out
 * stayed in the docs unnoticed (a new user found `tessera tenants failover-plan <id>` documented without the `--config`
 * it requires).
 *
 * Where a command is found:
 * - in a fenced code block: a shell command line (after a `$ ` prompt when the block has prompts, else any line), joined
 *   over `\` line continuations, split at `|`, `&&`, `;`, `$(`...`)` and redirections, each part that runs `tessera`
 *   (after `VAR=value` assignments and `npx`; or `node bin/tessera.mjs`); `# comments` and output lines are left out;
 * - in an inline code span (which may wrap onto the next line) that begins with such a command: there ` | ` before an
 *   option separates alternatives (`--tier <tier> | --repair`), before anything else it is a pipe.
 * Tokens are read as a shell reads them (quotes removed); `<placeholders>` (even with spaces) are one word; `[...]`
 * brackets of optional parts are dropped; `…`, `...` or `<flags>` stands for words left out; `a|b|c` is a choice of
 * words (`--a|--b` and `--a/--b` of flags).
 */
import type { Command, Option } from 'commander';

/** One `tessera` command found in a document. */
export interface DocCommand {
  /** The document, relative to the repository root (`docs/gateway.md`). */
  file: string;
  /** 1-based line where the command begins. */
  line: number;
  /** The command's words after `tessera`, quotes removed. */
  words: string[];
  /** `block`: a command line of a fenced code block; `inline`: an inline code span (a mention, maybe of one flag). */
  kind: 'block' | 'inline';
  /** The command as written (whitespace collapsed), for messages. */
  text: string;
  /** A block command shown exiting non-zero (a `# exit 2` comment, an `(exit 2)` or `exit 1` output line): a refusal shown on purpose, not checked. */
  refused?: boolean;
}

/** One `npm run <script>` found in a document. */
export interface DocScript {
  file: string;
  line: number;
  script: string;
}

type Token = { word: string } | { op: string };

/**
 * The shell tokens of `text`: words (quotes removed; a `<placeholder>` one word even with spaces in it) and operators
 * (`|`, `||`, `&&`, `;`, `&`, `$(`, `)`, redirections). Reading stops at an unquoted `#` that begins a word (a comment).
 * `a|b` with no space is one word (a choice, in docs), as `$(...)` inside double quotes is part of the quoted word.
 */
export function shellTokens(text: string): Token[] {
  const tokens: Token[] = [];
  let word = '';
  let inWord = false;
  const end = () => {
    if (inWord) tokens.push({ word });
    word = '';
    inWord = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      end();
      continue;
    }
    if (c === '#' && !inWord) break;
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      const stop = close === -1 ? text.length : close;
      word += text.slice(i + 1, stop);
      inWord = true;
      i = stop;
      continue;
    }
    if (c === '"') {
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '\\') { word += text[++j] ?? ''; continue; }
        if (text.startsWith('$(', j)) depth++;
        else if (text[j] === ')' && depth > 0) depth--;
        else if (text[j] === '"' && depth === 0) break;
        word += text[j];
      }
      inWord = true;
      i = j;
      continue;
    }
    if (c === '<' && /[^\s<>]/.test(text[i + 1] ?? ' ')) {
      const close = text.indexOf('>', i + 1);
      if (close !== -1) {
        word += text.slice(i, close + 1);
        inWord = true;
        i = close;
        continue;
      }
    }
    if (text.startsWith('$(', i)) {
      end();
      tokens.push({ op: '$(' });
      i++;
      continue;
    }
    const spaced = (at: number) => at < 0 || at >= text.length || /\s/.test(text[at]!);
    const op = ['&&', '||', '>>', ';', ')', '&', '<', '>', '|'].find((o) => text.startsWith(o, i));
    if (op === '|' && !(spaced(i - 1) || spaced(i + 1))) {
      word += c;
      inWord = true;
      continue;
    }
    if (op === '>' && /^\d+$/.test(word)) {
      word = '';
      inWord = false;
    }
    if (op) {
      end();
      tokens.push({ op });
      i += op.length - 1;
      continue;
    }
    if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
      continue;
    }
    word += c;
    inWord = true;
  }
  end();
  return tokens;
}

/**
 * The `tessera` commands of one shell text: each run of words between operators that begins (after `VAR=value`
 * assignments and `npx`) with `tessera`, as its words after `tessera`. A redirection ends its command (its file is no
 * argument). With `alternatives` (inline code), ` | ` followed by an option joins the two sides as one command.
 */
export function tesseraCommandsOf(text: string, alternatives = false): string[][] {
  const tokens = shellTokens(text);
  const commands: string[][] = [];
  let current: string[] = [];
  let redirected = false;
  const flush = () => {
    let words = current;
    while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words = words.slice(1);
    if (words[0] === 'npx') words = words.slice(1);
    // `node bin/tessera.mjs ...` (or node_modules/.bin/node): the CLI run without npx
    if (/(?:^|\/)node$/.test(words[0] ?? '') && /(?:^|\/)bin\/tessera\.mjs$/.test(words[1] ?? '')) words = ['tessera', ...words.slice(2)];
    if (words[0] === 'tessera') commands.push(words.slice(1));
    current = [];
    redirected = false;
  };
  tokens.forEach((token, i) => {
    if ('word' in token) {
      if (!redirected) current.push(token.word);
      else redirected = false; // the redirection's file; words after it are the command's again (rare), left out
      return;
    }
    const next = tokens[i + 1];
    if (alternatives && token.op === '|' && next && 'word' in next && next.word.startsWith('-')) return;
    if (['<', '>', '>>'].includes(token.op)) {
      redirected = true;
      return;
    }
    flush();
  });
  flush();
  return commands;
}

/** Inline code spans of `text` (fenced blocks already blanked; a span may wrap within its paragraph): content with whitespace collapsed, and the 1-based line where each begins. */
function inlineSpans(text: string): Array<{ content: string; line: number }> {
  const spans: Array<{ content: string; line: number }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.includes('`')) continue;
    let j = i;
    while (j + 1 < lines.length && lines[j + 1]!.trim() !== '') j++;
    const paragraph = lines.slice(i, j + 1).join('\n');
    for (const m of paragraph.matchAll(/(?<!`)(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g)) {
      let line = i + 1;
      for (let k = paragraph.indexOf('\n'); k !== -1 && k < m.index; k = paragraph.indexOf('\n', k + 1)) line++;
      spans.push({ content: m[2]!.replace(/\s+/g, ' ').trim(), line });
    }
    i = j;
  }
  return spans;
}

type Block = Array<{ text: string; line: number }> & { info?: string };

/** The lines of `markdown`'s fenced code blocks, by block (with the fence's info string: `text`, `bash`), and the text with those blocks blanked. */
function splitFences(markdown: string): { blocks: Block[]; prose: string } {
  const blocks: Block[] = [];
  const prose: string[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(text)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && text.trim() === marker) fence = undefined;
      else blocks[blocks.length - 1]!.push({ text, line: index + 1 });
      prose.push('');
      return;
    }
    if (marker) {
      fence = marker;
      blocks.push(Object.assign([], { info: text.trim().slice(marker.length).trim().split(/\s/)[0] }));
      prose.push('');
      return;
    }
    prose.push(text);
  });
  return { blocks, prose: prose.join('\n') };
}

/**
 * Every `tessera` command of one Markdown document: the command lines of its fenced code blocks and its inline code
 * spans that begin with a command (see the module's comment for what counts).
 * @param file the document's path, for the results
 * @param markdown the document's text
 * @param subcommands the subcommands of each command group (`{ tenants: ['create', ...] }`): an inline span that begins
 *   with a group and one of its subcommands (`tenants failover-plan <id>`) is a command too, with `tessera` left out
 */
export function docCommands(file: string, markdown: string, subcommands?: Record<string, readonly string[]>): DocCommand[] {
  const found: DocCommand[] = [];
  const { blocks, prose } = splitFences(markdown);
  for (const block of blocks) {
    const prompted = block.some((l) => /^\s*\$ /.test(l.text));
    // A ```text block without prompts is output (`tessera gateway on http://...`), not commands.
    if (!prompted && block.info === 'text') continue;
    for (let i = 0; i < block.length; i++) {
      const start = block[i]!;
      let text = start.text;
      while (/\\\s*$/.test(text) && i + 1 < block.length) text = text.replace(/\\\s*$/, ' ') + block[++i]!.text;
      const prompt = /^\s*\$ (.*)$/.exec(text);
      if (prompted && !prompt) continue;
      const line = prompt ? prompt[1]! : text;
      // `$ tessera tenant list   # exit 2`, or an output line `(exit 2)` / `exit 1` before the next prompt: a refusal shown on purpose.
      let output = i + 1;
      while (prompted && output < block.length && !/^\s*\$ /.test(block[output]!.text)) output++;
      const exits = block.slice(i + 1, output).some((l) => /^\s*\(?exit [1-9]\d*\)?\s*$/.test(l.text));
      const refused = /#\s*exit [1-9]/.test(line) || exits || undefined;
      for (const words of tesseraCommandsOf(line)) {
        found.push({ file, line: start.line, words, kind: 'block', text: ['tessera', ...words].join(' '), ...(refused && { refused }) });
      }
    }
  }
  for (const span of inlineSpans(prose)) {
    let content = span.content.replace(/^\$ /, '');
    // `tenants failover-plan <id>`: a group's subcommand named without `tessera` (checked as `tessera tenants ...`)
    const group = /^([a-z-]+) ([a-z-]+)\b/.exec(content);
    if (group && subcommands?.[group[1]!]?.includes(group[2]!)) content = `tessera ${content}`;
    if (!/^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:npx tessera|tessera|\S*node bin\/tessera\.mjs) /.test(content)) continue;
    const [words] = tesseraCommandsOf(content, true);
    if (words) found.push({ file, line: span.line, words, kind: 'inline', text: content });
  }
  return found.sort((a, b) => a.line - b.line);
}

/** Every `npm run <script>` of one Markdown document (prose, inline code and code blocks alike; an inline span may wrap). */
export function docScripts(file: string, markdown: string): DocScript[] {
  const lineStarts = [...markdown.matchAll(/\n/g)].map((m) => m.index);
  return [...markdown.matchAll(/\bnpm\s+run\s+([A-Za-z0-9][\w:.-]*)/g)].map((m) => ({
    file,
    line: 1 + lineStarts.filter((at) => at < m.index).length,
    script: m[1]!.replace(/[.:]+$/, ''),
  }));
}

/** The options `command` accepts: its own and its ancestors' (commander reads a parent's options after a subcommand too), by flag. */
function optionsOf(command: Command): Map<string, Option> {
  const options = new Map<string, Option>();
  for (let c: Command | null = command; c; c = c.parent) {
    for (const option of c.options) {
      for (const flag of [option.long, option.short]) if (flag && !options.has(flag)) options.set(flag, option);
    }
  }
  return options;
}

const HELP = new Set(['-h', '--help']);
const ELIDED = new Set(['…', '...']);
/** `<flags>`, `<options>`: a placeholder for options left out, as `…` is. */
const elidedPlaceholder = (word: string) => /^<(?:flags|options|args)>$/.test(word);
/** Optional-part brackets around a word: `[--json]`, `[<id>]`, `[--role R]`. */
const unbracket = (word: string) => word.replace(/^\[+/, '').replace(/\]+$/, '');
/** `--profile` given before the command is moved after it (program.ts withProfileAfterCommand): a value option there. */
const PROFILE = '--profile';

/**
 * What is wrong with one documented command, against `program` (tesseraProgram()): each problem as one sentence.
 * - the command path must exist (`tessera tenants drift`): a word where a subcommand is expected must name one
 *   (`a|b` names several: each is checked, and the words after it are not);
 * - every `--flag`/`-x` must be an option of the command or of an ancestor (the program's global options, and
 *   `--profile` before the command when the command takes it), `-h`/`--help` always;
 * - a flag that takes no value must not be given one (`--json=x`, or a word after it the command has no argument for);
 *   a flag that takes a value must have one: refused when an option follows, and at the end of a block command (an
 *   inline mention may name a flag alone: `--blueprint-version`);
 * - a value of an option with choices (`--role`, `--by`) must be one of them, unless it stands for one (`<role>`, `$R`);
 * - the required options of the command (commander's requiredOption) must be present in a full example: a block
 *   command, or an inline one that gives every required argument or two or more flags; and a block command must give
 *   the command's required arguments; neither in `--help` runs nor in a command with `…` or `<flags>` in place of words.
 * A block command shown failing on purpose (`# exit 2`, `(exit 2)`) is not checked.
 * @param program the whole program, as `await tesseraProgram()` builds it
 * @param doc the command's words after `tessera`, and where it was found (an inline mention is held to less)
 * @returns the problems, each naming the flag, word or value and the command; empty when the command is as the CLI takes it
 */
export function commandProblems(program: Command, doc: Pick<DocCommand, 'words' | 'kind' | 'refused'>): string[] {
  const problems: string[] = [];
  if (doc.refused) return problems;
  // `--watch|--follow`, `--name/--admin-email`: a choice of flags, each checked
  const choices = new Set<string>();
  const words = doc.words.map(unbracket).flatMap((w) => {
    if (!/^-[^=]*[|/]-/.test(w)) return [w];
    const flags = w.split(/[|/]/);
    flags.forEach((f) => choices.add(f));
    return flags;
  }).filter((w) => w !== '');
  let command = program;
  let pathDone = false;
  let choice = false;
  const positionals: string[] = [];
  const given: Array<{ flag: string; value?: string; next?: string; at: number }> = [];
  let elided = false;
  let endOfOptions = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (ELIDED.has(word) || elidedPlaceholder(word)) {
      elided = true;
      continue;
    }
    if (!endOfOptions && word === '--') {
      endOfOptions = true;
      continue;
    }
    if (!endOfOptions && word.startsWith('-') && word !== '-') {
      const [flag, value] = word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, undefined];
      const option = optionsOf(command).get(flag);
      // an unknown flag (reported below) is read as taking the word after it, so that word is not reported too
      const takesValue = option ? option.required || option.optional : true;
      const next = words[i + 1];
      if (choices.has(flag)) {
        given.push({ flag, at: i }); // named as one of a choice: its value is not looked for
        continue;
      }
      given.push({ flag, value: value ?? (takesValue && next !== undefined && !nextIsOptionOf(command, option, next) ? next : undefined), next: value === undefined && takesValue ? next : undefined, at: i });
      if (takesValue && value === undefined && next !== undefined && !nextIsOptionOf(command, option, next)) i++;
      continue;
    }
    if (!pathDone && command.commands.length && !choice) {
      if (word === 'help') return problems; // tessera help <command>: commander's own
      const names = word.split('|');
      const subs = names.map((n) => command.commands.find((c) => c.name() === n || c.aliases().includes(n)));
      const missing = names.filter((_, k) => !subs[k]);
      if (missing.length) {
        const path = commandPath(command);
        problems.push(`${path} has no subcommand ${missing.map((m) => `'${m}'`).join(', ')} (it has: ${command.commands.map((c) => c.name()).join(', ')})`);
        return problems;
      }
      if (names.length > 1) {
        choice = true; // several subcommands named: the words after them are not checked against any one
        return problems;
      }
      command = subs[0]!;
      continue;
    }
    pathDone = true;
    positionals.push(word);
  }
  const options = optionsOf(command);
  const path = commandPath(command);
  const takesProfileBefore = options.has(PROFILE);
  let valueless = false;
  for (const { flag, value, next } of given) {
    if (HELP.has(flag)) continue;
    const option = options.get(flag);
    if (!option) {
      if (flag === PROFILE && takesProfileBefore) continue;
      problems.push(`${flag} is no option of ${path}${flag === PROFILE ? ' (it makes no AWS call)' : ''}`);
      continue;
    }
    const takesValue = option.required || option.optional;
    if (takesValue && value !== undefined && option.argChoices && !standsForValue(value) && !option.argChoices.includes(value)) {
      problems.push(`${flag} of ${path} is one of ${option.argChoices.join(', ')} (given '${value}')`);
    }
    if (!takesValue && value !== undefined) problems.push(`${flag} of ${path} takes no value (given '${value}')`);
    if (option.required && value === undefined && !choices.has(flag)) {
      if (next !== undefined && options.has(next.split('=')[0]!)) problems.push(`${flag} of ${path} takes a value (${option.flags}), followed by the option ${next}`);
      else if (next === undefined && doc.kind === 'block' && !elided) problems.push(`${flag} of ${path} takes a value (${option.flags}), given none`);
    }
  }
  const asksHelp = given.some((g) => HELP.has(g.flag));
  if (command.commands.length === 0 && !asksHelp) {
    const declared = command.registeredArguments;
    const variadic = declared.some((a) => a.variadic);
    if (!variadic && positionals.length > declared.length) {
      const extra = positionals.slice(declared.length);
      const before = given.filter((g) => !g.value && !(options.get(g.flag)?.required || options.get(g.flag)?.optional)).map((g) => g.flag);
      problems.push(`${path} takes ${declared.length ? `only ${declared.map((a) => `<${a.name()}>`).join(' ')}` : 'no argument'}: unexpected ${extra.map((e) => `'${e}'`).join(' ')}${before.length ? ` (does one of ${before.join(', ')} take a value?)` : ''}`);
      valueless = true;
    }
    const requiredArgs = declared.filter((a) => a.required).length;
    if (doc.kind === 'block' && !elided && positionals.length < requiredArgs) {
      problems.push(`${path} requires ${declared.filter((a) => a.required).slice(positionals.length).map((a) => `<${a.name()}>`).join(' ')}, missing here`);
    }
    const full = doc.kind === 'block' || (requiredArgs > 0 && positionals.length >= requiredArgs) || new Set(given.map((g) => g.flag)).size >= 2;
    if (full && !elided && !valueless) {
      const present = new Set(given.map((g) => options.get(g.flag)).filter(Boolean));
      const absent = [...options.values()].filter((o, k, all) => o.mandatory && all.indexOf(o) === k && !present.has(o));
      if (absent.length) problems.push(`${path} requires ${absent.map((o) => o.flags).join(', ')}, missing here`);
    }
  }
  return problems;
}

/**
 * Whether `next`, the word after an option that takes a value, is another option rather than that value: commander takes
 * the next word as a required value whatever it is (`--expires -5m`), an optional one unless it starts with `-`; a doc
 * that puts a known option there (`--name --json`) left the value out.
 */
function nextIsOptionOf(command: Command, option: Option | undefined, next: string): boolean {
  if (!next.startsWith('-') || next === '-') return false;
  return Boolean(option?.optional) || optionsOf(command).has(next.split('=')[0]!) || HELP.has(next);
}

/** A value as written in a doc that stands for one (`<tier>`, `…`, `$VAR`, `$(...)`, `T`): not compared with an option's choices. */
const standsForValue = (value: string) => /^<.*>$|^…$|^\.\.\.$|\$|^[A-Z]$/.test(value);

/** `tessera tenants drift`: the command's path from the program. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
