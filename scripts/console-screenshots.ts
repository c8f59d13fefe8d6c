// `npm run console:screenshots`: signs in to a running console (the one `npm start` serves, with
// the demo's cases; CONSOLE_URL for another) as the dev supervisor and link worker, and saves each
// page into docs/console/*.png for docs/console.md. Drives Debian's Chromium like the browser test.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../test/support/browser';

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8787/console/';
const out = join(__dirname, '..', 'docs', 'console');

async function signIn(browser: Browser, login: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  await page.goto(base);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('dev');
  await page.locator('button[type="submit"]').click();
  await page.waitForURL(`${base}**`);
  return page;
}

async function shoot(page: Page, path: string, name: string) {
  await page.goto(new URL(path, base).href);
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  console.log(`docs/console/${name}.png`);
}

async function main() {
  mkdirSync(out, { recursive: true });
  const browser = await launchChromium();
  try {
    const sup = await signIn(browser, 'sup-1');
    await shoot(sup, '', 'overview');
    await shoot(sup, 'escalations', 'escalations');
    await shoot(sup, 'cases', 'cases');
    // The case with the richest page: one with a plan, measures and an escalation, if any.
    const hrefs = await sup.locator('table a[href*="/cases/case-"]').evaluateAll((as) => as.map((a) => (a as unknown as { getAttribute(n: string): string }).getAttribute('href')));
    const pick = hrefs.find((h) => /extension|mr-p|lunch/.test(h)) ?? hrefs[0];
    if (pick) await shoot(sup, pick, 'case');
    await shoot(sup, 'report', 'report');
    const lw = await signIn(browser, 'lw-1');
    await shoot(lw, 'mine', 'my-caseload');
    if (pick) await shoot(lw, pick, 'case-link-worker');
    await sup.getByRole('button', { name: 'Sign out' }).click();
    await sup.waitForURL(`${base}signed-out`);
    await sup.screenshot({ path: join(out, 'signed-out.png') });
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(`${(err as Error).message}\n(is the console running? npm start serves it at ${base})`);
  process.exit(1);
});
