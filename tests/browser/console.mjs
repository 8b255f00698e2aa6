// Opens the admin console in headless Chromium with every host but the Mooring server
// unresolvable; records what the first screen shows before anything is done (no error
// expected); opens the Docs pane and reads the schema's root type and a field's
// documentation (the schema loaded without a key); runs `{ me { kind } }` with the
// operator token typed into the Headers tab; and prints a JSON report: what rendered,
// every URL requested, CSP violations and page errors. The Rust test
// (tests/tests/e2e/console.rs) judges the report.
//   node console.mjs URL TOKEN SCREENSHOT
import { chromium } from "playwright-core";

const [url, token, screenshot] = process.argv.slice(2);
const host = new URL(url).hostname;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [`--host-resolver-rules=MAP ${host} 127.0.0.1, MAP * ~NOTFOUND`, "--no-sandbox"],
});
const report = { requests: [], violations: [], errors: [], result: null, firstScreen: null, docs: null };
try {
  const page = await browser.newPage();
  page.on("request", (r) => report.requests.push(r.url()));
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) report.violations.push(m.text());
  });
  page.on("pageerror", (e) => report.errors.push(String(e)));
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector(".graphiql-execute-button", { timeout: 20000 });
  // The first screen, once the schema request had time to answer: nothing run yet.
  await page.waitForLoadState("networkidle");
  report.firstScreen = (await page.locator(".result-window").textContent()) ?? "";

  // The Docs pane: the root type, then the documentation of Query.me.
  await page.locator('button[aria-label*="Documentation Explorer"]').first().click();
  const explorer = page.locator(".graphiql-doc-explorer");
  await explorer.getByText("Query", { exact: true }).first().click({ timeout: 20000 });
  await explorer.getByText("me", { exact: true }).first().click({ timeout: 20000 });
  await page.waitForFunction(
    () => document.querySelector(".graphiql-doc-explorer")?.textContent?.includes("Who the API key in use belongs to"),
    null,
    { timeout: 20000 },
  );
  report.docs = await explorer.textContent();

  // The Headers tab is open (init.js asks for it): replace its text with the token.
  const headers = page.locator(".graphiql-editor-tool .CodeMirror").last();
  await headers.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${token}` }));

  await page.click(".graphiql-execute-button");
  await page.waitForFunction(
    () => document.querySelector(".result-window")?.textContent?.includes("kind"),
    null,
    { timeout: 20000 },
  );
  report.result = await page.locator(".result-window").textContent();
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  report.errors.push(`driver: ${e}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
