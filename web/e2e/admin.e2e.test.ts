// End-to-end: the real product (cmd/regulars-dev: the platform stand-in and the app on SQLite,
// installed into the demo shop) driven in headless Chromium through the stand-in's admin page,
// which frames our /app with the App Bridge stand-in. Screenshots go to e2e/artifacts/.
//
// Needs Go and /usr/bin/chromium (scripts/ensure-chromium installs it); never downloads a
// browser. Run with `npm run test:e2e` after `npm run build` (the binary embeds dist/).

import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {chromium, type BrowserContext, type FrameLocator, type Locator, type Page} from 'playwright-core';
import {afterAll, beforeAll, describe, expect, it as vitestIt} from 'vitest';

const repoRoot = path.resolve(__dirname, '../..');
const artifacts = path.resolve(__dirname, 'artifacts');
const chromiumPath = process.env.REGULARS_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let tmp = '';
let server: ChildProcess | null = null;
let serverLog = '';
let context: BrowserContext | null = null;
let page: Page;
let app: FrameLocator;
let adminURL = '';
let checkoutURL = '';
const pageErrors: string[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function goBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, 'go'))) return path.join(dir, 'go');
  }
  return '/usr/local/go/bin/go';
}

/** startProduct builds and starts cmd/regulars-dev on free ports with a fresh database, and returns the admin URL it prints. */
async function startProduct(): Promise<string> {
  const bin = path.join(tmp, 'regulars-dev');
  execFileSync(goBinary(), ['build', '-o', bin, './cmd/regulars-dev'], {cwd: repoRoot, stdio: 'inherit'});
  const [appPort, platformPort] = [await freePort(), await freePort()];
  server = spawn(bin, [], {
    cwd: repoRoot, // the stand-in reads the pinned schemas from the repository
    env: {
      ...process.env,
      DATABASE_URL: `sqlite:${path.join(tmp, 'regulars.db')}`,
      REGULARS_ADDR: `127.0.0.1:${appPort}`,
      REGULARS_PLATFORM_ADDR: `127.0.0.1:${platformPort}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`regulars-dev printed no admin URL in 120 s:\n${serverLog.slice(-4000)}`)), 120_000);
    const onData = (chunk: Buffer) => {
      serverLog += chunk.toString();
      const m = /Merchant admin \(the app embedded\):\s+(\S+)/.exec(serverLog);
      const c = /Storefront checkout:\s+(\S+)/.exec(serverLog);
      if (m && c) {
        clearTimeout(timer);
        checkoutURL = c[1];
        resolve(m[1]);
      }
    };
    server!.stdout!.on('data', onData);
    server!.stderr!.on('data', (c: Buffer) => (serverLog += c.toString()));
    server!.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`regulars-dev exited with ${code}:\n${serverLog.slice(-4000)}`));
    });
  });
}

async function shot(name: string) {
  await page.waitForTimeout(300); // let transitions settle
  await page.screenshot({path: path.join(artifacts, `${name}.png`), fullPage: true});
}

/** nav opens a section through the app's navigation (the in-app menu the stand-in shows). */
async function nav(label: string) {
  await app.getByRole('navigation', {name: 'Regulars'}).getByRole('link', {name: label, exact: true}).click();
}

/** it is vitest's it, saving a screenshot of the page when the test fails. */
function it(name: string, fn: () => Promise<void> | void) {
  vitestIt(name, async () => {
    try {
      await fn();
    } catch (e) {
      const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      await page?.screenshot({path: path.join(artifacts, `failed-${slug}.png`), fullPage: true}).catch(() => {});
      throw e;
    }
  });
}

function field(label: string): Locator {
  return app.getByLabel(label, {exact: true});
}

beforeAll(async () => {
  fs.mkdirSync(artifacts, {recursive: true});
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'regulars-e2e-'));
  adminURL = await startProduct();
  context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: {width: 1440, height: 1800},
    acceptDownloads: true,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(adminURL);
  app = page.frameLocator('iframe#app');
});

afterAll(async () => {
  await context?.close().catch(() => {});
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
});

describe('the admin UI, embedded in the platform stand-in', () => {
  it('loads in the admin frame with App Bridge', async () => {
    await expect.poll(() => app.getByRole('heading', {name: 'Offers', exact: true}).isVisible()).toBe(true);
    // The UI's API calls carried App Bridge's ID token: the empty state (or a list) shows, not an error.
    await expect.poll(() => app.getByText('Reward your regular customers').isVisible()).toBe(true);
    await shot('01-offers-empty');
  });

  it('creates a purchase-driven coupon through the editor, shows errors at their fields, and lists it synced', async () => {
    await app.getByRole('link', {name: 'Create offer', exact: true}).first().click();
    await expect.poll(() => app.getByRole('heading', {name: 'Create offer'}).isVisible()).toBe(true);

    await field('Name').fill('E2E regulars');
    await field('Code').fill('BAD CODE!');
    await field('Percentage off').fill('15');
    await field('Maximum discount').fill('12.345');
    await app.getByRole('button', {name: 'Create offer'}).last().click();
    // The form's own check: money with too many decimals, at its field.
    await expect.poll(() => app.getByText('Enter at most 2 decimals').isVisible()).toBe(true);
    await field('Maximum discount').fill('20');
    await app.getByRole('button', {name: 'Create offer'}).last().click();
    // The server's 422, by JSON path (application.code), at the code field.
    const codeError = app.getByText('Must contain only letters and digits');
    await expect.poll(() => codeError.isVisible()).toBe(true);
    await expect.poll(() => app.getByText('1 field needs attention').isVisible()).toBe(true);
    await shot('02-offer-editor-errors');

    await field('Code').fill('E2E15');
    await field('Orders counted over').selectOption('days');
    await field('Number of days').fill('365');
    await field('Minimum number of orders').fill('2');
    await field('Minimum subtotal').fill('50');
    await field('Title shown to shoppers').fill('15% for our regulars');
    await field('Unlock message').fill('Only {amount} more for {title}');
    await field('Preview with a cart of').fill('40');
    // The live preview: the unlock message with {amount} and {title} filled in.
    await expect.poll(() => app.getByTestId('unlock-message').textContent()).toBe('Only 10.00 USD more for 15% for our regulars');
    await app.locator('html').evaluate(() => window.scrollTo(0, 0));
    await shot('03-offer-editor');

    await app.getByRole('button', {name: 'Create offer'}).last().click();
    await expect.poll(() => app.getByText('Offer created').isVisible()).toBe(true);
    const row = app.getByRole('row').filter({hasText: 'E2E regulars'});
    await expect.poll(() => row.getByText('Code E2E15').isVisible()).toBe(true);
    // Synced to the platform as an app discount; the list polls while it is pending.
    await expect.poll(() => row.getByText('Synced', {exact: true}).isVisible(), {timeout: 60_000}).toBe(true);
    await shot('04-offers-list');
  });

  it('filters, bulk pauses and resumes, and duplicates offers', async () => {
    await field('Search offers').fill('nothing-matches');
    await expect.poll(() => app.getByText('No offers match the filters.').isVisible()).toBe(true);
    await field('Search offers').fill('E2E');
    const row = app.getByRole('row').filter({hasText: 'E2E regulars'});
    await row.getByRole('checkbox').check();
    await app.getByRole('button', {name: 'Pause', exact: true}).click();
    await expect.poll(() => app.getByText('1 offer paused').isVisible()).toBe(true);
    await expect.poll(() => row.getByText('Paused', {exact: true}).isVisible()).toBe(true);
    await row.getByRole('checkbox').check();
    await app.getByRole('button', {name: 'Resume', exact: true}).click();
    await expect.poll(() => app.getByText('1 offer resumed').isVisible()).toBe(true);
    await expect.poll(() => row.getByText('Active', {exact: true}).isVisible()).toBe(true);
    await row.getByRole('button', {name: 'Duplicate E2E regulars'}).click();
    await expect.poll(() => app.getByRole('heading', {name: 'E2E regulars (copy)'}).isVisible()).toBe(true);
    await nav('Offers');
    await field('Search offers').fill('');
  });

  it('creates a segment and a segment offer with tiers, and reorders segments', async () => {
    await nav('Segments');
    await expect.poll(() => app.getByText('No segments yet').isVisible()).toBe(true);
    await app.getByRole('link', {name: 'Create segment'}).first().click();
    await field('Name').fill('London VIPs');
    await field('Customer tags').fill('VIP');
    await field('Cities').fill('London');
    await field('Countries').fill('uk');
    await app.getByRole('button', {name: 'Save segment'}).last().click();
    // The server names the bad country by its JSON path (rules.countries[0]).
    await expect.poll(() => app.getByText('Entry 1: Is not an ISO 3166-1 country code; the United Kingdom is GB').isVisible()).toBe(true);
    await field('Countries').fill('gb');
    await app.getByRole('button', {name: 'Save segment'}).last().click();
    await expect.poll(() => app.getByText('London VIPs is saved').isVisible()).toBe(true);

    await app.getByRole('button', {name: 'Create offer for this segment'}).first().click();
    await expect.poll(() => app.getByRole('heading', {name: 'Create offer'}).isVisible()).toBe(true);
    await expect(await field('Name').inputValue()).toBe('London VIPs: spend more, save more');
    expect(await field('Discount').inputValue()).toBe('tiered');
    expect(await field('Customers').inputValue()).toBe('segment');
    expect(await field('Combines with codes').isChecked()).toBe(false);
    await field('Tier 2: percentage').fill('15');
    await field('Tier 2: free shipping too').check();
    await app.getByRole('button', {name: 'Add tier'}).click();
    await field('Tier 3: from (cart value)').fill('150');
    await field('Tier 3: discount').selectOption('fixed_amount');
    await field('Tier 3: amount').fill('25');
    await shot('05-segment-offer-editor');
    await app.getByRole('button', {name: 'Create offer'}).last().click();
    const row = app.getByRole('row').filter({hasText: 'London VIPs: spend more, save more'});
    await expect.poll(() => row.getByText('Tiers', {exact: true}).isVisible()).toBe(true);
    await expect.poll(() => row.getByText('Synced', {exact: true}).isVisible(), {timeout: 60_000}).toBe(true);

    // A second segment goes below the first; moving it up makes it the highest.
    await nav('Segments');
    await app.getByRole('link', {name: 'Create segment'}).first().click();
    await field('Name').fill('Royal Mail regulars');
    await field('Delivery methods').fill('Royal Mail');
    await app.getByRole('button', {name: 'Save segment'}).last().click();
    await expect.poll(() => app.getByText('Royal Mail regulars is saved').isVisible()).toBe(true);
    await nav('Segments');
    const items = app.getByRole('list', {name: 'Segments by priority'}).getByRole('listitem');
    await expect.poll(() => items.first().textContent()).toContain('London VIPs');
    await app.getByRole('button', {name: 'Move Royal Mail regulars up'}).click();
    await expect.poll(() => items.first().textContent()).toContain('Royal Mail regulars');
    await expect.poll(() => app.getByRole('status').filter({hasText: 'moved to position 1 of 2'}).count()).toBe(1);
    // Saved: the order survives a reload.
    await nav('Offers');
    await nav('Segments');
    await expect.poll(() => items.first().textContent()).toContain('Royal Mail regulars');
    await shot('06-segments');
  });

  it('generates a batch of unique codes with a progress bar, imports and exports codes', async () => {
    await nav('Offers');
    await app.getByRole('link', {name: 'Create offer with unique codes'}).first().click();
    await expect.poll(() => app.getByRole('heading', {name: 'Create offer'}).isVisible()).toBe(true);
    expect(await field('How shoppers get it').inputValue()).toBe('codes');
    await field('Name').fill('E2E unique codes');
    await field('Percentage off').fill('10');
    await app.getByRole('button', {name: 'Create offer'}).last().click();
    await expect.poll(() => app.getByRole('heading', {name: 'Codes: E2E unique codes'}).isVisible()).toBe(true);

    await field('Number of codes').fill('2500');
    await field('Prefix').fill('E2E');
    await app.getByRole('button', {name: 'Generate', exact: true}).click();
    await expect.poll(() => app.getByRole('progressbar').count()).toBe(1);
    await expect.poll(() => app.getByText('Generated 2,500 codes.').isVisible(), {timeout: 60_000}).toBe(true);
    await shot('07-codes-generated');

    const [download] = await Promise.all([page.waitForEvent('download'), app.getByRole('button', {name: 'Export CSV'}).click()]);
    const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
    expect(csv.length).toBe(2501); // the header and every code
    expect(csv.slice(1).every((l) => l.startsWith('E2E'))).toBe(true);

    await app.locator('input[type="file"]').setInputFiles({
      name: 'codes.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`code,customer_id,single_use\nE2EIMPORTED1,,true\nbad code!,,true\n${csv[1].split(',')[0]},,true\n`),
    });
    await app.getByRole('button', {name: 'Import', exact: true}).click();
    await expect.poll(() => app.getByText('Imported 1 code; 2 rows skipped').isVisible()).toBe(true);
    await expect.poll(() => app.getByText('already exists in this offer').isVisible()).toBe(true);
    await shot('08-codes-import-report');
  });

  it('runs the checkout simulator for a customer of the shop', async () => {
    await nav('Checkout simulator');
    await field('Find a customer').fill('ada');
    const matches = app.getByRole('list', {name: 'Matching customers'});
    await expect.poll(() => matches.getByRole('listitem').count()).toBe(1);
    await matches.getByRole('button').first().click();
    await field('Discount codes entered').fill('E2E15');
    await field('Line 1: unit price').fill('60');
    await app.getByRole('button', {name: 'Run simulation'}).click();
    const cart = app.getByRole('list', {name: 'Cart lines (product and order discounts)'});
    // A regular (22 orders): the coupon applies, 15% of 2 × 60.00, under its 20.00 cap.
    const applied = cart.getByRole('listitem').filter({hasText: '15% for our regulars'}).filter({hasText: /Applied/});
    await expect.poll(() => applied.count(), {timeout: 30_000}).toBe(1);
    expect(await applied.textContent()).toContain('−$18.00');
    await expect.poll(() => app.getByTestId('sim-summary').textContent()).toBe('Items discount $18.00 · Shipping discount $0.00');
    // Every other offer says why it did not apply.
    const other = cart.getByRole('listitem').filter({hasText: 'E2E unique codes'});
    expect(await other.textContent()).toContain('None of its codes was entered.');
    await app.getByRole('button', {name: 'Operations returned to the platform'}).click();
    await shot('09-simulator');
  });

  it('a shopper uses the coupon at the storefront checkout', async () => {
    const shopper = await context!.newPage();
    try {
      await shopper.goto(checkoutURL);
      // A regular: a customer with many orders (the demo shop's first customers have dozens).
      const customer = shopper.getByLabel('Customer', {exact: true});
      const options = await customer.locator('option').allTextContents();
      const ada = options.find((o) => o.includes('ada.lovelace'));
      expect(ada).toBeTruthy();
      await customer.selectOption({label: ada!});
      await shopper.locator('input.qty').first().fill('4');
      await shopper.getByLabel('Codes, separated by commas').fill('E2E15');
      await shopper.getByRole('button', {name: 'Update cart'}).click();
      await expect.poll(() => shopper.getByText('15% for our regulars').first().isVisible()).toBe(true);
      await shopper.screenshot({path: path.join(artifacts, '10-storefront-checkout.png'), fullPage: true});
      await shopper.getByRole('button', {name: 'Place order'}).click();
      await expect.poll(() => shopper.getByRole('status').filter({hasText: 'placed'}).isVisible()).toBe(true);
    } finally {
      await shopper.close();
    }
  });

  it('opens analytics with charts, the comparison, and a backtest', async () => {
    await nav('Analytics');
    // The order reaches the app by webhook; the figures count it once it is processed.
    const row = app.getByRole('row').filter({hasText: /^E2E regulars\d/});
    await expect
      .poll(
        async () => {
          await app.getByRole('button', {name: 'Show'}).click();
          await page.waitForTimeout(500);
          return (await row.first().textContent()) ?? '';
        },
        {timeout: 60_000},
      )
      .toMatch(/^E2E regulars1(\D|$)/);
    await expect.poll(() => app.getByRole('img', {name: /Discount given and revenue per offer/}).count()).toBe(1);
    await expect.poll(() => app.getByRole('heading', {name: 'Offers compared'}).isVisible()).toBe(true);
    await expect.poll(() => app.getByRole('img', {name: /Redemptions per offer/}).count()).toBe(1);
    await expect.poll(() => app.getByRole('heading', {name: 'Campaigns'}).isVisible()).toBe(true);
    const offerSelect = app.getByRole('combobox', {name: 'Offer'}).last();
    await offerSelect.selectOption({label: 'E2E regulars (active)'});
    await app.getByRole('button', {name: 'Run backtest'}).last().click();
    await expect.poll(() => app.getByText(/orders considered/).isVisible(), {timeout: 60_000}).toBe(true);
    await shot('11-analytics');
    await app.locator('html').evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await shot('12-analytics-backtest');
  });

  it('shows and saves the settings', async () => {
    await nav('Settings');
    await expect.poll(() => field('Timezone').isVisible()).toBe(true);
    await field('Count test orders').check();
    await app.getByRole('button', {name: 'Save'}).last().click();
    await expect.poll(() => app.getByText('Settings saved').first().isVisible()).toBe(true);
    await shot('13-settings');
  });

  it('raised no uncaught error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
