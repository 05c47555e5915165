#!/usr/bin/env node
import module from 'node:module';
import { installCodeCache } from './code-cache.js';

/**
 * The `mqimg` executable. Before anything else is loaded it turns on a cache of V8's compiled code: Node's own
 * compile cache where Node has it (22.1 and later), else code-cache.ts's (Node 20). Then it runs the CLI
 * (main.ts). Built, this file is the entry of the bundle that scripts/build-cli.mjs writes to dist/bin/mqimg.js.
 */
const nodeModule = module as { enableCompileCache?: () => unknown };
if (nodeModule.enableCompileCache) nodeModule.enableCompileCache();
else if (typeof __dirname === 'string') installCodeCache(__dirname);
void import('./main.js');
