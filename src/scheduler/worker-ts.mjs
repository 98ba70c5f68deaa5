// Worker entry used only when kscale runs from its TypeScript sources (vitest):
// Node 20 cannot load .ts, so this registers a tiny loader that transpiles
// src/**/*.ts with the project's own TypeScript compiler, then hands every task
// to worker.ts. The built CLI uses dist/src/scheduler/worker.js directly.
import { register } from 'node:module';

register('./ts-loader.mjs', import.meta.url);
const mod = await import('./worker.ts');
export default mod.default;
