// The layering of docs/architecture.md, enforced: nothing imports what stands above it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const CONSOLE = fileURLToPath(new URL('../console/src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(p) ? [p] : [];
  });
}

/** The top-level module a file belongs to: api, domain, store, ... or '' for src/*.ts leaves. */
const moduleOf = (path: string) => {
  const rel = relative(SRC, path);
  return rel.includes('/') ? rel.split('/')[0]! : '';
};

/** What each module may import from Herald's own code (leaves '' are open to all). */
const ALLOWED: Record<string, string[]> = {
  '': [''],
  store: ['', 'store'],
  domain: ['', 'domain', 'store'],
  sources: ['', 'sources', 'domain', 'store'],
  delivery: ['', 'delivery', 'domain', 'store'],
  api: ['', 'api', 'domain', 'sources', 'store'],
  runtime: ['', 'runtime', 'api', 'delivery', 'domain', 'store'],
  cli: ['', 'cli', 'runtime', 'store', 'domain'],
};

describe('architecture', () => {
  const all = files(SRC);

  it('every module is known', () => {
    for (const f of all) assert.ok(moduleOf(f) in ALLOWED, `${relative(SRC, f)} is in an unknown module`);
  });

  it('imports point one way: api -> domain -> store; delivery -> store; sources -> domain', () => {
    const violations: string[] = [];
    for (const f of all) {
      const from = moduleOf(f);
      for (const m of readFileSync(f, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = moduleOf(resolve(dirname(f), m[1]!));
        if (!ALLOWED[from]!.includes(target)) violations.push(`${relative(SRC, f)} imports ${m[1]} (${from || 'leaf'} -> ${target || 'leaf'})`);
      }
    }
    assert.deepEqual(violations, []);
  });

  it('the domain knows nothing of HTTP', () => {
    for (const f of all.filter((f) => ['domain', 'store', 'delivery', 'sources'].includes(moduleOf(f)))) {
      assert.doesNotMatch(readFileSync(f, 'utf8'), /from 'fastify'|from '@fastify\//, `${relative(SRC, f)} imports Fastify`);
    }
  });

  it("the Console's page imports nothing of the server but the API's generated types", () => {
    const reaches: string[] = [];
    for (const f of files(CONSOLE)) {
      for (const m of readFileSync(f, 'utf8').matchAll(/^import (type )?[^;]*?from '(\.{1,2}\/[^']+)'/gms)) {
        const target = resolve(dirname(f), m[2]!);
        if (target.startsWith(CONSOLE)) continue;
        // Types only (erased from the bundle): the Console talks to the server over HTTP.
        if (m[1] && relative(SRC, target) === 'cli/api-schema.js') continue;
        reaches.push(`${relative(CONSOLE, f)} imports ${m[2]}`);
      }
    }
    assert.deepEqual(reaches, []);
  });
});
