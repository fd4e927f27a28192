import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dirs.js';

// test/bench/fake-upstream-main.ts's command line (docs/gateway.md "tessera serve"): --help prints the usage without
// starting a server, and an unknown flag is refused (exit 2) naming it and the known flags, rather than
// starting a server in another mode than the one asked for (a typo such as --tool).
const run = (...args: string[]) => spawnSync(process.execPath, [join('node_modules', 'tsx', 'dist', 'cli.mjs'), 'test/bench/fake-upstream-main.ts', ...args], { encoding: 'utf8', timeout: 30_000 });

describe('fake-upstream-main flags', () => {
  it('--help prints the usage with every flag and exits 0 without starting a server', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npx tsx test\/bench\/fake-upstream-main\.ts \[--tools\] \[--parallel-tool-calls\] \[--follow-format\] \[--reasoning\] \[--lenient\] \[--help\] \[--delay <ms>\]\n/);
    for (const flag of ['--tools', '--parallel-tool-calls', '--follow-format', '--reasoning', '--lenient', '--delay <ms>']) expect(r.stdout).toContain(`\n  ${flag} `);
    expect(r.stdout).not.toContain('http://');
    expect(r.stderr).not.toContain('fake upstream pid');
  }, 30_000);

  it('refuses an unknown flag with exit 2, naming it and the known flags', () => {
    const r = run('--reasoning', '--tool');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('fake-upstream-main: unknown argument --tool; known flags: --tools, --parallel-tool-calls, --follow-format, --reasoning, --lenient, --help, --delay <ms>\n');
  }, 30_000);

  it('refuses a --delay that is not a whole number of milliseconds up to 600000, or none, with exit 2', () => {
    for (const [args, said] of [[['--delay', 'soon'], '--delay "soon" is not a delay'], [['--delay=-5'], '--delay "-5" is not a delay'], [['--delay', '600001'], '--delay "600001" is not a delay'], [['--delay'], '--delay needs a value']] as const) {
      const r = run(...args);
      expect([r.status, r.stdout]).toEqual([2, '']);
      expect(r.stderr).toContain(`fake-upstream-main: ${said}: a whole number of milliseconds from 0 to 600000 (--delay 3000)\n`);
    }
  }, 60_000);

  it('--delay <ms> holds each chat answer that long: a call under way is still unanswered when the caller gives up, without it answered', async () => {
    const ask = async (flags: string[]) => {
      const child = spawn(process.execPath, [join('node_modules', 'tsx', 'dist', 'cli.mjs'), 'test/bench/fake-upstream-main.ts', ...flags], { stdio: ['ignore', 'pipe', 'ignore'] });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out.trim()); });
          child.on('exit', (code) => reject(new Error(`fake-upstream-main ${flags.join(' ')} exited ${code} before listening`)));
        });
        const answer = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), signal: AbortSignal.timeout(5_000) })
          .then(async (r) => ((await r.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content, (e: Error) => e.name);
        return answer;
      } finally {
        child.kill();
      }
    };
    // 5 s given, a 10-minute delay asked: the answer cannot come; the same request without --delay is answered.
    expect(await ask(['--delay', '600000'])).toBe('TimeoutError');
    expect(await ask([])).toBe('echo: hi');
  }, 60_000);
});

/**
 * The README's quick start ("Try the gateway locally"), its first block: the fake upstream's URL goes through a file
 * of the shell's own (mktemp), so two users (or two terminals) on one machine do not read each other's URL, as they did
 * through a fixed /tmp/tessera-upstream.url. Run as written, with `npx tessera` replaced by a function that prints its
 * arguments (the serve line's --upstream) and TMPDIR a directory of the test's, where mktemp makes the file.
 */
