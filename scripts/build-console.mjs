// The Console: one bundle (Preact and the views), its page and stylesheet, into
// dist/console/; served by Herald under /console/ (src/api/plugins/console.ts).
// Type-checked by `npm run typecheck` (console/tsconfig.json), not here.
import { cpSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

mkdirSync('dist/console', { recursive: true });
await build({
  entryPoints: ['console/src/main.tsx'],
  outfile: 'dist/console/app.js',
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  logLevel: 'warning',
});
cpSync('console/index.html', 'dist/console/index.html');
cpSync('console/styles.css', 'dist/console/styles.css');
