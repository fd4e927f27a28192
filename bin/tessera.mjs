#!/usr/bin/env node
// The `tessera` CLI: runs the TypeScript entry through tsx (a runtime dependency, as for the CDK app).
import { register } from 'tsx/esm/api';

register();
await import('./tessera-cli.ts');
