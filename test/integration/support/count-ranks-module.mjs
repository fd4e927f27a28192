// `node --import <this file> ...` (test/integration/serve-tokenizer-load.test.ts): prints on stderr, at exit, how many
// times the process loaded gpt-tokenizer's o200k ranks module (an in-thread load hook, Node's `module.registerHooks`).
import { registerHooks } from 'node:module';

let loaded = 0;
registerHooks({ load(url, context, nextLoad) { if (/\/gpt-tokenizer\/esm\/bpeRanks\/o200k_base\.js$/.test(new URL(url).pathname)) loaded++; return nextLoad(url, context); } });
process.on('exit', () => { process.stderr.write(`o200k ranks loaded: ${loaded}\n`); });
