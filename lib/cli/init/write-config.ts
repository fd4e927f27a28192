import { existsSync, statSync, writeFileSync } from 'node:fs';
import { CliError } from '../cli-error.js';

/**
 * Refuses early (before any question is asked) to write over an existing `--output` without
 * `--force`, or into a folder path.
 * @throws CliError (exit 2) naming the path and the fix
 */
export function checkOutput(path: string, force: boolean): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) throw new CliError(`--output ${path} is a folder: name a file, e.g. --output ${path.replace(/\/$/, '')}/tessera.config.yaml`);
  if (!force) throw new CliError(`${path} exists: pass --force to overwrite it, or choose another --output`);
}

/**
 * Writes `text` to `path`; without `force` the file must not exist (opened with `wx`, so a file
 * created since {@link checkOutput} is not overwritten either).
 * @throws CliError (exit 2) when the file exists, the folder is missing or writing is not allowed
 */
export function writeConfigFile(path: string, text: string, force: boolean): void {
  try {
    writeFileSync(path, text, { flag: force ? 'w' : 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CliError(`${path} exists: pass --force to overwrite it, or choose another --output`);
    if (code === 'ENOENT') throw new CliError(`--output ${path}: its folder does not exist: create it or choose another path`);
    if (code === 'EISDIR') throw new CliError(`--output ${path} is a folder: name a file, e.g. --output ${path.replace(/\/$/, '')}/tessera.config.yaml`);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new CliError(`--output ${path}: not allowed to write there (${code}): choose another path`);
    throw e;
  }
}
