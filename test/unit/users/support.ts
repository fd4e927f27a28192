import { createHmac, randomBytes } from 'node:crypto';
import { Command } from 'commander';
import type { Terminal } from '../../../lib/cli/users/terminal.js';
import type { UsersIo } from '../../../lib/cli/users-command.js';

/** A scripted terminal: `answers` to prompts in order, `lines` for stdin; records what it was asked and told. */
export class FakeTerminal implements Terminal {
  readonly asked: Array<{ question: string; secret: boolean }> = [];
  readonly told: string[] = [];
  constructor(readonly interactive: boolean, private readonly answers: string[] = [], private readonly lines: string[] = []) {}
  async ask(question: string, secret: boolean) {
    this.asked.push({ question, secret });
    return this.answers.shift() ?? '';
  }
  async nextLine() {
    return this.lines.shift();
  }
  info(text: string) {
    this.told.push(text);
  }
}

/** An unsigned JWT with `payload` (the CLI only reads claims; the gateway verifies). */
export function fakeJwt(payload: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'test' })}.${part(payload)}.${Buffer.from('signature').toString('base64url')}`;
}

/** Cognito's PASSWORD_VERIFIER challenge with well-formed SRP values (any B, salt and secret block can be signed). */
export function passwordVerifier(userIdForSrp = 'a1b2c3d4-0000-4000-8000-000000000001') {
  return {
    ChallengeName: 'PASSWORD_VERIFIER' as const,
    Session: undefined,
    ChallengeParameters: { SALT: randomBytes(16).toString('hex'), SRP_B: randomBytes(384).toString('hex'), SECRET_BLOCK: randomBytes(64).toString('base64'), USER_ID_FOR_SRP: userIdForSrp, USERNAME: userIdForSrp },
  };
}

/** An RFC 6238 TOTP code (SHA1, 6 digits, 30 s) of a base32 secret: what an authenticator app shows. */
export function totp(base32Secret: string, now = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of base32Secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** A TOTP code with at least 5 s of its 30 s window left (waits for the next window otherwise), so a check made a moment later sees the same code. */
export async function freshTotp(base32Secret: string): Promise<string> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 5_000) await new Promise((r) => setTimeout(r, left + 100));
  return totp(base32Secret);
}

/** Runs a `tessera` subcommand in-process with the CLI's global options; returns what it printed. */
export async function runCli(make: (io: UsersIo) => Command, args: string[], terminal: Terminal = new FakeTerminal(false)): Promise<{ out: string[]; terminal: Terminal }> {
  const out: string[] = [];
  const program = new Command('tessera').option('--api-url <url>').option('--region <region>').option('--json').exitOverride();
  program.addCommand(make({ out: (text) => void out.push(text), terminal: () => terminal }).exitOverride());
  await program.parseAsync(['node', 'tessera', ...args]);
  return { out, terminal };
}
