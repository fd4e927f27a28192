/** Types of bin/app-bundle.mjs (see its docstring). */
export function appBundle(options?: { root?: string; entry?: string; cacheDir?: string }): Promise<{ path: string; built: boolean }>;
