// README.md and docs/*.md show `tessera ...` commands (in code blocks and inline) and `npm run <script>` lines; this
// checks them against the CLI as built (tesseraProgram(), as test/unit/cli/program.test.ts builds it) and package.json:
// the command path exists, every flag is the command's or a global one, a flag's value is there when it takes one and
// absent when it takes none, and a full example gives the options the command requires. A failure names file:line.
// Found by a new user: `tessera tenants failover-plan <id>` was documented without the `--config` it requires.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tesseraProgram } from '../../lib/cli/program.js';
import { commandProblems, docCommands, docScripts, shellTokens, tesseraCommandsOf, type DocCommand } from '../support/docs-cli-commands.js';
import { documentationFiles } from '../support/markdown-links.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let program: Command;
/** The subcommands of each command group: `tenants failover-plan <id>` in inline code is a command too. */
let groups: Record<string, string[]>;
beforeAll(async () => {
  program = await tesseraProgram();
  groups = Object.fromEntries(program.commands.filter((c) => c.commands.length).map((c) => [c.name(), c.commands.map((s) => s.name())]));
});

/** `file:line: text: problem` for every problem of the commands of `docs`. */
function problemsOf(commands: DocCommand[]): string[] {
  return commands.flatMap((c) => commandProblems(program, c).map((p) => `${c.file}:${c.line}: ${c.text}: ${p}`));
}

describe('README.md and docs/*.md: the tessera commands and npm scripts they show exist as written', () => {
  const files = documentationFiles(ROOT);
  const texts = files.map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));
  let found: DocCommand[] | undefined;
  const commands = () => (found ??= texts.flatMap(({ file, text }) => docCommands(file, text, groups)));

  it('are found in code blocks and inline code', () => {
    const all = commands();
    expect(all.filter((c) => c.kind === 'block').length, 'block commands').toBeGreaterThan(100);
    expect(all.filter((c) => c.kind === 'inline').length, 'inline commands').toBeGreaterThan(200);
    expect(all.some((c) => c.file === 'docs/resilience.md' && c.words.join(' ').startsWith('tenants failover-plan'))).toBe(true);
  });

  it('each names a command of the CLI, with its own or global options, values where they take one, and the options it requires', () => {
    expect(problemsOf(commands())).toEqual([]);
  });

  it('each npm run names a script of package.json', () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    const found = texts.flatMap(({ file, text }) => docScripts(file, text));
    expect(found.length).toBeGreaterThan(20);
    expect(found.filter((s) => !scripts.includes(s.script)).map((s) => `${s.file}:${s.line}: npm run ${s.script}: no script of package.json`)).toEqual([]);
  });
});

