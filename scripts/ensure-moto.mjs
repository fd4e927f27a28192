#!/usr/bin/env node
// Installs the Python tools and clients pinned in requirements-dev.txt (moto, cfn-lint, the official OpenAI
// Python client with pydantic, and the OpenAI Agents SDK for the gateway conformance suites) into .venv, and the
// older clients pinned in requirements-legacy-clients.txt (openai 1.x, LlamaIndex, instructor: they require an
// openai the first file's cannot share a venv with) into .venv-legacy-clients, unless they are already there, so
// that `npm test` works on a fresh clone. Re-installs a venv when its requirements file changes. Python 3 with venv
// and pip must be on the machine.
//
// The packages are installed with uv (pinned below, itself installed into .venv by pip): it resolves the same
// versions as pip from the same pins (checked: `pip freeze` of both venvs identical) and installs in parallel.
// On this 2-core machine (2026-12-02, machine shared, `/usr/bin/time node scripts/ensure-moto.mjs` in a fresh
// checkout): 14 s in all with uv's cache empty (venv, uv, then the packages in 6.5 s), ~6 s with it warm, against
// pip's 126 s for the packages alone. Modules are compiled to bytecode on first import (uv's default), not all at
// install as pip does. When uv cannot be installed or fails, pip installs as before.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** uv's version: https://pypi.org/project/uv/ */
const UV_VERSION = '0.13.8';

const root = join(import.meta.dirname, '..');
const run = (cmd, args, env = process.env) => execFileSync(cmd, args, { stdio: 'inherit', cwd: root, env });

/**
 * pip's settings from the environment, given to uv under its names (uv reads neither PIP_* nor pip.conf):
 * a machine whose pip trusts a proxy's CA, or finds wheels in a local directory, gets the same from uv.
 * https://docs.astral.sh/uv/reference/environment/ ; a UV_* or SSL_CERT_FILE already set wins.
 */
function uvEnvironment(env = process.env) {
  const names = { PIP_CERT: 'SSL_CERT_FILE', PIP_INDEX_URL: 'UV_INDEX_URL', PIP_EXTRA_INDEX_URL: 'UV_EXTRA_INDEX_URL', PIP_FIND_LINKS: 'UV_FIND_LINKS' };
  const out = { ...env };
  for (const [pip, uv] of Object.entries(names)) if (env[pip] && !env[uv]) out[uv] = env[pip];
  return out;
}

/**
 * Makes `venvDir` hold what `requirementsName` pins, unless its marker (a copy of the file) says it already does
 * and `entryPoint` (a file the install makes) exists.
 */
function ensureVenv(venvDir, requirementsName, entryPoint, what) {
  const venv = join(root, venvDir);
  const marker = join(venv, '.requirements');
  const requirementsFile = join(root, requirementsName);
  const requirements = readFileSync(requirementsFile, 'utf8');
  if (existsSync(join(venv, entryPoint)) && existsSync(marker) && readFileSync(marker, 'utf8') === requirements) return;
  const pip = join(venv, 'bin', 'pip');
  const uv = join(venv, 'bin', 'uv');
  console.log(`installing ${what} into ${venvDir} (${requirementsName})`);
  if (!existsSync(pip)) run('python3', ['-m', 'venv', venv]);
  try {
    if (!existsSync(uv)) run(pip, ['install', '--quiet', '--disable-pip-version-check', `uv==${UV_VERSION}`]);
    run(uv, ['pip', 'install', '--quiet', '--python', join(venv, 'bin', 'python'), '-r', requirementsFile], uvEnvironment());
  } catch (error) {
    console.log(`uv could not install them (${error.message.split('\n')[0]}); installing with pip instead`);
    run(pip, ['install', '--quiet', '--disable-pip-version-check', '-r', requirementsFile]);
  }
  writeFileSync(marker, requirements);
}

ensureVenv('.venv', 'requirements-dev.txt', join('bin', 'moto_server'), 'moto, cfn-lint and the Python clients (openai, pydantic, openai-agents, langchain-openai, pydantic-ai-slim)');
ensureVenv('.venv-legacy-clients', 'requirements-legacy-clients.txt', join('bin', 'python'), 'the older Python clients (openai 1.x, llama-index, instructor)');
