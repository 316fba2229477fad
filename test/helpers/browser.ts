import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * The browser the Console's tests drive: Debian's chromium (apt-get install chromium),
 * through playwright-core, which downloads no browser of its own. HERALD_CHROMIUM names
 * another executable.
 */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string | undefined {
  const own = process.env.HERALD_CHROMIUM;
  if (own) return existsSync(own) ? own : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/**
 * Why the browser tests cannot run here, or undefined when they can. With
 * HERALD_REQUIRE_BROWSER=1 (.ci/run sets it) a missing browser is a failure, not a skip.
 */
export function browserSkipReason(): string | undefined {
  if (chromiumPath()) return undefined;
  const why = `no chromium found (looked at ${process.env.HERALD_CHROMIUM ?? CANDIDATES.join(', ')}): install it with "apt-get install chromium" or set HERALD_CHROMIUM`;
  if (process.env.HERALD_REQUIRE_BROWSER === '1') throw new Error(`HERALD_REQUIRE_BROWSER=1 but ${why}`);
  return why;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath()!,
    headless: true,
    // As root in CI: chromium's sandbox needs a user namespace the container may not give.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--font-render-hinting=none'],
  });
}