describe('docCommands and commandProblems over planted lines', () => {
  const check = (markdown: string) => problemsOf(docCommands('doc.md', markdown, groups));

  it('reads shell words: quotes, placeholders with spaces, $(...), pipes, redirections, comments', () => {
    expect(shellTokens(`a "b c" 'd' <x y> e|f # g`)).toEqual([{ word: 'a' }, { word: 'b c' }, { word: 'd' }, { word: '<x y>' }, { word: 'e|f' }]);
    expect(tesseraCommandsOf('TOKEN=$(npx tessera login --email e --user-pool-id "$(out P)") node x.mjs')).toEqual([['login', '--email', 'e', '--user-pool-id', '$(out P)']]);
    expect(tesseraCommandsOf('node_modules/.bin/node bin/tessera.mjs doctor --config c.yaml')).toEqual([['doctor', '--config', 'c.yaml']]);
    expect(tesseraCommandsOf(`tessera --json tenants show acme | jq '.gateway' > policy.json`)).toEqual([['--json', 'tenants', 'show', 'acme']]);
    expect(tesseraCommandsOf('tessera tenants update <id> --tier <tier> | --repair', true)).toEqual([['tenants', 'update', '<id>', '--tier', '<tier>', '--repair']]);
  });

  it('a block with prompts: only its $ lines (and their \\ continuations) are commands', () => {
    const md = ['```', '$ tessera tenants drift acme \\', '    --detailed-exitcode', 'tessera serve stopped (exit 0)', '```'].join('\n');
    expect(docCommands('doc.md', md).map((c) => [c.line, c.text])).toEqual([[2, 'tessera tenants drift acme --detailed-exitcode']]);
  });

  it('names file:line and what is wrong: no such subcommand, unknown flag, value missing, unwanted or not a choice, required option or argument missing', () => {
    expect(check([
      'Run `tessera tenants failover-plan <id>` and `tessera tenants failover-plan <id> --config c.yaml [--json]`.',
      '```',
      'tessera tenants failover acme',
      'tessera dlq redrive q --yse',
      'tessera tenants list --json=yes',
      'tessera tenants show --json acme extra',
      'tessera keys create --tenant acme --name',
      'tessera roles --profile ops',
      '```',
      'A mention of one flag is no full example: `tessera keys create --model`, `tessera tenants update --blueprint-version`.',
      '`tessera users list|set-role|disable|remove` and `tessera help tenants` are fine; `tessera users list|rename` is not.',
      'Without tessera, a group and its subcommand: `tenants failover-plan globex`; `tenants.yaml` and `keys of it` are no commands.',
      'Choices of flags: `tenants upgrade --watch|--follow`, `tenants retry --name/--admin-email`, `tenants retry --nmae/--admin-email`.',
      '```',
      '$ tessera dev-token --tenant acme --expires --json',
      '$ tessera dev-token --tenant acme --expires -5m      # exit 2: refused at run time; its value is -5m either way',
      '$ tessera tenant list     # exit 2: shown on purpose',
      'tessera tenant list (output, not a command: the block has prompts)',
      '$ tessera tenants usage acme --by team',
      'error: option \'--by <subject>\' argument \'team\' is invalid. Allowed choices are user, key.',
      '(exit 2)',
      '$ tessera keys create --tenant acme --name x --role owner',
      '$ tessera tenants show',
      '```',
      '```text',
      'tessera gateway on http://127.0.0.1:8787/v1 (output)',
      '```',
    ].join('\n'))).toEqual([
      'doc.md:1: tessera tenants failover-plan <id>: tessera tenants failover-plan requires --config <file>, missing here',
      'doc.md:3: tessera tenants failover acme: tessera tenants has no subcommand \'failover\' (it has: ' + program.commands.find((c) => c.name() === 'tenants')!.commands.map((c) => c.name()).join(', ') + ')',
      'doc.md:4: tessera dlq redrive q --yse: --yse is no option of tessera dlq redrive',
      'doc.md:5: tessera tenants list --json=yes: --json of tessera tenants list takes no value (given \'yes\')',
      'doc.md:6: tessera tenants show --json acme extra: tessera tenants show takes only <id>: unexpected \'extra\' (does one of --json take a value?)',
      'doc.md:7: tessera keys create --tenant acme --name: --name of tessera keys create takes a value (--name <name>), given none',
      'doc.md:8: tessera roles --profile ops: --profile is no option of tessera roles (it makes no AWS call)',
      'doc.md:11: tessera users list|rename: tessera users has no subcommand \'rename\' (it has: ' + groups.users!.join(', ') + ')',
      'doc.md:12: tessera tenants failover-plan globex: tessera tenants failover-plan requires --config <file>, missing here',
      'doc.md:13: tessera tenants retry --nmae/--admin-email: --nmae is no option of tessera tenants retry',
      'doc.md:15: tessera dev-token --tenant acme --expires --json: --expires of tessera dev-token takes a value (--expires <duration>), followed by the option --json',
      'doc.md:22: tessera keys create --tenant acme --name x --role owner: --role of tessera keys create is one of admin, developer, member, viewer (given \'owner\')',
      'doc.md:23: tessera tenants show: tessera tenants show requires <id>, missing here',
    ]);
  });

  it('npm run: the script named, also in an inline span that wraps', () => {
    expect(docScripts('doc.md', 'the estimate (`npm run\ncost -- --json`) and `npm run bench:gateway -- 10`.').map((s) => [s.line, s.script])).toEqual([[1, 'cost'], [2, 'bench:gateway']]);
  });
});
