// Drives the web console (/console) in headless Chromium with no network but the
// server, as the anchor business would on its first day:
//  1. the operator onboards a tenant (its first key is shown once) and looks at health;
//  2. the tenant signs in with that key by keyboard, configures its SEP-12 customer
//     types, an asset and the sending anchor, makes a READ key for a dashboard, and
//     opens the transaction list, then writes MARKER;
//  3. the Rust test's sending anchor (Python stellar-sdk) creates a transaction and
//     pays it: it must appear in the open list by itself (live);
//  4. the READ key sees it and no action; the tenant reviews the sender field by field,
//     completes the transaction, looks at webhooks and the audit log, signs out.
// axe-core checks every page (WCAG 2 A/AA); screenshots of the main pages land in
// SHOTS. Prints a JSON report the Rust test (tests/tests/e2e/web_console.rs) judges.
//   node web_console.mjs ORIGIN OPERATOR_TOKEN NEW_DOMAIN SENDER_ACCOUNT ISSUER MARKER SHOTS_DIR
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const [origin, operatorToken, newDomain, senderAccount, issuer, marker, shots] = process.argv.slice(2);
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

async function signIn(key) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("request", (r) => report.requests.push(r.url()));
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to|integrity|digest/i.test(m.text())) report.violations.push(m.text());
  });
  page.on("pageerror", (e) => report.errors.push(String(e)));
  await page.goto(`${origin}/console`, { waitUntil: "load" });
  // Keyboard only: focus the labelled field, type, press Enter.
  await page.getByLabel("API key or operator token").focus();
  await page.keyboard.type(key);
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/console\/(transactions|tenants)/);
  report.cookies.push(...(await context.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite })));
  report.texts.localStorage = await page.evaluate(() => JSON.stringify(window.localStorage));
  return { context, page };
}

async function saveType(page, name, fields) {
  await page.getByLabel("Type name (e.g. sep31-receiver)").fill(name);
  await page.getByLabel(/^Fields, one per line/).fill(fields);
  await page.getByRole("button", { name: "Save type" }).click();
  await page.waitForSelector("text=Saved.");
}

