import { createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
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

/** jsbn's BigInteger (the arbitrary-precision integers of cognito-srp-helper's SRP), the copy the library itself loads. */
interface JsbnBigInteger {
  modPow(exponent: JsbnBigInteger, modulus: JsbnBigInteger): JsbnBigInteger;
  signum(): number;
  abs(): JsbnBigInteger;
  toString(radix: number): string;
}
interface JsbnModule { BigInteger: { new (text: string, radix: number): JsbnBigInteger; prototype: JsbnBigInteger } }
export const srpBigInteger = (createRequire(import.meta.resolve('cognito-srp-helper'))('jsbn') as JsbnModule).BigInteger;
const jsbnModPow = srpBigInteger.prototype.modPow;

const toBigInt = (x: JsbnBigInteger) => (x.signum() < 0 ? -BigInt(`0x${x.abs().toString(16)}`) : BigInt(`0x${x.toString(16)}`));

/**
 * base^exponent mod modulus with Node's native BigInt (square and multiply), as jsbn's `modPow` defines it: a negative
 * base reduced into [0, modulus) first, the result in [0, modulus). ~10 times faster than jsbn's JavaScript at SRP's
 * 3072-bit modulus and 1024-bit exponents (~40 against ~400 ms a call on this machine under load).
 * @throws RangeError for a negative exponent (jsbn's own answers 1 there; SRP never asks it).
 */
export function nativeModPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (exponent < 0n) throw new RangeError(`negative exponent ${exponent}`);
  let b = ((base % modulus) + modulus) % modulus;
  let result = 1n;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

/**
 * Makes jsbn's `BigInteger.prototype.modPow` compute with {@link nativeModPow} (the same values: sign-in.test.ts
 * checks it against jsbn's own on a real sign-in's three calls), so a test of sign-in's challenge flow runs cognito-srp-helper's
 * whole SRP (random a, A, u, x, S, HKDF, the signature) at native speed. Process-wide until {@link useJsbnModPow}.
 */
export function useNativeModPow(): void {
  srpBigInteger.prototype.modPow = function modPow(this: JsbnBigInteger, exponent: JsbnBigInteger, modulus: JsbnBigInteger) {
    const value = nativeModPow(toBigInt(this), toBigInt(exponent), toBigInt(modulus));
    return new srpBigInteger(value.toString(16), 16);
  };
}

/** One call of jsbn's `modPow`, as {@link useJsbnModPow} records it: its operands and value as BigInts. */
export interface ModPowCall { base: bigint; exponent: bigint; modulus: bigint; value: bigint }

/** Gives jsbn back its own `modPow`; with `calls`, each call's operands and value are appended to it. */
export function useJsbnModPow(calls?: ModPowCall[]): void {
  srpBigInteger.prototype.modPow = !calls ? jsbnModPow : function modPow(this: JsbnBigInteger, exponent: JsbnBigInteger, modulus: JsbnBigInteger) {
    const value = jsbnModPow.call(this, exponent, modulus);
    calls.push({ base: toBigInt(this), exponent: toBigInt(exponent), modulus: toBigInt(modulus), value: toBigInt(value) });
    return value;
  };
}
