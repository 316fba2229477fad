// Compiles src/ to dist/ and copies the SQL migrations beside the compiled store; builds
// the receiver SDK (packages/webhooks/dist) and the Console (console/ → dist/console/).
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
cpSync('src/store/migrations', 'dist/store/migrations', { recursive: true });
// The receiver SDK, its own package (packages/webhooks): imports nothing from the server.
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'packages/webhooks/tsconfig.json'], { stdio: 'inherit' });

// The Console (console/ → dist/console/).
await import('./build-console.mjs');