describe('the README quick start\'s fake upstream', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Try the gateway locally\n'));
  const block = /```bash\n([\s\S]*?)```/.exec(section)![1]!;

  it('writes its URL to no fixed path under /tmp', () => {
    expect(block).toContain('serve --tenant acme:enterprise --upstream');
    expect(block).not.toMatch(/\/tmp\//);
    expect(block).toMatch(/\$\(mktemp\)/);
  });

  it('two runs at once, as written, each hand their own upstream\'s URL to serve', async () => {
    const run = () => new Promise<{ serveArgs: string; pid: number; tmp: string }>((resolve, reject) => {
      const tmp = tempDir('tessera-test-quick-start-');
      const stub = 'npx() { if [ "$1" = tessera ]; then shift; printf "%s\\n" "$*"; else command npx "$@"; fi; }\n';
      const shell = spawn('bash', ['-c', stub + block], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      shell.stdout.on('data', (d) => (out += d));
      shell.stderr.on('data', (d) => (err += d));
      // `exit`, not `close`: the fake upstream, in the background, holds the shell's stderr open.
      shell.on('exit', async (code) => {
        if (code !== 0) return reject(new Error(`exit ${code}: ${err}`));
        for (let i = 0; i < 100 && !/fake upstream pid \d+/.test(err); i++) await new Promise((ok) => setTimeout(ok, 50));
        resolve({ serveArgs: out.trim(), pid: Number(/fake upstream pid (\d+)/.exec(err)?.[1]), tmp });
      });
    });
    const runs = await Promise.all([run(), run()]);
    try {
      const urls = runs.map((r) => /^serve --tenant acme:enterprise --upstream (http:\/\/127\.0\.0\.1:\d+\/v1)$/.exec(r.serveArgs)?.[1]);
      expect(urls).toEqual([expect.any(String), expect.any(String)]);
      expect(urls[0]).not.toBe(urls[1]);
      for (const [i, r] of runs.entries()) {
        const files = readdirSync(r.tmp).filter((f) => f.startsWith('tmp.')); // mktemp's (tsx keeps a cache there too)
        expect(files).toHaveLength(1); // under this run's TMPDIR
        expect(readFileSync(join(r.tmp, files[0]!), 'utf8')).toBe(`${urls[i]}\n`);
      }
    } finally {
      for (const r of runs) if (r.pid) process.kill(r.pid);
    }
  }, 60_000);
});

/**
 * Starts test/bench/fake-upstream-main.ts as the README starts it (tsx, the given flags) and resolves its base URL, the
 * first line it prints. `stop()` ends the fake's own process (tsx may run it in a process of its own) and the child;
 * `stderr()` is what it wrote there so far.
 * @throws when the fake exits before printing its URL (the message carries its stderr).
 */
async function startFakeProcess(...flags: string[]) {
  const child = spawn(process.execPath, [join('node_modules', 'tsx', 'dist', 'cli.mjs'), 'test/bench/fake-upstream-main.ts', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let pid: number | undefined;
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
    pid ??= Number(/fake upstream pid (\d+)/.exec(err)?.[1]) || undefined;
  });
  const stop = () => {
    if (pid) process.kill(pid);
    child.kill();
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', (code) => reject(new Error(`the fake exited ${code}: ${err}`)));
    });
    return { child, url, stop, stderr: () => err };
  } catch (e) {
    stop();
    throw e;
  }
}

/**
 * s31l: the README's fake, run as the quick start runs it, answers what it cannot read with OpenAI's 400 and goes on
 * serving (an image edit without a multipart body killed it: "Content-Type was not one of multipart/form-data", and
 * serve then met ECONNREFUSED on every model); a path it does not serve is OpenAI's 404 naming it (it was a chat
 * completion); `/completions` is a text completion, whole and streamed, and `/responses/input_tokens` a count.
 */
