import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkedDriverCpuSeconds, LEGACY_PYTHON_ZYGOTE_SOCKET, PYTHON_ZYGOTE_SOCKET, pythonScriptCommand, startPythonZygote, type PythonZygote } from '../support/python-zygote.js';
import { tempDir } from '../support/temp-dirs.js';

// The Python client-driver zygote (test/support/python-zygote.ts/.py): a script run through it
// sees what `python <script>` sees (argv, __main__, sys.path[0], cwd, environment, stdio as CPython
// makes it, signal dispositions), and the test's child process ends as the script ends (exit code,
// uncaught exception, a signal forwarded); a launcher killed with SIGKILL takes its driver with it;
// a request whose import-time environment differs runs the script as a fresh Python. The run's
// zygote is used when there is one, else the file's own.

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const PROBE = `import json, os, signal, sys
def stdio(s):
    return [type(s.buffer).__name__, s.line_buffering, s.write_through, s.encoding, s.errors, s.mode, getattr(s.buffer, "raw", s.buffer).name]
main = sys.modules["__main__"]
print(json.dumps({
    "argv": sys.argv, "file": __file__, "name": __name__, "spec": repr(__spec__), "package": __package__, "cached": __cached__,
    "loader": type(__loader__).__name__, "main_is_this": main.__dict__ is globals(), "path0": sys.path[0], "path": sys.path[1:],
    "cwd": os.getcwd(), "env": dict(os.environ), "stdio": [stdio(s) for s in (sys.stdin, sys.stdout, sys.stderr)],
    "dunder_stdio": [sys.stdin is sys.__stdin__, sys.stdout is sys.__stdout__, sys.stderr is sys.__stderr__],
    "signals": {int(s): repr(signal.getsignal(s)) for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP)},
    "pid": os.getpid(), "ppid": os.getppid(), "executable": sys.executable,
}), flush=True)
sys.stderr.write("to stderr\\n")
line = sys.stdin.readline()
if line.startswith("raise"):
    raise ValueError("boom")
if line.startswith("sleep"):
    import time
    time.sleep(60)
sys.exit(int(line or "0"))
`;

interface Run { out: Record<string, unknown>; stderr: string; code: number | null; signal: NodeJS.Signals | null; pid: number }

let socketPath: string;
let own: PythonZygote | undefined;
let dir: string;
let probe: string;

beforeAll(async () => {
  const runs = process.env[PYTHON_ZYGOTE_SOCKET];
  socketPath = runs ?? (own = await startPythonZygote(PYTHON, join(tempDir('python-zygote-test-'), 'z.sock'))).socketPath;
  dir = tempDir('python-zygote-probe-');
  probe = join(dir, 'probe.py');
  writeFileSync(probe, PROBE);
}, 60_000);
afterAll(async () => {
  await own?.stop();
});

/** Runs the probe (relative path, cwd its dir) with `input` on stdin, through the zygote or not; `during` runs once it printed. */
function run(zygote: boolean, input: string, extraEnv: Record<string, string> = {}, during?: (pid: number, out: Record<string, unknown>) => void): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, PROBE_VARIABLE: 'x y', ...extraEnv };
  delete env[PYTHON_ZYGOTE_SOCKET];
  if (zygote) env[PYTHON_ZYGOTE_SOCKET] = socketPath;
  const [command, args] = pythonScriptCommand(PYTHON, 'probe.py', ['an arg'], env);
  const child = spawn(command, args, { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      const first = !stdout.includes('\n');
      stdout += String(d);
      if (first && stdout.includes('\n')) {
        if (during) during(child.pid!, JSON.parse(stdout.split('\n')[0]));
        else child.stdin.end(input);
      }
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ out: JSON.parse(stdout.split('\n')[0] || '{}'), stderr, code, signal, pid: child.pid! }));
  });
}

/** The probe's report without what differs between any two processes. */
const same = (r: Run) => {
  const { pid, ppid, env, ...rest } = r.out as { pid: number; ppid: number; env: Record<string, string> };
  const { [PYTHON_ZYGOTE_SOCKET]: _socket, ...envRest } = env;
  return { ...rest, env: envRest };
};

const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
};

