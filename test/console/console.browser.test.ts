// The Console in a real browser (Debian's chromium through playwright-core) against a
// running Herald with its worker and real receivers: sign in, create and delete a
// subscription, see a failing subscription turn ACTIVE after a resend, read an attempt
// and the request that was sent, find nothing of another organization, and the
// operator's views. Takes the screenshots in docs/console.md as it goes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';
import { testDatabases } from '../helpers/db.js';
import { startTestHerald, TEST_ADMIN_TOKEN, type TestHerald } from '../helpers/herald.js';
import { asCredential, createCredential, subscribe, type TestCredential } from '../helpers/identity.js';
import { startReceiver, type ReceivedRequest, type TestReceiver } from '../helpers/receiver.js';
import { eventually } from '../helpers/wait.js';

/**
 * Where the screenshots go: docs/console/ with HERALD_UPDATE_SCREENSHOTS=1 (`npm run
 * screenshots`, for docs/console.md), else a temporary directory (a test run leaves the
 * checkout as it was).
 */
const SHOTS =
  process.env.HERALD_UPDATE_SCREENSHOTS === '1'
    ? new URL('../../docs/console/', import.meta.url)
    : pathToFileURL(`${mkdtempSync(join(tmpdir(), 'herald-console-'))}/`);
const WIDTHS = [1280, 390] as const;
const skip = browserSkipReason();
/** axe-core, the accessibility engine, run in the page on every view the tests show. */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

