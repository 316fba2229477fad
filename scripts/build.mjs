// Compiles src/ to dist/ and copies the SQL migrations beside the compiled store.
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
cpSync('src/store/migrations', 'dist/store/migrations', { recursive: true });
