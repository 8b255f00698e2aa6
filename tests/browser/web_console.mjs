// Drives the web console (/console) in headless Chromium with no network but the
// server: the operator onboards a tenant, which signs in with the key shown once and
// approves a sending anchor; then another tenant's ADMIN key signs in by keyboard and opens the transaction list,
// then writes MARKER; the test's sending anchor creates and pays a transaction, which
// must appear in the open list by itself (live). A READ key opens it (and has no
// action); the ADMIN key completes it, visits customers and keys, signs out. axe-core checks every page (WCAG 2 A/AA); screenshots
// of the main pages land in SHOTS. Prints a JSON report the Rust test
// (tests/tests/e2e/web_console.rs) judges.
//   node web_console.mjs ORIGIN ADMIN_KEY READ_KEY MARKER SHOTS_DIR OPERATOR_TOKEN NEW_DOMAIN NEW_SENDER
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const [origin, adminKey, readKey, marker, shots, operatorToken, newDomain, newSender] = process.argv.slice(2);
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const host = new URL(origin).hostname;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [`--host-resolver-rules=MAP ${host} 127.0.0.1, MAP * ~NOTFOUND`, "--no-sandbox"],
});
const report = { requests: [], violations: [], errors: [], axe: {}, texts: {}, cookies: [] };

async function audit(page, name) {
  // Run through the DevTools protocol, so the page's CSP (no inline script) still holds.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] } }),
  );
  report.axe[name] = result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
}

async function session(key, steps) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("request", (r) => report.requests.push(r.url()));
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) report.violations.push(m.text());
  });
  page.on("pageerror", (e) => report.errors.push(String(e)));
  await page.goto(`${origin}/console`, { waitUntil: "load" });
  await audit(page, "sign-in");
  // Keyboard only: focus the labelled field, type, press Enter.
  await page.getByLabel("API key or operator token").focus();
  await page.keyboard.type(key);
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/console\/(transactions|tenants)/);
  report.cookies.push(...(await context.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite })));
  report.texts.localStorage = await page.evaluate(() => JSON.stringify(window.localStorage));
  await steps(page);
  await context.close();
}

try {
  // The operator onboards a tenant; the tenant signs in with the key shown once and
  // approves a sending anchor.
  await session(operatorToken, async (page) => {
    await audit(page, "tenants");
    await page.getByLabel("Name", { exact: true }).fill("Browser Onboarded");
    await page.getByLabel("Domain").fill(newDomain);
    await page.getByRole("button", { name: "Create tenant" }).click();
    report.texts.onboardedKey = (await page.locator("#new-key").textContent()).trim();
  });
  await session(report.texts.onboardedKey, async (page) => {
    await page.goto(`${origin}/console/senders`);
    await audit(page, "senders");
    await page.getByLabel("Stellar account (G…)").fill(newSender);
    await page.getByLabel("Name", { exact: true }).fill("Remit Co");
    await page.getByRole("button", { name: "Approve" }).click();
    report.texts.senders = await page.locator("main").textContent();
    await page.goto(`${origin}/console/assets`);
    await audit(page, "assets");
  });
  await session(adminKey, async (page) => {
    // The list is open before the transaction exists: it must arrive live.
    await page.waitForSelector("body[data-live=open]", { timeout: 20000 });
    await audit(page, "transactions");
    writeFileSync(marker, "listening");
    await page.waitForSelector("#transactions a", { timeout: 60000 });
    report.texts.arrivedLive = true;
    const txId = (await page.locator("#transactions a").first().textContent()).trim();
    report.texts.txId = txId;

    // A READ key, meanwhile, sees the transaction once paid, and no action on it.
    const reader = await browser.newContext();
    const readPage = await reader.newPage();
    readPage.on("request", (r) => report.requests.push(r.url()));
    await readPage.goto(`${origin}/console`);
    await readPage.getByLabel("API key or operator token").fill(readKey);
    await readPage.getByRole("button", { name: "Sign in" }).click();
    await readPage.waitForURL("**/console/transactions**");
    for (let i = 0; i < 100; i++) {
      await readPage.goto(`${origin}/console/transactions/${txId}`);
      if ((await readPage.locator("main").textContent()).includes("PENDING_RECEIVER")) break;
      await readPage.waitForTimeout(100);
    }
    report.texts.readDetail = await readPage.locator("main").textContent();
    report.texts.readButtons = await readPage.locator("main button").count();
    await reader.close();

    await page.reload();
    report.texts.list = await page.locator("main").textContent();
    await page.screenshot({ path: `${shots}/console-transactions.png`, fullPage: true });
    await page.getByRole("link", { name: txId }).click();
    await page.waitForURL(`**/console/transactions/${txId}`);
    await audit(page, "transaction");
    await page.screenshot({ path: `${shots}/console-transaction.png`, fullPage: true });
    await page.getByLabel("External transaction id").fill("wire-browser-1");
    await page.getByRole("button", { name: "Complete" }).click();
    await page.waitForSelector("text=Done.");
    report.texts.afterComplete = await page.locator("main").textContent();
    await page.goto(`${origin}/console/customers?status=ACCEPTED`);
    await audit(page, "customers");
    await page.locator("tbody a").first().click();
    await audit(page, "customer");
    await page.goto(`${origin}/console/audit`);
    await audit(page, "audit");
    await page.goto(`${origin}/console/webhooks`);
    await audit(page, "webhooks");
    await page.goto(`${origin}/console/keys`);
    await audit(page, "keys");
    await page.getByLabel("Name").fill("night shift");
    await page.getByLabel("Operate").check();
    await page.getByRole("button", { name: "Create" }).click();
    report.texts.newKey = await page.locator("#new-key").textContent();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/console");
    report.texts.afterSignOut = await page.locator("main").textContent();
  });
} catch (e) {
  report.errors.push(`driver: ${e}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