try {
  // 1. The operator onboards the tenant.
  {
    const { context, page } = await signIn(operatorToken);
    await page.goto(`${origin}/console`);
    await audit(page, "sign-in");
    await page.goto(`${origin}/console/tenants`);
    await audit(page, "tenants");
    await page.getByLabel("Name", { exact: true }).fill("Browser Onboarded");
    await page.getByLabel("Domain").fill(newDomain);
    await page.getByRole("button", { name: "Create tenant" }).click();
    report.texts.onboardedKey = (await page.locator("#new-key").textContent()).trim();
    await page.goto(`${origin}/console/health`);
    await audit(page, "health");
    report.texts.health = await page.locator("main").textContent();
    await context.close();
  }

  // 2. The tenant configures itself.
  const { page } = await signIn(report.texts.onboardedKey);
  await page.goto(`${origin}/console/customer-types`);
  await audit(page, "customer-types");
  await saveType(page, "sep31-sender", "first_name: First name\nlast_name: Last name");
  await saveType(page, "sep31-receiver", "first_name: First name\nlast_name: Last name\nbank_account_number: Account number");
  await page.goto(`${origin}/console/assets`);
  await audit(page, "assets");
  // A refused asset: the reason beside the issuer field.
  await page.getByLabel("Code", { exact: true }).fill("USDC");
  await page.getByLabel("Issuer (G…)").fill("GNOTANISSUER");
  await page.getByRole("button", { name: "Save asset" }).click();
  report.texts.issuerError = await page.locator("#asset-issuer-error").textContent();
  report.texts.issuerInvalid = await page.getByLabel("Issuer (G…)").getAttribute("aria-invalid");
  await audit(page, "assets-refused");
  await page.getByLabel("Issuer (G…)").fill(issuer);
  await page.getByLabel("Fixed fee").fill("1");
  await page.getByLabel("SEP-12 type of senders").selectOption("sep31-sender");
  await page.getByLabel("SEP-12 type of receivers").selectOption("sep31-receiver");
  await page.getByLabel(/^Payout methods/).fill("WIRE");
  await page.getByRole("button", { name: "Save asset" }).click();
  report.texts.assets = await page.locator("main table").first().textContent();
  await page.goto(`${origin}/console/senders`);
  await audit(page, "senders");
  await page.getByLabel("Stellar account (G…)").fill(senderAccount);
  await page.getByLabel("Name", { exact: true }).fill("Remit Co");
  await page.getByRole("button", { name: "Approve" }).click();
  report.texts.senders = await page.locator("main").textContent();
  for (const [path, name] of [["settings", "settings"], ["quotes", "quotes"]]) {
    await page.goto(`${origin}/console/${path}`);
    await audit(page, name);
  }
  await page.goto(`${origin}/console/keys`);
  await audit(page, "keys");
  await page.getByLabel("Name").fill("dashboard");
  await page.getByLabel("Read").check();
  await page.getByRole("button", { name: "Create" }).click();
  const readKey = (await page.locator("#new-key").textContent()).trim();
  report.texts.readKey = readKey.startsWith("mk_");

  // The list is open before the transaction exists: it must arrive live.
  await page.goto(`${origin}/console/transactions`);
  await page.waitForSelector("body[data-live=open]", { timeout: 20000 });
  await audit(page, "transactions");
  writeFileSync(marker, "listening");
  await page.waitForSelector("#transactions a", { timeout: 90000 });
  report.texts.arrivedLive = true;
  const txId = (await page.locator("#transactions a").first().textContent()).trim();
  report.texts.txId = txId;

  // 3. A READ key, meanwhile, sees the transaction once paid, and no action on it.
  {
    const { context, page: readPage } = await signIn(readKey);
    for (let i = 0; i < 100; i++) {
      await readPage.goto(`${origin}/console/transactions/${txId}`);
      if ((await readPage.locator("main").textContent()).includes("PENDING_RECEIVER")) break;
      await readPage.waitForTimeout(100);
    }
    report.texts.readDetail = await readPage.locator("main").textContent();
    report.texts.readButtons = await readPage.locator("main button").count();
    await context.close();
  }

  // 4. The tenant reviews the sender field by field, then completes.
  await page.reload();
  report.texts.list = await page.locator("main").textContent();
  await page.screenshot({ path: `${shots}/console-transactions.png`, fullPage: true });
  await page.getByRole("link", { name: txId }).click();
  await page.waitForURL(`**/console/transactions/${txId}`);
  await audit(page, "transaction");
  await page.getByRole("link", { name: "the sender" }).click();
  await page.waitForURL("**/console/customers/**");
  await audit(page, "customer");
  await page.getByLabel("Verdict on first_name").selectOption("accept");
  await page.getByLabel("Verdict on last_name").selectOption("accept");
  await page.getByRole("button", { name: "Record" }).click();
  await page.waitForSelector("text=Recorded.");
  report.texts.reviewed = await page.locator("main").textContent();
  await page.goto(`${origin}/console/transactions/${txId}`);
  await page.screenshot({ path: `${shots}/console-transaction.png`, fullPage: true });
  await page.getByLabel("External transaction id").fill("wire-browser-1");
  await page.getByRole("button", { name: "Complete" }).click();
  await page.waitForSelector("text=Done.");
  report.texts.afterComplete = await page.locator("main").textContent();
  await page.goto(`${origin}/console/customers?status=ACCEPTED`);
  await audit(page, "customers");
  await page.goto(`${origin}/console/audit`);
  await audit(page, "audit");
  report.texts.audit = await page.locator("main").textContent();
  await page.goto(`${origin}/console/webhooks`);
  await audit(page, "webhooks");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL("**/console");
  report.texts.afterSignOut = await page.locator("main").textContent();
} catch (e) {
  report.errors.push(`driver: ${e}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
