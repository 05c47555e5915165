// Builds the display page (issue #13): dist/page/index.html and dist/page/mqimg-display.js, one self-contained
// ES module (the protocol core, zod and mqtt.js's browser build, which esbuild picks through mqtt's `browser`
// export condition). `mqimg display` serves these two files; they can also be hosted on any static web server.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'page');
await mkdir(out, { recursive: true });
const result = await build({
  entryPoints: [join(root, 'src', 'display', 'page-main.ts')],
  outfile: join(out, 'mqimg-display.js'),
  bundle: true,
  platform: 'browser',
  format: 'esm',
  // Chromium 111+, Safari 16.4+, Firefox 111+: wall tablets a few years old.
  target: ['chrome111', 'safari16.4', 'firefox111'],
  minify: true,
  sourcemap: true,
  // The map names the sources (src/ is in the package) without carrying them: a kiosk rarely opens DevTools.
  sourcesContent: false,
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});
await copyFile(join(root, 'src', 'display', 'page.html'), join(out, 'index.html'));
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
if (process.env.MQIMG_BUILD_VERBOSE) console.log(`dist/page/mqimg-display.js: ${bytes} bytes`);