describe('the fake upstream process answers every request and keeps serving', () => {
  it('a bad body is a 400, an unknown path a 404, completions and counts are theirs; the fake still answers chat after', async () => {
    const { child, url, stop, stderr } = await startFakeProcess();
    try {
      const post = async (path: string, body?: string, headers: Record<string, string> = {}) => {
        const res = await fetch(`${url}${path}`, { method: 'POST', body, headers });
        return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
      };
      const error = (status: number, message: RegExp) => ({ status, type: 'application/json', text: expect.stringMatching(message) });

      const edit = await post('/images/edits');
      expect(edit).toEqual(error(400, /^\{"error":\{"message":"Invalid Content-Type header \(none\), expected multipart\/form-data/));
      expect(JSON.parse(edit.text).error).toMatchObject({ type: 'invalid_request_error', param: null, code: null });
      expect(await post('/images/variations', '{}', { 'content-type': 'application/json' })).toEqual(error(400, /Invalid Content-Type header \(application\/json\)/));
      expect(await post('/chat/completions', '{not json', { 'content-type': 'application/json' })).toEqual(error(400, /We could not parse the JSON body of your request/));
      expect(await post('/nothing/here', '{}')).toEqual(error(404, /^\{"error":\{"message":"Invalid URL \(POST \/v1\/nothing\/here\)/));

      const text = JSON.parse((await post('/completions', JSON.stringify({ model: 'm', prompt: ['Say hi', 'Bye'], n: 2, echo: true }))).text);
      expect(text).toMatchObject({ object: 'text_completion', model: 'm', usage: { prompt_tokens: 22, completion_tokens: 28 } });
      expect(text.choices.map((c: { index: number; text: string; finish_reason: string }) => [c.index, c.text, c.finish_reason])).toEqual([
        [0, 'Say hiecho: Say hi', 'stop'], [1, 'Say hiecho: Say hi', 'stop'], [2, 'Byeecho: Bye', 'stop'], [3, 'Byeecho: Bye', 'stop'],
      ]);
      const streamed = await post('/completions', JSON.stringify({ model: 'm', prompt: 'Say hi', stream: true, stream_options: { include_usage: true } }));
      expect(streamed.type).toBe('text/event-stream');
      const events = streamed.text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
      expect(events.at(-1)).toBe('[DONE]');
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
      expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
      expect(chunks.flatMap((c) => c.choices.map((x: { text: string }) => x.text)).join('')).toBe('echo: Say hi');
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 7 } });

      const count = JSON.parse((await post('/responses/input_tokens', JSON.stringify({ model: 'm', instructions: 'Be brief.', input: [{ role: 'user', type: 'message', content: [{ type: 'input_text', text: 'Rain in Oslo?' }] }] }))).text);
      expect(count).toEqual({ object: 'response.input_tokens', input_tokens: 5 });

      const chat = JSON.parse((await post('/chat/completions', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'still here?' }] }))).text);
      expect(chat.choices[0].message.content).toBe('echo: still here?');
      expect(child.exitCode).toBeNull();
      expect(stderr()).not.toContain('TypeError');
    } finally {
      stop();
    }
  }, 60_000);
});

/** s39a: `--parallel-tool-calls` alone (without `--tools`) starts the fake answering two tool calls, as the README's quick start starts it. */
describe('the fake upstream process with --parallel-tool-calls', () => {
  it('answers a request offering two tools with a call of each, parallel_tool_calls false or not', async () => {
    const { url, stop } = await startFakeProcess('--parallel-tool-calls');
    try {
      const tool = (name: string) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } });
      const names = async (parallel: boolean) => {
        const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', tools: [tool('a'), tool('b')], parallel_tool_calls: parallel, messages: [{ role: 'user', content: 'Rome' }] }) });
        const body = await res.json() as { choices: Array<{ message: { tool_calls: Array<{ function: { name: string; arguments: string } }> } }> };
        return body.choices[0]!.message.tool_calls.map((c) => `${c.function.name}${c.function.arguments}`);
      };
      expect(await names(false)).toEqual(['a{"city":"Rome"}', 'b{"city":"Rome"}']);
      expect(await names(true)).toEqual(['a{"city":"Rome"}', 'b{"city":"Rome"}']);
    } finally {
      stop();
    }
  }, 60_000);
});