describe('Console in a browser', { skip }, () => {
  let h: TestHerald;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let receiver: TestReceiver;
  let acme: TestCredential;
  let other: TestCredential;
  /** What went wrong in the page during a test (asserted after each). */
  const pageErrors: string[] = [];
  afterEach(() => {
    const seen = pageErrors.splice(0);
    assert.deepEqual(seen, []);
  });
  /** The receiver's answer to everything but the TestMessage. */
  let answer = 200;

  before(async () => {
    h = await startTestHerald(testDatabases()[0]!, { roles: { api: true, worker: true }, config: { retrySchedule: [3600] } });
    receiver = await startReceiver();
    receiver.respondWith((req: ReceivedRequest) =>
      (req.json as { eventName?: string } | undefined)?.eventName === 'TestMessage'
        ? { status: 200 }
        : { status: answer, body: answer === 200 ? 'thanks' : 'upstream is down, try later' },
    );
    acme = await createCredential(h, ['READ:PURCHASE', 'READ:PRODUCT', 'READ:FINANCE']);
    other = await createCredential(h, ['READ:PURCHASE', 'READ:PRODUCT', 'READ:FINANCE']);
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await receiver?.close();
    await h?.stop();
  });

  async function freshPage(): Promise<Page> {
    await context?.close();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`the page threw: ${err.message}`));
    // The page must work under its own Content-Security-Policy.
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) pageErrors.push(`CSP violation: ${m.text()}`);
    });
    return page;
  }

  /**
   * Screenshots of the view at 1280 and 390 px; at each width the view fits with no
   * sideways scrolling and axe-core finds no WCAG 2.1 A/AA violation (labels, names,
   * contrast, landmarks, ARIA).
   */
  async function shoot(name: string) {
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForFunction((w) => (globalThis as unknown as { innerWidth: number }).innerWidth === w, width);
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
      assert.ok(overflow <= 0, `${name} at ${width} px scrolls sideways by ${overflow} px`);
      await page.screenshot({ path: new URL(`${name}-${width}.png`, SHOTS).pathname, fullPage: true });
      const violations = await accessibilityViolations();
      assert.deepEqual(
        violations.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
        [],
        `${name} at ${width} px`,
      );
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  /**
   * Presses Refresh and waits for the answers to show: true once the subscription's status
   * is `status`. Paced by the server's answers, not by a timer.
   */
  async function refreshedStatus(status: string): Promise<true | undefined> {
    const stats = page.waitForResponse((r) => r.url().includes('/subscription-stats'));
    const messages = page.waitForResponse((r) => r.url().includes('/messages?'));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await Promise.all([stats, messages]);
    await page.locator('[aria-busy="true"]').waitFor({ state: 'detached' });
    return (await page.locator('.heading .badge').textContent()) === status ? true : undefined;
  }

  async function accessibilityViolations(): Promise<AxeViolation[]> {
    // Evaluated through the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(AXE);
    return page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
      const r = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
    });
  }

  async function signIn(secret: string, as: 'an API key' | 'the admin token' = 'an API key') {
    await page.goto(`${h.url}/console/`);
    await page.getByLabel(as === 'an API key' ? 'an API key' : /the admin\s+token/).check();
    await page.getByLabel(as === 'an API key' ? 'API key' : 'Admin token', { exact: true }).fill(secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it("the API reference at /docs renders under its Content-Security-Policy (it shares the Console's origin)", async () => {
    await freshPage();
    const res = await page.goto(`${h.url}/docs/`);
    assert.match(res!.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    await page.locator('.swagger-ui .info .title').filter({ hasText: 'Herald' }).waitFor();
    await page.locator('.opblock-tag').first().waitFor();
  });

  it('signs in with an API key from the keyboard; a wrong key is told why and gets no session', async () => {
    await freshPage();
    await page.goto(`${h.url}/console/`);
    await page.getByRole('heading', { name: 'Herald Console' }).waitFor();
    await shoot('sign-in');
    await page.getByLabel('API key', { exact: true }).fill('hk_live_not-a-key');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'unknown API key' }).waitFor();
    assert.deepEqual(await context.cookies(), []);

    await page.getByLabel('API key', { exact: true }).fill(acme.apiKey);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Subscriptions' }).waitFor();
    const cookies = await context.cookies();
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]!.httpOnly, true);
    assert.equal(cookies[0]!.sameSite, 'Strict');
    // The page's scripts cannot read the session, and the key is nowhere in the page.
    assert.equal(await page.evaluate('document.cookie'), '');
    assert.ok(!(await page.content()).includes(acme.apiKey));
  });

  it('creates a subscription with the form (a refused destination is explained), then deletes it', async () => {
    await page.getByRole('link', { name: 'New subscription' }).click();
    await page.getByRole('heading', { name: 'New subscription' }).waitFor();
    // A destination that refuses the TestMessage: the spec's error, in words.
    const refusing = await startReceiver();
    refusing.respondWith(503);
    try {
      await page.getByLabel('Destination URL').fill(refusing.url);
      await page.getByLabel('Contact email').fill('ops@acme.example');
      await page.getByRole('checkbox', { name: 'PurchaseCreated' }).check();
      await shoot('subscription-form');
      await page.getByRole('button', { name: 'Create subscription' }).click();
      await page.getByRole('alert').filter({ hasText: /503/ }).waitFor();
    } finally {
      await refusing.close();
    }
    // An invalid email: the violation beside its field.
    await page.getByLabel('Destination URL').fill(receiver.url);
    await page.getByLabel('Contact email').fill('not an email');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page.locator('#contactEmail-error').waitFor();
    assert.equal(await page.getByLabel('Contact email').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Contact email').fill('ops@acme.example');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page
      .getByRole('heading', { name: /Subscription/ })
      .filter({ hasText: receiver.url })
      .waitFor();
    const subs = (await (await asCredential(h, acme)('GET', '/organizations/self/subscriptions')).json()) as {
      uuid: string;
      destination: string;
    }[];
    assert.deepEqual(
      subs.map((s) => s.destination),
      [receiver.url],
    );

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByRole('heading', { name: 'Subscriptions' }).waitFor();
    await page.getByText('No subscriptions yet').waitFor();
    const left = (await (await asCredential(h, acme)('GET', '/organizations/self/subscriptions')).json()) as unknown[];
    assert.equal(left.length, 0);
  });

  let subscriptionUuid: string;

  it('a failing subscription turns ACTIVE after a resend', async () => {
    subscriptionUuid = (
      await subscribe(h, acme, {
        eventNames: ['PurchaseCreated', 'ProductCreated'],
        destination: receiver.url,
        contactEmail: 'ops@acme.example',
      })
    ).uuid;
    answer = 500;
    const before = receiver.requests.length;

    await page.goto(`${h.url}/console/#/subscriptions/${subscriptionUuid}`);
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByRole('status').filter({ hasText: 'Test PurchaseCreated queued' }).waitFor();
    await receiver.waitFor(before + 1);
    await eventually(() => refreshedStatus('FAILING'), 'the Console shows the subscription FAILING');
    await page.getByText(/since/).first().waitFor();
    await page.getByRole('cell', { name: 'pending' }).first().waitFor();
    await shoot('subscription-failing');

    answer = 200;
    await page.getByRole('button', { name: 'Resend undelivered' }).click();
    await page.getByRole('status').filter({ hasText: '1 message queued to be sent again' }).waitFor();
    await receiver.waitFor(before + 2);
    await eventually(() => refreshedStatus('ACTIVE'), 'the Console shows the subscription ACTIVE again');
    await page.getByRole('cell', { name: 'delivered' }).first().waitFor();

    await page.getByRole('link', { name: 'Subscriptions', exact: true }).click();
    await page.getByRole('row').filter({ hasText: receiver.url }).getByText('ACTIVE').waitFor();
    await shoot('subscriptions');
  });

  it("shows a message's attempts: status, latency, answer, and the request sent with its signatures masked", async () => {
    await page.goto(`${h.url}/console/#/subscriptions/${subscriptionUuid}`);
    await page.getByRole('row').filter({ hasText: 'PurchaseCreated' }).getByRole('link').first().click();
    await page.getByRole('heading', { name: /Message/ }).waitFor();
    await page.getByText('HTTP 500').waitFor();
    await page.getByText('upstream is down, try later').waitFor();
    await page.getByText('HTTP 200').waitFor();
    await page.getByText('Request sent').first().click();
    const received = receiver.requests
      .filter((r) => (r.json as { eventName?: string } | undefined)?.eventName === 'PurchaseCreated')
      .at(-1)!;
    const sentHeaders = page.locator('.attempt').first().locator('table.headers');
    await sentHeaders.waitFor();
    const shown = await sentHeaders.innerText();
    assert.match(shown, /x-izettle-signature/i);
    const signature = received.headers['x-izettle-signature'] as string;
    assert.ok(signature && !shown.includes(signature), 'the signature is masked');
    await shoot('message');
  });

  it('reveals and rotates the signing key', async () => {
    await page.goto(`${h.url}/console/#/subscriptions/${subscriptionUuid}`);
    const key = page.getByTestId('signing-key');
    const subs = async () =>
      (await (await asCredential(h, acme)('GET', '/organizations/self/subscriptions')).json()) as { signingKey: string }[];
    const first = (await subs())[0]!.signingKey;
    assert.ok(!(await key.innerText()).includes(first));
    await page.getByRole('button', { name: 'Reveal' }).click();
    assert.equal(await key.innerText(), first);
    await page.getByRole('button', { name: 'Rotate key' }).click();
    await page.getByRole('button', { name: 'Yes, rotate key' }).click();
    await page.getByRole('status').filter({ hasText: 'New key in use' }).waitFor();
    const second = (await subs())[0]!.signingKey;
    assert.notEqual(second, first);
    await eventually(async () => ((await key.innerText()) === second ? true : undefined), 'the new key is shown');
  });

  it('the event catalog shows an example payload for every event', async () => {
    await page.getByRole('link', { name: 'Event catalog' }).click();
    await page.getByRole('heading', { name: 'Event catalog' }).waitFor();
    const events = (await (await h.request('/events')).json()) as { eventName: string }[];
    await page.locator('#event-PurchaseCreated').waitFor();
    assert.equal(await page.locator('.catalog > li').count(), events.length);
    await page.locator('#event-PurchaseCreated summary').click();
    await page.getByLabel('Example payload of PurchaseCreated').waitFor();
    await shoot('events');
  });

  it("another organization's subscription and message show nothing", async () => {
    // Organization "other" has a subscription with a delivered message.
    const otherSub = (
      await subscribe(h, other, {
        eventNames: ['PurchaseCreated'],
        destination: `${receiver.url}?tenant=other-secret-destination`,
        contactEmail: 'other@other.example',
      })
    ).uuid;
    const sent = await asCredential(h, other)('POST', `/organizations/self/subscriptions/${otherSub}/test-event`, {
      eventName: 'PurchaseCreated',
    });
    assert.equal(sent.status, 202);
    const { messageId } = (await sent.json()) as { messageId: string };

    const theirs = async () => {
      const r = await asCredential(h, other)('GET', `/organizations/self/subscriptions/${otherSub}/messages/${messageId}/attempts`);
      assert.equal(r.status, 200);
      const { message } = (await r.json()) as { message: { state: string; attempts: number } };
      return message;
    };
    await receiver.waitFor(receiver.requests.length + 1);
    const before = await eventually(async () => {
      const m = await theirs();
      return m.state === 'delivered' ? m : undefined;
    }, 'their message is delivered');

    for (const view of [
      `#/subscriptions/${otherSub}`,
      `#/subscriptions/${otherSub}/messages/${messageId}`,
      `#/subscriptions/${otherSub}/edit`,
    ]) {
      await page.goto(`${h.url}/console/${view}`);
      await page
        .getByText(/not found|No such subscription/i)
        .first()
        .waitFor();
      // Nothing to act on: no button of the views' (resend, edit, delete) is offered.
      for (const name of ['Resend', 'Resend undelivered', 'Delete', 'Save'])
        assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `${view}: ${name}`);
      const text = await page.locator('main').innerText();
      assert.match(text, /not found|No such subscription|No subscription/i, view);
      assert.ok(!text.includes('other-secret-destination'), `${view} shows the other organization's destination`);
      assert.ok(!text.includes('other@other.example'), `${view} shows the other organization's contact`);
    }
    // And nothing changed: their message is as it was.
    assert.deepEqual(await theirs(), before);
  });

  it('operator: the delivery backlog and chart, organizations and their keys, the mail outbox', async () => {
    // A destination that is down: its subscription turns FAILING, so the operator sees it.
    const down = await startReceiver();
    down.respondWith((req: ReceivedRequest) =>
      (req.json as { eventName?: string } | undefined)?.eventName === 'TestMessage'
        ? { status: 200 }
        : { status: 503, body: 'maintenance' },
    );
    try {
      const as = asCredential(h, acme);
      const { uuid } = await subscribe(h, acme, {
        eventNames: ['ProductCreated'],
        destination: down.url,
        contactEmail: 'ops@acme.example',
      });
      assert.equal((await as('POST', `/organizations/self/subscriptions/${uuid}/test-event`, {})).status, 202);
      await down.waitFor(2);
      await eventually(async () => {
        const list = (await (await as('GET', '/organizations/self/subscriptions')).json()) as { uuid: string; status: string }[];
        return list.find((x) => x.uuid === uuid)?.status === 'FAILING' ? true : undefined;
      }, 'the subscription to the destination that is down is FAILING');
      await operatorViews(down.origin);
    } finally {
      await down.close();
    }
  });

  async function operatorViews(downOrigin: string) {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.deepEqual(await context.cookies(), []);
    await signIn(TEST_ADMIN_TOKEN, 'the admin token');
    await page.getByRole('heading', { name: 'Delivery' }).waitFor();
    await page.getByText('Waiting to be sent').waitFor();
    await page.locator('figure.chart svg').waitFor();
    const troubled = page.getByRole('row').filter({ hasText: downOrigin });
    await troubled.waitFor();
    assert.match(await troubled.innerText(), /1\s+since/);
    await shoot('operator-delivery');

    await page.getByRole('link', { name: 'Organizations', exact: true }).click();
    await page.getByLabel('New organization’s name').fill('Globex');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Globex' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Webshop');
    await page.getByRole('checkbox', { name: 'READ:PURCHASE' }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const newKey = await page.getByTestId('new-api-key').inputValue();
    // The key works, and shows up (without its secret) in the list.
    const me = await h.request('/users/self', { headers: { authorization: `Bearer ${newKey}` } });
    assert.equal(me.status, 200);
    await page.getByRole('row').filter({ hasText: 'Webshop' }).waitFor();
    await shoot('operator-organization');
    await page.getByRole('row').filter({ hasText: 'Webshop' }).getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.getByText('No live keys.').waitFor();
    assert.equal((await h.request('/users/self', { headers: { authorization: `Bearer ${newKey}` } })).status, 401);

    await page.getByRole('link', { name: 'Organizations', exact: true }).click();
    await page.getByRole('row').filter({ hasText: 'Globex' }).waitFor();
    await shoot('operator-organizations');
    await page.getByRole('link', { name: 'Mail outbox' }).click();
    await page.getByRole('heading', { name: 'Mail outbox' }).waitFor();
    await page.locator('[aria-busy="true"]').waitFor({ state: 'detached' });
    await shoot('operator-mails');
  }
});
