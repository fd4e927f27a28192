// A fake OpenAI-compatible upstream in its own process, for the gateway benchmark.
import { FakeUpstream } from '../support/fake-upstream.js';

const upstream = await new FakeUpstream().start();
// Keep no request log: the benchmark sends hundreds of thousands.
upstream.requests.push = () => 0;
process.stdout.write(`${upstream.url}\n`);
