import { afterEach, describe, expect, it } from 'vitest';
import { quietBundlingProgress } from '../../lib/quiet-bundling.js';

describe('quietBundlingProgress', () => {
  const original = process.stderr.write;
  afterEach(() => { process.stderr.write = original; });

  it('drops exactly CDK\'s "Bundling asset <path>..." lines and passes everything else', () => {
    const seen: string[] = [];
    process.stderr.write = ((chunk: string) => { seen.push(chunk); return true; }) as typeof process.stderr.write;
    quietBundlingProgress(false);
    process.stderr.write('Bundling asset TesseraPlatform/Lifecycle/Fn/Code/Stage...\n');
    process.stderr.write('✘ [ERROR] Could not resolve "x"\n');
    process.stderr.write('Bundling asset failed: reason\n');
    expect(seen).toEqual(['✘ [ERROR] Could not resolve "x"\n', 'Bundling asset failed: reason\n']);
  });

  it('keeps them when asked (tessera:bundlingLogLevel=info)', () => {
    const seen: string[] = [];
    process.stderr.write = ((chunk: string) => { seen.push(chunk); return true; }) as typeof process.stderr.write;
    quietBundlingProgress(true);
    process.stderr.write('Bundling asset A/B...\n');
    expect(seen).toEqual(['Bundling asset A/B...\n']);
  });
});
