// The named profiles of the shared AWS config and credentials files, read by the AWS SDK's own reader
// (@smithy/core/config loadSharedConfigFiles, the code behind @smithy/shared-ini-file-loader), so a
// `--profile x` (or AWS_PROFILE=x) that names no profile is said as such, not as "no credentials".
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadSharedConfigFiles } from '@smithy/core/config';

/** The two shared files and the profile names each holds. */
export interface SharedProfiles {
  /** AWS_CONFIG_FILE, else ~/.aws/config (`~/` expanded as the SDK does). */
  configFile: string;
  /** AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials. */
  credentialsFile: string;
  /**
   * The profiles of the config file, as the SDK reads them: `[default]` and `[profile <name>]` sections that hold a setting
   * (not `[sso-session …]`, `[services …]`, nor a section without `profile ` but `[default]`). Undefined when it cannot be read.
   */
  inConfig?: string[];
  /** The profiles of the credentials file: every `[<name>]` section that holds a setting, as the SDK reads them. Undefined when it cannot be read. */
  inCredentials?: string[];
}

/** The SDK's home directory (HOME, USERPROFILE, HOMEDRIVE+HOMEPATH, then the OS's: @smithy/core/config getHomeDir), of `env`. */
function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || env.USERPROFILE || (env.HOMEPATH ? `${env.HOMEDRIVE ?? 'C:\\'}${env.HOMEPATH}` : homedir());
}

function resolve(path: string, env: NodeJS.ProcessEnv): string {
  return path.startsWith('~/') ? join(homeDir(env), path.slice(2)) : path;
}

/** The shared files the SDK reads with `env` (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, HOME), `~/` expanded. */
export function sharedFiles(env: NodeJS.ProcessEnv = process.env): { configFile: string; credentialsFile: string } {
  return {
    configFile: resolve(env.AWS_CONFIG_FILE || join(homeDir(env), '.aws', 'config'), env),
    credentialsFile: resolve(env.AWS_SHARED_CREDENTIALS_FILE || join(homeDir(env), '.aws', 'credentials'), env),
  };
}

/**
 * The two shared files as the SDK parses them (loadSharedConfigFiles, read again now: the SDK caches a file per process).
 * `configFile` is keyed by profile name (`[profile ops]` → `ops`, `[default]`), with `sso-session.<name>` and
 * `services.<name>` for those sections; `credentialsFile` by section name. A file that cannot be read is `{}` (the SDK's rule).
 */
export async function loadSharedFiles(env: NodeJS.ProcessEnv = process.env) {
  const { configFile, credentialsFile } = sharedFiles(env);
  return { paths: { configFile, credentialsFile }, ...(await loadSharedConfigFiles({ configFilepath: configFile, filepath: credentialsFile, ignoreCache: true })) };
}

/** The SDK's section kinds other than profiles (@smithy/types IniSectionType): their keys are `<kind>.<name>`. */
const NOT_PROFILES = ['sso-session.', 'services.'];
const readable = (file: string) => readFile(file).then(() => true, () => false);

/** The shared files the SDK reads with `env` (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, HOME) and their profiles. */
export async function sharedProfiles(env: NodeJS.ProcessEnv = process.env): Promise<SharedProfiles> {
  const { paths, configFile, credentialsFile } = await loadSharedFiles(env);
  const profiles = (parsed: Record<string, unknown>) => Object.keys(parsed).filter((k) => !NOT_PROFILES.some((p) => k.startsWith(p)));
  const [config, credentials] = await Promise.all([readable(paths.configFile), readable(paths.credentialsFile)]);
  return {
    ...paths,
    inConfig: config ? profiles(configFile) : undefined,
    inCredentials: credentials ? profiles(credentialsFile) : undefined,
  };
}

/** The profile a run signs with and where it was named: `--profile` (`given`), else AWS_PROFILE; undefined for neither. */
export function askedProfile(given: string | undefined, env: NodeJS.ProcessEnv = process.env): { name: string; source: string } | undefined {
  return given ? { name: given, source: '--profile' } : env.AWS_PROFILE ? { name: env.AWS_PROFILE, source: 'AWS_PROFILE' } : undefined;
}

/** The shared files that hold `profile` (the config file's `[profile <name>]` or `[default]`, the credentials file's `[<name>]`). */
export async function filesOfProfile(profile: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const found = await sharedProfiles(env);
  return [...(found.inConfig?.includes(profile) ? [found.configFile] : []), ...(found.inCredentials?.includes(profile) ? [found.credentialsFile] : [])];
}

/**
 * When `profile` (given with `source`: `--profile` or `AWS_PROFILE`) is a profile of neither shared file: one line saying so,
 * the two files looked in (and the variables that move them) and the profiles they hold, names only. Undefined when the
 * profile is in one of them (then its credentials are what failed, not its name).
 */
export async function missingProfile(profile: string, source: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const found = await sharedProfiles(env);
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
