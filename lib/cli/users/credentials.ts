import { CliError } from '../cli-error.js';
import type { Terminal } from './terminal.js';

/** Environment variables a script can set instead of typing. */
export const LOGIN_ENV = { password: 'TESSERA_PASSWORD', newPassword: 'TESSERA_NEW_PASSWORD' } as const;

/** How `tessera login` was told to find each secret (its flags). */
export interface CredentialFlags {
  /** `--password-stdin`: the password is stdin's next line. */
  passwordStdin?: boolean;
  /** `--new-password-stdin`: the new password (first sign-in) is stdin's next line. */
  newPasswordStdin?: boolean;
  /** `--totp-code <code>`: the authenticator code; `-` reads it from stdin's next line when asked. */
  totpCode?: string;
}

/**
 * Finds the password, the new password and the authenticator code, in this order: the flag,
 * the environment variable, a prompt on the terminal. Without a terminal, a missing value is a
 * CliError naming the flag. Each value is asked for only when Cognito asks for it.
 */
export class CredentialSource {
  constructor(private readonly flags: CredentialFlags, private readonly terminal: Terminal, private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** @throws CliError (exit 2) when no source gives a password. */
  async password(email: string): Promise<string> {
    if (this.flags.passwordStdin) return this.line('--password-stdin', 'the password');
    if (this.env[LOGIN_ENV.password]) return this.env[LOGIN_ENV.password]!;
    if (this.terminal.interactive) return nonEmpty(await this.terminal.ask(`Password for ${email}: `, true), 'the password');
    throw new CliError(`no password and no terminal to ask on: pass --password-stdin (the password as stdin's first line) or set ${LOGIN_ENV.password}`);
  }

  /** The new password after a temporary one (NEW_PASSWORD_REQUIRED); on a terminal, typed twice. */
  async newPassword(): Promise<string> {
    if (this.flags.newPasswordStdin) return this.line('--new-password-stdin', 'the new password');
    if (this.env[LOGIN_ENV.newPassword]) return this.env[LOGIN_ENV.newPassword]!;
    if (!this.terminal.interactive) {
      throw new CliError(`this is the first sign-in with a temporary password and a new one is needed, but there is no terminal to ask on: pass --new-password-stdin (the new password as the next stdin line) or set ${LOGIN_ENV.newPassword}`);
    }
    this.terminal.info('This is your first sign-in: choose a new password (at least 14 characters, with upper- and lower-case letters, a digit and a symbol).');
    const first = nonEmpty(await this.terminal.ask('New password: ', true), 'the new password');
    const again = await this.terminal.ask('New password again: ', true);
    if (first !== again) throw new CliError('the two new passwords differ: run tessera login again and type the same one twice');
    return first;
  }

  /** The current 6-digit code of the authenticator app. */
  async totpCode(): Promise<string> {
    let code = this.flags.totpCode;
    if (code === '-') code = await this.line('--totp-code -', 'the authenticator code');
    else if (code === undefined) {
      if (!this.terminal.interactive) throw new CliError('an authenticator code is needed and there is no terminal to ask on: pass --totp-code <6 digits> (or --totp-code - to read it from stdin when asked)');
      code = await this.terminal.ask('Code from your authenticator app: ', false);
    }
    code = code.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(code)) throw new CliError(`the authenticator code "${code}" is not 6 digits: type the code the app shows for Tessera`);
    this.flags.totpCode = undefined; // a code is good for one answer: ask again if Cognito asks again
    return code;
  }

  private async line(flag: string, what: string): Promise<string> {
    const line = await this.terminal.nextLine();
    if (line === undefined) throw new CliError(`${flag}: stdin ended before ${what}: give one line per value (password, then the new password, then the code, as asked)`);
    return nonEmpty(line, what, flag);
  }
}

function nonEmpty(value: string, what: string, flag?: string): string {
  if (!value) throw new CliError(`${what} is empty${flag ? ` (${flag} read an empty line)` : ''}: type it again`);
  return value;
}
