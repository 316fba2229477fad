// The API description tools can use (issue 10): Herald's OpenAPI document, as served at
// GET /openapi.json, passes Redocly's `recommended` ruleset (redocly.yaml) and Spectral's
// spectral:oas (.spectral.yaml) with no error and no warning. Both linters are the local
// devDependencies, run offline (no telemetry, no update check, nothing fetched).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, type TestHerald } from '../helpers/herald.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const OFFLINE = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };

/** Runs a linter; its output whatever its exit code (a linter exits non-zero when it finds errors). */
function run(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: ROOT, env: OFFLINE, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err); // not started, or killed: not a lint result
      else resolve({ stdout, stderr });
    });
  });
}

/** What a linter says, in its readable form, for the failure message. */
async function readable(command: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await run(command, args);
  return `${stdout}\n${stderr}`.trim();
}

describe('OpenAPI: lint-clean', () => {
  let h: TestHerald;
  let dir: string;
  let file: string;
  before(async () => {
    h = await startTestHerald(testDatabases().find((b) => b.name === 'pglite')!);
    const res = await h.request('/openapi.json');
    assert.equal(res.status, 200);
    dir = await mkdtemp(join(tmpdir(), 'herald-openapi-'));
    file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(await res.json(), null, 2));
  });
  after(async () => {
    await h?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('Redocly (recommended): no error, no warning', async () => {
    const args = ['lint', file, '--config', join(ROOT, 'redocly.yaml')];
    const { stdout, stderr } = await run(bin('redocly'), [...args, '--format', 'json']);
    let totals: { errors: number; warnings: number };
    try {
      totals = (JSON.parse(stdout) as { totals: { errors: number; warnings: number } }).totals;
    } catch {
      assert.fail(`redocly gave no JSON report:\n${stdout}\n${stderr}`);
    }
    if (totals.errors + totals.warnings > 0) {
      assert.fail(`redocly: ${totals.errors} errors, ${totals.warnings} warnings\n${await readable(bin('redocly'), [...args, '--format', 'codeframe'])}`);
    }
  });

  it('Spectral (spectral:oas): no error, no warning', async () => {
    const args = ['lint', file, '--ruleset', join(ROOT, '.spectral.yaml')];
    const { stdout, stderr } = await run(bin('spectral'), [...args, '--format', 'json', '--quiet']);
    let results: { severity: number }[];
    try {
      results = JSON.parse(stdout) as { severity: number }[];
    } catch {
      assert.fail(`spectral gave no JSON report:\n${stdout}\n${stderr}`);
    }
    // Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
    const errors = results.filter((r) => r.severity === 0).length;
    const warnings = results.filter((r) => r.severity === 1).length;
    if (errors + warnings > 0) {
      assert.fail(`spectral: ${errors} errors, ${warnings} warnings\n${await readable(bin('spectral'), [...args, '--format', 'stylish'])}`);
    }
  });
});
