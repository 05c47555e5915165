#!/usr/bin/env node
import module from 'node:module';

/**
 * The `mqimg` executable. It only turns on Node's compile cache (Node 22.1 and later; Node 20 has none), which
 * keeps V8's compiled code across runs, before anything else is loaded; then it runs the CLI (main.ts). Built,
 * this file is the entry of the bundle that scripts/build-cli.mjs writes to dist/bin/mqimg.js.
 */
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
void import('./main.js');
