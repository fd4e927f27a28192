// The named profiles of the shared AWS config and credentials files, read as the SDK reads them, so a
// `--profile x` (or AWS_PROFILE=x) that names no profile is said as such, not as "no credentials".
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The two shared files and the profile names each holds. */
export interface SharedProfiles {
  /** AWS_CONFIG_FILE, else ~/.aws/config (`~/` expanded as the SDK does). */
  configFile: string;
  /** AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials. */
  credentialsFile: string;
  /** The profiles of the config file: `[default]` and `[profile <name>]` (not `[sso-session …]`, `[services …]`). Undefined when it cannot be read. */
  inConfig?: string[];
  /** The profiles of the credentials file: every `[<name>]`. Undefined when it cannot be read. */
  inCredentials?: string[];
}

/** The SDK's home directory (HOME, USERPROFILE, HOMEDRIVE+HOMEPATH, then the OS's). */
function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || env.USERPROFILE || (env.HOMEPATH ? `${env.HOMEDRIVE ?? 'C:\\'}${env.HOMEPATH}` : homedir());
}

function resolve(path: string, env: NodeJS.ProcessEnv): string {
  return path.startsWith('~/') ? join(homeDir(env), path.slice(2)) : path;
}

/** The section names of an INI file, as the SDK parses them (comments after `#`/`;` dropped); undefined when unreadable. */
function sections(file: string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const names: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.split(/(^|\s)[;#]/)[0]!.trim();
    if (line.startsWith('[') && line.endsWith(']')) names.push(line.slice(1, -1).trim());
  }
  return names;
}

/** The shared files the SDK reads with `env` (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, HOME) and their profiles. */
export function sharedProfiles(env: NodeJS.ProcessEnv = process.env): SharedProfiles {
  const configFile = resolve(env.AWS_CONFIG_FILE || join(homeDir(env), '.aws', 'config'), env);
  const credentialsFile = resolve(env.AWS_SHARED_CREDENTIALS_FILE || join(homeDir(env), '.aws', 'credentials'), env);
  const inConfig = sections(configFile)?.flatMap((s) => {
    if (s === 'default') return [s];
    const m = /^profile\s+["']?([^"'\s]+)["']?$/.exec(s);
    return m ? [m[1]!] : [];
  });
  return { configFile, credentialsFile, inConfig, inCredentials: sections(credentialsFile) };
}

/** The profile a run signs with and where it was named: `--profile` (`given`), else AWS_PROFILE; undefined for neither. */
export function askedProfile(given: string | undefined, env: NodeJS.ProcessEnv = process.env): { name: string; source: string } | undefined {
  return given ? { name: given, source: '--profile' } : env.AWS_PROFILE ? { name: env.AWS_PROFILE, source: 'AWS_PROFILE' } : undefined;
}

/** The shared files that hold `profile` (the config file's `[profile <name>]` or `[default]`, the credentials file's `[<name>]`). */
export function filesOfProfile(profile: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const found = sharedProfiles(env);
  return [...(found.inConfig?.includes(profile) ? [found.configFile] : []), ...(found.inCredentials?.includes(profile) ? [found.credentialsFile] : [])];
}

/**
 * When `profile` (given with `source`: `--profile` or `AWS_PROFILE`) is a profile of neither shared file: one line saying so,
 * the two files looked in (and the variables that move them) and the profiles they hold, names only. Undefined when the
 * profile is in one of them (then its credentials are what failed, not its name).
 */
export function missingProfile(profile: string, source: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const found = sharedProfiles(env);
  if (found.inConfig?.includes(profile) || found.inCredentials?.includes(profile)) return undefined;
  const file = (path: string, names: string[] | undefined, variable: string) => {
    const notes = [...(env[variable] ? [variable] : []), ...(names === undefined ? ['cannot be read'] : [])];
    return `${path}${notes.length ? ` (${notes.join('; ')})` : ''}`;
  };
  const names = [...new Set([...(found.inConfig ?? []), ...(found.inCredentials ?? [])])];
  return `AWS profile "${profile}" (${source}) was not found: looked in ${file(found.configFile, found.inConfig, 'AWS_CONFIG_FILE')} `
    + `and ${file(found.credentialsFile, found.inCredentials, 'AWS_SHARED_CREDENTIALS_FILE')}; `
    + `${names.length ? `profiles found: ${names.join(', ')}` : 'they hold no profile'}; `
    + `${names.length ? 'pass one of them, or create' : 'create'} "${profile}" (aws configure sso --profile ${profile}, or aws configure --profile ${profile})`;
}