describe('a script run through the zygote', () => {
  it('sees what python <script> sees, and exits with its code', async () => {
    const [forked, fresh] = await Promise.all([run(true, '3'), run(false, '3')]);
    expect(forked.out.pid).not.toBe(forked.pid); // forked by the zygote, not the launcher itself
    expect(fresh.out.pid).toBe(fresh.pid);
    expect(same(forked)).toEqual(same(fresh));
    expect(forked.out.argv).toEqual(['probe.py', 'an arg']);
    expect((forked.out.env as Record<string, string>).PROBE_VARIABLE).toBe('x y');
    expect([forked.code, forked.signal, forked.stderr]).toEqual([3, null, 'to stderr\n']);
    expect([fresh.code, fresh.signal, fresh.stderr]).toEqual([3, null, 'to stderr\n']);
  }, 60_000);

  it('logs each ended driver\'s CPU beside its socket under the launcher\'s parent, which forkedDriverCpuSeconds adds up for the test\'s worker', async () => {
    const env = { [PYTHON_ZYGOTE_SOCKET]: socketPath };
    const before = forkedDriverCpuSeconds(process.pid, env);
    const forked = await run(true, '0');
    const lines = readFileSync(join(socketPath, '..', 'driver-cpu.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { parentPid: number; driverPid: number; cpuSeconds: number });
    const entry = lines.find((l) => l.driverPid === forked.out.pid);
    expect(entry).toMatchObject({ parentPid: process.pid, driverPid: forked.out.pid });
    expect(entry!.cpuSeconds).toBeGreaterThan(0);
    expect(forkedDriverCpuSeconds(process.pid, env) - before).toBeGreaterThanOrEqual(entry!.cpuSeconds - 1e-9);
    expect(forkedDriverCpuSeconds(process.pid + 1_000_000, env)).toBe(0);
  }, 60_000);

  it('ends as a fresh Python at sys.exit: non-daemon threads joined, atexit callbacks run, unflushed stdout written', async () => {
    const script = join(dir, 'ending.py');
    writeFileSync(script, `import atexit, sys, threading, time
sys.stdout.write("unflushed\\n")
atexit.register(lambda: sys.stderr.write("atexit\\n"))
def late():
    time.sleep(0.2)
    sys.stdout.write("from a thread\\n")
threading.Thread(target=late).start()
sys.exit(int(sys.argv[1]))
`);
    const end = (zygote: boolean, code: string) => new Promise<[string, string, number | null]>((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env[PYTHON_ZYGOTE_SOCKET];
      if (zygote) env[PYTHON_ZYGOTE_SOCKET] = socketPath;
      const child = spawn(...pythonScriptCommand(PYTHON, script, [code], env), { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (err += String(d)));
      child.once('error', reject);
      child.once('close', (status) => resolve([out, err, status]));
    });
    for (const code of ['0', '5']) {
      const [forked, fresh] = await Promise.all([end(true, code), end(false, code)]);
      expect(forked).toEqual(fresh);
      expect(forked).toEqual(['unflushed\nfrom a thread\n', 'atexit\n', Number(code)]);
    }
  }, 60_000);

  it('ends as the script does on an uncaught exception: exit 1, the traceback on stderr', async () => {
    const [forked, fresh] = await Promise.all([run(true, 'raise'), run(false, 'raise')]);
    for (const r of [forked, fresh]) {
      expect([r.code, r.signal]).toEqual([1, null]);
      expect(r.stderr).toMatch(/^to stderr\nTraceback \(most recent call last\):\n[\s\S]*File ".*probe\.py", line \d+, in <module>\n[\s\S]*ValueError: boom\n$/);
    }
  }, 60_000);

  it('forwards SIGTERM to the script, and the launcher ends by it too', async () => {
    const forked = await run(true, '', {}, (pid) => setTimeout(() => process.kill(pid, 'SIGTERM'), 100));
    expect([forked.code, forked.signal]).toEqual([null, 'SIGTERM']);
    expect(alive(forked.out.pid as number)).toBe(false);
  }, 60_000);

  it('a launcher killed with SIGKILL takes its driver with it', async () => {
    let driver = 0;
    const forked = await run(true, '', {}, (pid, out) => {
      driver = out.pid as number;
      expect(alive(driver)).toBe(true);
      process.kill(pid, 'SIGKILL');
    });
    expect(forked.signal).toBe('SIGKILL');
    for (const deadline = Date.now() + 5_000; alive(driver) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    expect(alive(driver)).toBe(false);
  }, 60_000);

  it('runs the script as a fresh Python when a variable read at import time differs (OPENAI_LOG)', async () => {
    const r = await run(true, '0', { OPENAI_LOG: 'debug' });
    expect(r.out.pid).toBe(r.pid); // the launcher exec'd python <script>
    expect(r.out.argv).toEqual(['probe.py', 'an arg']);
    expect([r.code, r.signal]).toEqual([0, null]);
  }, 60_000);

  it('imports what a fresh Python imports: a module beside the script over the zygote\'s (it declines), sys.path[0] of a symlinked script resolved', async () => {
    // GIVEN a script whose directory has email.py (the zygote imported the standard library's email),
    // and a symlink to a script in another directory (hostile 8)
    const here = tempDir('python-zygote-shadow-');
    writeFileSync(join(here, 'email.py'), 'MARK = "beside the script"\n');
    writeFileSync(join(here, 'shadow.py'), 'import email, sys\nprint(getattr(email, "MARK", "standard library"), sys.path[0])\n');
    mkdirSync(join(here, 'real'));
    writeFileSync(join(here, 'real', 'target.py'), 'import sys\nprint(sys.path[0])\n');
    symlinkSync(join(here, 'real', 'target.py'), join(here, 'link.py'));
    const output = (zygote: boolean, script: string) => new Promise<string>((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env[PYTHON_ZYGOTE_SOCKET];
      if (zygote) env[PYTHON_ZYGOTE_SOCKET] = socketPath;
      const child = spawn(...pythonScriptCommand(PYTHON, script, [], env), { cwd: here, env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.once('error', reject);
      child.once('close', () => resolve(out.trim()));
    });
    // THEN each prints what a fresh Python prints
    expect(await output(true, 'shadow.py')).toBe(`beside the script ${here}`);
    expect(await output(true, 'shadow.py')).toBe(await output(false, 'shadow.py'));
    expect(await output(true, 'link.py')).toBe(join(here, 'real'));
    expect(await output(true, 'link.py')).toBe(await output(false, 'link.py'));
  }, 60_000);
});

describe('the zygote of .venv-legacy-clients (openai 1.x, LlamaIndex, instructor)', () => {
  const LEGACY = join(ROOT, '.venv-legacy-clients', 'bin', 'python');
  const SCRIPT = 'import json, os, sys\nimport openai\nprint(json.dumps({"pid": os.getpid(), "openai": openai.__version__, "preloaded": "llama_index.core" in sys.modules and "instructor" in sys.modules}))\n';
  let legacySocket: string;
  let legacyOwn: PythonZygote | undefined;
  beforeAll(async () => {
    const runs = process.env[LEGACY_PYTHON_ZYGOTE_SOCKET];
    legacySocket = runs ?? (legacyOwn = await startPythonZygote(LEGACY, join(tempDir('python-zygote-legacy-'), 'z.sock'))).socketPath;
  }, 60_000);
  afterAll(async () => {
    await legacyOwn?.stop();
  });
  /** Runs SCRIPT through the legacy zygote with `extraEnv`; its report and the launcher's pid. */
  const report = (extraEnv: Record<string, string>) => new Promise<{ out: Record<string, unknown>; pid: number }>((resolve, reject) => {
    const here = tempDir('python-zygote-legacy-script-');
    writeFileSync(join(here, 'legacy.py'), SCRIPT);
    const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, [LEGACY_PYTHON_ZYGOTE_SOCKET]: legacySocket };
    const child = spawn(...pythonScriptCommand(LEGACY, 'legacy.py', [], env), { cwd: here, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.once('error', reject);
    child.once('close', () => resolve({ out: JSON.parse(out), pid: child.pid! }));
  });

  it('forks its drivers with LlamaIndex and instructor imported (tqdm\'s and fsspec\'s scans of TQDM_* / FSSPEC_* do not stop it)', async () => {
    const r = await report({});
    expect(r.out).toMatchObject({ openai: '1.109.1', preloaded: true });
    expect(r.out.pid).not.toBe(r.pid);
  }, 60_000);

  it('runs a fresh Python when a variable of a scanned prefix differs (TQDM_DISABLE: tqdm reads it at import)', async () => {
    const r = await report({ TQDM_DISABLE: '1' });
    expect(r.out).toMatchObject({ openai: '1.109.1', preloaded: false });
    expect(r.out.pid).toBe(r.pid);
  }, 60_000);

  it('an interpreter outside the known venvs has no zygote: pythonScriptCommand says which', () => {
    expect(() => pythonScriptCommand('/usr/bin/python3', 'x.py')).toThrow(/no driver zygote for the interpreter \/usr\/bin\/python3: its virtualenv usr is not one of \.venv, \.venv-legacy-clients/);
  });
});
