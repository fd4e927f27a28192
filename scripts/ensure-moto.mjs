#!/usr/bin/env node
// Installs the Python tools and clients pinned in requirements-dev.txt (moto, cfn-lint, the official OpenAI
// Python client with pydantic, and the OpenAI Agents SDK for the gateway conformance suites) into .venv unless they are already there, so
// that `npm test` works on a fresh clone. Re-installs when requirements-dev.txt changes. Python 3 with venv and
// pip must be on the machine.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const venv = join(root, '.venv');
const marker = join(venv, '.requirements');
const requirements = readFileSync(join(root, 'requirements-dev.txt'), 'utf8');
const moto = join(venv, 'bin', 'moto_server');

if (existsSync(moto) && existsSync(marker) && readFileSync(marker, 'utf8') === requirements) process.exit(0);
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', cwd: root });
console.log('installing moto, cfn-lint and the Python clients (openai, pydantic, openai-agents) into .venv (requirements-dev.txt)');
if (!existsSync(join(venv, 'bin', 'pip'))) run('python3', ['-m', 'venv', venv]);
run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', join(root, 'requirements-dev.txt')]);
writeFileSync(marker, requirements);
