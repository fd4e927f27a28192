import { join } from 'node:path';
import { runPythonCode } from './python-zygote.js';

/** The kubectl guards' folder (lambdas/namespace-kubectl): each guard imports aws-eks' handler as `index` beside it. */
const GUARD_DIR = join(import.meta.dirname, '..', '..', 'lambdas', 'namespace-kubectl');

/** Runs each event through `<module>.handler` with a stand-in `index` handler; prints one outcome per event as JSON. */
const DRIVER = `
import importlib, json, sys, types
sys.path.insert(0, sys.argv[1])
calls = []
sys.modules['index'] = types.SimpleNamespace(handler=lambda event, context: calls.append(event) or {'PhysicalResourceId': 'x'})
guard = importlib.import_module(sys.argv[2])
out = []
for event in json.loads(sys.argv[3]):
    before = len(calls)
    try:
        guard.handler(event, None)
        out.append('handled' if len(calls) == before + 1 else 'not handled')
    except Exception as e:
        out.append(type(e).__name__ + ': ' + str(e))
print(json.dumps(out))
`;

/**
 * Each custom resource event through a kubectl guard's `handler` (in one Python process): `handled` when it reached aws-eks'
 * handler (a stand-in here), `not handled` when it returned without, or the refusal's class and message
 * (`TenantManifestError: …`).
 * @param module the guard's module: `tenant_role_guard` (the namespace kubectl provider) or `tenant_manifest_guard` (the shared cluster's)
 */
export async function kubectlGuardOutcomes(module: 'tenant_role_guard' | 'tenant_manifest_guard', events: Array<Record<string, unknown>>): Promise<string[]> {
  const { stdout } = await runPythonCode(DRIVER, [GUARD_DIR, module, JSON.stringify(events)]);
  return JSON.parse(stdout) as string[];
}
