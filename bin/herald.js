#!/usr/bin/env node
// The `herald` CLI. Runs the compiled build (made by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('herald: the build is missing; run `npm run build` (npm install does it for you).');
  process.exit(1);
}
await import(entry.href);
