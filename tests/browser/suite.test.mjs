// Ketaflow in a real browser: every role signs in, visits every page it may see, and axe-core
// checks each page for WCAG 2.1 A and AA violations. Also: keyboard access, reading aids, and
// the pages working with JavaScript switched off.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const BIN = process.env.KETAFLOW_BIN;
const PASSWORD = "ketaflow-demo";
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

let server, base, browser, workdir, seededAt;
// The demo clinic's date of an instant (the demo's times are New York's).
const clinicDate = (when) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York" }).format(when);
// Everything the server logs during the run (debug level), scanned at the end for patient names.
let serverLog = "";

async function startServer() {
  workdir = mkdtempSync(join(tmpdir(), "ketaflow-browser-"));
  // The demo is seeded as the server starts, after this instant.
  seededAt = new Date();
  server = spawn(BIN, ["serve", "--demo", "--addr", "127.0.0.1:0", "--database", `sqlite://${join(workdir, "k.db")}`], {
    cwd: workdir,
    stdio: ["ignore", "pipe", "pipe"],
    // Every role signs in several times from one address within a minute; the per-address
    // sign-in throttle is tested in the Rust suite. The log runs at debug level, so that the
    // last test's scan for patient names sees everything the server says.
    env: {
      ...process.env,
      KETAFLOW_LIMITS__SIGN_IN_PER_MINUTE: "200",
      RUST_LOG: "debug,hyper=info,h2=info,hyper_util=info",
    },
  });
  const keep = (chunk) => {
    serverLog += chunk;
    // Warnings and errors still reach the suite's output, as they did before the log was kept.
    for (const line of String(chunk).split("\n")) {
      if (/\b(WARN|ERROR)\b/.test(line)) process.stderr.write(`server: ${line}\n`);
    }
  };
  server.stderr.on("data", keep);
  server.stdout.on("data", keep);
  base = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/serving on (http:\/\/[0-9.:]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  // The healthcheck subcommand is what deployments use; wait on it as they would.
  for (let i = 0; ; i++) {
    try {
      execFileSync(BIN, ["healthcheck", "--url", base], { stdio: "pipe" });
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

before(async () => {
  assert.ok(BIN, "KETAFLOW_BIN names the ketaflow binary");
  await startServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
      "--disable-quic",
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

// axe is injected by the test, so the page's own policy (no inline script) is bypassed here only.
async function newPage(options = {}) {
  const context = await browser.newContext({ bypassCSP: true, ...options });
  return context.newPage();
}

async function signIn(page, email) {
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/`);
}

async function checkAccessible(page, what) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }),
    WCAG,
  );
  const problems = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(" ")).join("\n    ")}`,
  );
  assert.deepEqual(problems, [], `${what}: ${problems.length} WCAG violations\n${problems.join("\n")}`);
  assert.ok(result.passes.length > 5, `${what}: axe ran only ${result.passes.length} passing rules`);
}

async function visit(page, path, what) {
  const res = await page.goto(`${base}${path}`);
  assert.equal(res.status(), 200, `${what} ${path} answered ${res.status()}`);
  await checkAccessible(page, `${what} ${path}`);
}

const ROLES = [
  { email: "admin@example.org", pages: ["/", "/admin/users", "/admin/audit", "/admin/consent", "/admin/clinic", "/ledger", "/ledger/log", "/ledger/reconciliation", "/account"], patients: false },
  { email: "prescriber@example.org", pages: ["/", "/patients", "/patients/new", "/planner", "/schedule", "/schedule/day", "/ledger", "/account"], patients: true, clinical: true },
  { email: "nurse@example.org", pages: ["/", "/patients", "/patients/new", "/planner", "/ledger", "/ledger/log", "/account"], patients: true, clinical: true },
  { email: "frontdesk@example.org", pages: ["/", "/patients", "/patients/new", "/schedule", "/schedule/day", "/account"], patients: true, clinical: false },
];

test("pages before sign-in are accessible", async () => {
  const page = await newPage();
  await visit(page, "/login", "anonymous");
  const missing = await page.goto(`${base}/no-such-page`);
  assert.equal(missing.status(), 404);
  await checkAccessible(page, "404 page");
  await page.context().close();
});

for (const role of ROLES) {
  test(`${role.email} sees only their pages, each without WCAG violations`, async () => {
    const page = await newPage();
    await signIn(page, role.email);
    for (const path of role.pages) {
      await visit(page, path, role.email);
    }
    if (role.patients) {
      await page.goto(`${base}/patients`);
      await page.locator("table a").first().click();
      await page.waitForURL(/\/patients\/[0-9a-f-]{36}$/);
      await checkAccessible(page, `${role.email} patient record`);
      const measurements = await page.locator("#measurements").count();
      assert.equal(measurements, role.clinical ? 1 : 0, "measurements only for clinical roles");
      if (role.clinical) {
        // The demo's first patient has a month of PHQ-9 scores: a chart with its thresholds.
        // Four weekly ones, and those before each of the course's past sessions (how many
        // depends on the weekday the demo started). (The dissociation and sedation ratings of
        // the demo sessions have charts of their own.)
        const chart = page.getByRole("group", { name: /PHQ-9 total over time/ });
        await chart.waitFor();
        const phq = page.locator(".series-block").filter({ has: chart });
        const points = await phq.locator(".chart circle.point").count();
        assert.ok(points >= 5 && points <= 12, `${points} PHQ-9 points`);
        assert.match(await phq.locator(".chart svg").textContent(), /Remission ≤ 4/);
        assert.match(await phq.locator(".status").textContent(), /Response: yes/);
        await page.getByLabel("Instrument", { exact: true }).first().selectOption("madrs");
        await page.getByRole("button", { name: "Open the form" }).click();
        await page.waitForURL(/assessments\/new\?instrument=madrs/);
        await checkAccessible(page, `${role.email} MADRS form`);
      }
      // A form sent back with errors is accessible too, and focus lands on the summary.
      await page.goto(`${base}/patients/new`);
      await page.getByRole("button", { name: "Register patient" }).click();
      await page.waitForSelector("#error-summary");
      const focused = await page.evaluate(() => document.activeElement?.id);
      assert.equal(focused, "error-summary");
      await checkAccessible(page, `${role.email} patient form with errors`);
      const admin = await page.goto(`${base}/admin/users`);
      assert.equal(admin.status(), 403);
    } else {
      const res = await page.goto(`${base}/patients`);
      assert.equal(res.status(), 403, "administrators do not open patient records");
    }
    await page.context().close();
  });
}

test("a keyboard user reaches the skip link first and signs in without a mouse", async () => {
  const page = await newPage();
  await page.goto(`${base}/login`);
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert.equal(first, "Skip to main content");
  await page.keyboard.press("Enter");
  // The skip link moves focus to the main content; the next stop is the first field.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "email");
  await page.keyboard.type("nurse@example.org");
  await page.keyboard.press("Tab");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await page.waitForURL(`${base}/`);
  assert.match(await page.textContent("h1"), /Noah Nurse/);
  await page.context().close();
});

test("reading aids change text size and contrast and are remembered", async () => {
  const page = await newPage();
  await page.goto(`${base}/login`);
  await page.getByText("Reading aids").click();
  await page.getByLabel("Text size").selectOption("largest");
  await page.getByLabel("High contrast").check();
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(`${base}/login`);
  assert.equal(await page.getAttribute("html", "class"), "text-largest contrast-high");
  const size = await page.evaluate(() => getComputedStyle(document.documentElement).fontSize);
  assert.equal(size, "24px");
  await checkAccessible(page, "login with reading aids");
  await page.goto(`${base}/no-such-page`);
  await page.goto(`${base}/login`);
  assert.equal(await page.getAttribute("html", "class"), "text-largest contrast-high");
  await page.context().close();
});

test("the pages work with JavaScript switched off", async () => {
  const page = await newPage({ javaScriptEnabled: false });
  await signIn(page, "frontdesk@example.org");
  await page.goto(`${base}/patients/new`);
  await page.getByLabel("Given name").fill("Juniper");
  await page.getByLabel("Family name").fill("Testwood");
  await page.getByLabel("Date of birth").fill("1990-05-06");
  await page.getByLabel("Female").check();
  await page.getByRole("button", { name: "Register patient" }).click();
  await page.waitForURL(/created=1$/);
  assert.match(await page.textContent("h1"), /Juniper Testwood/);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/signed_out=1$/);
  await page.context().close();
});

// WCAG 2.1 1.4.10 (Reflow): at 320 CSS pixels wide (a 1280-pixel screen at 400 % zoom) a page
// must not scroll sideways; a wide table scrolls inside its own labelled region instead.
test("every role's pages reflow at 320 pixels wide: only tables scroll sideways, in their own region", async () => {
  const wide = [];
  for (const role of ROLES) {
    const page = await newPage({ viewport: { width: 320, height: 640 } });
    await signIn(page, role.email);
    const paths = [...role.pages];
    if (role.clinical) paths.push("/board", "/rems/forms");
    for (const path of paths) {
      await page.goto(`${base}${path}`);
      const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      if (scroll > client) wide.push(`${role.email} ${path}: ${scroll - client} px too wide`);
      // Every table that is wider than the screen sits in a region a keyboard can scroll.
      const loose = await page.evaluate(() =>
        [...document.querySelectorAll("table")].filter((t) => {
          const box = t.closest(".table-scroll");
          return !box || box.getAttribute("tabindex") !== "0" || box.getAttribute("role") !== "region" || !box.getAttribute("aria-label");
        }).length);
      if (loose > 0) wide.push(`${role.email} ${path}: ${loose} table(s) outside a labelled, focusable scroll region`);
    }
    await page.context().close();
  }
  assert.deepEqual(wide, []);
});

test("a patient answers a PHQ-9 by link on a phone, and the clinician sees it", async () => {
  // The nurse makes a link from the record of a patient without scores yet.
  const staff = await newPage();
  await signIn(staff, "nurse@example.org");
  await staff.goto(`${base}/patients?q=Quintrell`);
  await staff.locator("table a").first().click();
  await staff.waitForURL(/\/patients\/[0-9a-f-]{36}$/);
  const record = staff.url();
  await staff.locator("#link-instrument").selectOption("phq9");
  await staff.locator("#link-time-point").selectOption("baseline");
  await staff.getByRole("button", { name: "Create link" }).click();
  const link = await staff.inputValue("#new-link");
  assert.match(link, /\/r\/[0-9a-f]{48}$/);
  await checkAccessible(staff, "record with a new link");

  const phone = await newPage({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  });
  await phone.goto(link);
  assert.equal(await phone.locator("text=Quintrell").count(), 0, "no name on the patient's page");
  await checkAccessible(phone, "self-report form on a phone");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a phone`);
  // Sending with a question unanswered keeps the answers and says which one is missing.
  const answers = [2, 2, 1, 2, 1, 1, 2, 1];
  for (let i = 0; i < answers.length; i++) {
    await phone.locator(`input[name="item${i + 1}"][value="${answers[i]}"]`).check();
  }
  await phone.getByRole("button", { name: "Send my answers" }).tap();
  await phone.waitForSelector("#error-summary");
  assert.match(await phone.textContent("#error-summary"), /question 9/);
  assert.equal(await phone.isChecked('input[name="item1"][value="2"]'), true);
  await checkAccessible(phone, "self-report form with an error");
  await phone.locator('input[name="item9"][value="0"]').check();
  await phone.getByRole("button", { name: "Send my answers" }).tap();
  await phone.waitForSelector("text=Your answers have reached your clinic");
  await checkAccessible(phone, "self-report thanks page");
  await phone.goto(link);
  assert.match(await phone.textContent("h1"), /Already answered/);

  await staff.goto(record);
  assert.match(await staff.textContent("#measurements"), /Baseline 12 on/);
  assert.match(await staff.textContent("#measurements"), /Patient \(self-report link\)/);
  await checkAccessible(staff, "record after the patient answered");
  await phone.context().close();
  await staff.context().close();
});

test("the dose planner draws a curve with a table, and keeps a bad entry", async () => {
  const page = await newPage();
  await signIn(page, "prescriber@example.org");
  await page.goto(`${base}/planner`);
  await page.getByLabel("Weight", { exact: true }).fill("82");
  await page.getByLabel("Model").selectOption("kamp2020");
  await page.getByRole("button", { name: "Show the curve" }).click();
  await page.waitForSelector(".chart-wide svg");
  assert.match(await page.textContent("#result-heading"), /41\.0 mg/);
  assert.ok((await page.locator("table tbody tr").count()) > 5);
  await checkAccessible(page, "planner with a curve");
  await page.getByLabel("Route", { exact: true }).selectOption("intramuscular");
  await page.getByRole("button", { name: "Show the curve" }).click();
  await page.waitForSelector(".chart-wide svg");
  assert.match(await page.textContent(".plan-facts"), /Intramuscular: bioavailability 0\.93 \(default\), time to peak 15 min/);
  await checkAccessible(page, "planner with an intramuscular dose");
  await page.screenshot({ path: "/tmp/planner-im.png", fullPage: true });
  await page.getByLabel("Weight", { exact: true }).fill("eighty");
  await page.getByRole("button", { name: "Show the curve" }).click();
  await page.waitForSelector("#error-summary");
  assert.equal(await page.inputValue("#weight"), "eighty");
  await checkAccessible(page, "planner with an error");
  await page.context().close();
});

test("a nurse follows up a safety alert with a note, and it stays on the chart", async () => {
  const page = await newPage();
  await signIn(page, "nurse@example.org");
  await page.getByRole("link", { name: /Record the follow-up/ }).first().click();
  await page.waitForSelector("h1");
  assert.match(await page.textContent(".alert-box"), /Urgent, open: follow up today/);
  assert.match(await page.textContent(".alert-box"), /PHQ-9 item 9/);
  await checkAccessible(page, "safety alert follow-up");
  await page.getByRole("button", { name: "Close the alert with this follow-up" }).click();
  await page.waitForSelector("#error-summary");
  await checkAccessible(page, "safety alert follow-up with errors");
  await page.getByLabel("By telephone").check();
  await page.getByLabel("Safety plan reviewed").check();
  await page.getByLabel("Crisis line given").check();
  await page.getByLabel("What happened").fill("Spoke with the patient; safe tonight, partner at home.");
  await page.getByRole("button", { name: "Close the alert with this follow-up" }).click();
  await page.waitForURL(`${base}/`);
  assert.match(await page.textContent("main"), /No open safety alerts/);
  await page.context().close();
});

test("front desk finds a patient either way round, is warned of a duplicate, and edits contact details", async () => {
  const page = await newPage();
  await signIn(page, "frontdesk@example.org");
  await page.goto(`${base}/patients`);
  await page.getByLabel("Search by name, date of birth or record number").fill("ashgrove, MARLOW");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/q=/);
  assert.match(await page.textContent("caption"), /1 patient matching/);
  await checkAccessible(page, "patient search");
  // Registering the same person again: a warning with a link, nothing registered yet.
  await page.goto(`${base}/patients/new`);
  await page.getByLabel("Given name").fill("Marlow");
  await page.getByLabel("Family name").fill("Ashgrove");
  await page.getByLabel("Date of birth").fill("1981-03-14");
  await page.getByLabel("Female").check();
  await page.getByRole("button", { name: "Register patient" }).click();
  await page.waitForSelector("#same-person");
  assert.match(await page.textContent("#same-person"), /may already be registered/);
  await checkAccessible(page, "duplicate warning");
  await page.locator("#same-person a").first().click();
  await page.waitForURL(/\/patients\/[0-9a-f-]{36}$/);
  assert.match(await page.textContent(".patient-banner"), /Record number/);
  await page.getByRole("link", { name: "Change contact details" }).click();
  await page.getByLabel("Emergency contact phone").fill("call her");
  await page.getByRole("button", { name: "Save contact details" }).click();
  await page.waitForSelector("#error-summary");
  await checkAccessible(page, "contact details with an error");
  await page.getByLabel("Emergency contact phone").fill("+1 555 010 0199");
  await page.locator("#emergency_contact_name").fill("Rowan Ashgrove (brother)");
  await page.getByLabel("Postal address").fill("4 Mill Lane\nSpringfield");
  await page.getByRole("button", { name: "Save contact details" }).click();
  await page.waitForURL(/updated=1/);
  assert.match(await page.textContent("main"), /Rowan Ashgrove \(brother\), \+1 555 010 0199/);
  await checkAccessible(page, "record with contact details");
  await page.context().close();
});

test("an administrator manages an account and filters the audit trail", async () => {
  const page = await newPage();
  await signIn(page, "admin@example.org");
  await page.goto(`${base}/admin/users`);
  await page.getByRole("link", { name: /Manage the account of .*Nurse/ }).first().click();
  await page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}$/);
  await checkAccessible(page, "account page");
  await page.getByLabel("Temporary password").fill("short");
  await page.getByRole("button", { name: "Reset the password" }).click();
  await page.waitForSelector("#error-summary");
  await checkAccessible(page, "account page with an error");
  await page.goto(`${base}/admin/audit`);
  await page.getByLabel("Action").selectOption("auth.login");
  await page.getByRole("button", { name: "Show events" }).click();
  await page.waitForURL(/action=auth\.login/);
  assert.match(await page.textContent("tbody"), /signed in/);
  assert.doesNotMatch(await page.textContent("tbody"), /read a patient record/);
  await checkAccessible(page, "filtered audit trail");
  await page.context().close();
});

test("a nurse's start page, the answer grid's running total, links with a QR code, and a planner that shows the route's fields", async () => {
  const page = await newPage();
  await signIn(page, "nurse@example.org");
  assert.match(await page.textContent("main"), /Assessments due/);
  await checkAccessible(page, "nurse's start page");
  await page.goto(`${base}/patients?q=Wrenfield`);
  await page.locator("table a").first().click();
  await page.waitForURL(/\/patients\/[0-9a-f-]{36}$/);
  const record = page.url();
  // Chart points take focus and show their value.
  await page.locator(".chart .pt").first().focus();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")?.includes(":")), true);
  // The compact grid adds up as answers are chosen.
  await page.goto(`${record}/assessments/new?instrument=gad7`);
  assert.equal(await page.textContent("#running-total"), "–");
  await page.locator('input[name="item1"][value="3"]').check();
  await page.locator('input[name="item2"][value="2"]').check();
  assert.equal(await page.textContent("#running-total"), "5");
  await checkAccessible(page, "GAD-7 grid with a running total");
  // A link: shown once after the redirect, with a copy button and a QR code; then revoked.
  await page.goto(record);
  await page.locator("#link-instrument").selectOption("gad7");
  await page.locator("#link-time-point").selectOption("weekly");
  await page.getByRole("button", { name: "Create link" }).click();
  await page.waitForURL(/link=new/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), "new-link");
  assert.equal(await page.locator(".qr svg").count(), 1);
  assert.equal(await page.getByRole("button", { name: "Copy the link" }).isVisible(), true);
  await checkAccessible(page, "record with a new link and its QR code");
  await page.reload();
  assert.equal(await page.locator("#new-link").count(), 0, "shown once");
  await page.getByRole("button", { name: /Revoke the GAD-7 link/ }).first().click();
  await page.waitForURL(/link=revoked/);
  // The planner shows only the chosen route's fields, and greys out routes the model lacks.
  await page.goto(`${base}/planner`);
  assert.equal(await page.locator("#duration_min").isVisible(), true);
  assert.equal(await page.locator("#devices").isVisible(), false);
  await page.getByLabel("Route", { exact: true }).selectOption("iv_bolus");
  assert.equal(await page.locator("#duration_min").isVisible(), false);
  assert.equal(await page.locator('#route option[value="intranasal"]').isDisabled(), true);
  await page.getByLabel("Model").selectOption("perez_ruixo2021");
  assert.equal(await page.locator('#route option[value="intranasal"]').isDisabled(), false);
  await page.getByLabel("Route", { exact: true }).selectOption("intranasal");
  assert.equal(await page.locator("#devices").isVisible(), true);
  assert.equal(await page.locator("#mg_per_kg").isVisible(), false);
  await checkAccessible(page, "planner for Spravato devices");
  await page.context().close();
});

test("an anonymous inquiry reaches the front desk and becomes a patient", async () => {
  const visitor = await newPage();
  await visitor.goto(`${base}/login`);
  await visitor.getByRole("link", { name: /Find out if ketamine treatment could be for you/ }).click();
  await visitor.waitForURL(`${base}/inquiry`);
  await checkAccessible(visitor, "public inquiry page");
  await visitor.getByLabel("First name").fill("Lior");
  await visitor.getByRole("button", { name: "Send" }).click();
  await visitor.waitForSelector("#error-summary");
  await checkAccessible(visitor, "public inquiry page with errors");
  assert.equal(await visitor.inputValue("#given_name"), "Lior");
  await visitor.getByLabel("Last name").fill("Brenner");
  await visitor.getByLabel("Telephone").fill("555 010 0456");
  await visitor.getByLabel("Evenings").check();
  await visitor.getByRole("button", { name: "Send" }).click();
  await visitor.waitForURL(`${base}/inquiry/thanks`);
  await checkAccessible(visitor, "inquiry thank-you page");
  await visitor.context().close();

  const desk = await newPage();
  await signIn(desk, "frontdesk@example.org");
  await desk.getByRole("link", { name: "Inquiries" }).click();
  await desk.getByRole("link", { name: "Lior Brenner" }).click();
  await checkAccessible(desk, "an inquiry");
  await desk.getByLabel("Status").selectOption("contacted");
  await desk.getByLabel("Note").fill("Called back; intake on Monday");
  await desk.getByRole("button", { name: "Save the status" }).click();
  await desk.waitForURL(/saved=1/);
  assert.match(await desk.textContent("tbody"), /Called back; intake on Monday/);
  await desk.getByRole("link", { name: "Register as a patient" }).click();
  assert.equal(await desk.inputValue("#given_name"), "Lior");
  await desk.getByLabel("Date of birth").fill("1986-10-10");
  await desk.getByLabel("Male", { exact: true }).check();
  await desk.getByRole("button", { name: "Register patient" }).click();
  await desk.waitForURL(/created=1$/);
  assert.match(await desk.textContent("h1"), /Lior Brenner/);
  assert.match(await desk.textContent("main"), /555 010 0456/);
  await desk.context().close();
});

test("a nurse records a diagnosis and a weight, and the planner starts from it", async () => {
  const page = await newPage();
  await signIn(page, "nurse@example.org");
  await page.goto(`${base}/patients?q=Calloway`);
  await page.locator("table a").first().click();
  await page.waitForURL(/\/patients\/[0-9a-f-]{36}$/);
  const record = page.url();
  await page.getByRole("link", { name: "Intake details" }).click();
  await page.locator("#allergies").fill("penicillin: rash");
  await page.getByLabel("Pregnancy status").selectOption("not_pregnant");
  await page.getByRole("button", { name: "Save intake details" }).click();
  await page.waitForURL(/saved=1/);
  await checkAccessible(page, "intake details page");
  await page.goto(record);
  await page.getByRole("link", { name: "Diagnoses" }).click();
  await checkAccessible(page, "diagnoses page");
  await page.getByLabel("Diagnosis").selectOption("F33.1");
  await page.getByRole("button", { name: "Record the diagnosis" }).click();
  await page.waitForURL(/done=added/);
  assert.match(await page.textContent("tbody"), /F33\.1/);
  await checkAccessible(page, "diagnoses page with one");
  await page.getByRole("link", { name: /Back to/ }).click();
  await page.getByRole("link", { name: "Weight and height" }).click();
  await page.getByLabel("Weight", { exact: true }).fill("64");
  await page.locator("#height").fill("168");
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/saved=1/);
  assert.match(await page.textContent("tbody"), /22\.7 kg\/m²/);
  await checkAccessible(page, "weight and height page");
  await page.getByRole("link", { name: /Back to/ }).click();
  await page.getByRole("link", { name: /Plan a dose for/ }).click();
  assert.equal(await page.inputValue("#weight"), "64.0");
  await checkAccessible(page, "planner for a patient");
  await page.context().close();
});

test("from an anonymous inquiry to a screened candidate with a prescriber's decision and a signed consent", async () => {
  const visitor = await newPage();
  await visitor.goto(`${base}/inquiry`);
  await visitor.getByLabel("First name").fill("Noor");
  await visitor.getByLabel("Last name").fill("Haddad");
  await visitor.getByLabel("Telephone").fill("555 010 0777");
  await visitor.getByRole("button", { name: "Send" }).click();
  await visitor.waitForURL(`${base}/inquiry/thanks`);
  await visitor.context().close();

  const desk = await newPage();
  await signIn(desk, "frontdesk@example.org");
  await desk.getByRole("link", { name: "Inquiries" }).click();
  await desk.getByRole("link", { name: "Noor Haddad" }).click();
  await desk.getByRole("link", { name: "Register as a patient" }).click();
  await desk.getByLabel("Date of birth").fill("1988-04-04");
  await desk.getByLabel("Female", { exact: true }).check();
  await desk.getByRole("button", { name: "Register patient" }).click();
  await desk.waitForURL(/created=1$/);
  const record = desk.url().replace(/\?created=1$/, "");
  await desk.context().close();

  const nurse = await newPage();
  await signIn(nurse, "nurse@example.org");
  await nurse.goto(`${record}/intake`);
  await nurse.getByLabel(/No known allergies/).check();
  await nurse.getByLabel("Pregnancy status").selectOption("not_pregnant");
  await nurse.getByRole("button", { name: "Save intake details" }).click();
  await nurse.waitForURL(/saved=1/);
  await nurse.goto(`${record}/medications`);
  await nurse.getByLabel("Drug", { exact: true }).first().fill("Lorazepam");
  await nurse.getByRole("button", { name: "Record the medication" }).click();
  await nurse.waitForURL(/done=medication/);
  assert.match(await nurse.textContent("table"), /Benzodiazepine/);
  for (const [drug, weeks, outcome] of [["Sertraline", "8", "partial"], ["Escitalopram", "10", "none"]]) {
    await nurse.locator("#trial_drug").fill(drug);
    await nurse.getByLabel(/Weeks taken/).fill(weeks);
    await nurse.getByLabel("Outcome").selectOption(outcome);
    await nurse.getByLabel(/Adequate dose and duration/).check();
    await nurse.getByRole("button", { name: "Record the trial" }).click();
    await nurse.waitForURL(/done=trial/);
  }
  assert.match(await nurse.textContent("main"), /2 failed adequate trials counted/);
  await checkAccessible(nurse, "medications page");
  await nurse.locator("#trial_drug").fill("Bupropion");
  await nurse.getByLabel(/Weeks taken/).fill("a few");
  await nurse.getByRole("button", { name: "Record the trial" }).click();
  await nurse.waitForSelector("#error-summary");
  assert.equal(await nurse.inputValue("#trial_drug"), "Bupropion");
  await checkAccessible(nurse, "medications page with errors");

  // The candidate answers the self-screening questions on their phone.
  await nurse.goto(`${record}/screening`);
  await nurse.getByRole("button", { name: "Make a self-screening link" }).click();
  await nurse.waitForURL(/done=link/);
  const link = await nurse.inputValue("#new-link");
  await checkAccessible(nurse, "screening page with a new link");
  const phone = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.goto(link);
  await checkAccessible(phone, "self-screening questionnaire");
  const groups = await phone.locator("fieldset.item").count();
  for (let i = 0; i < groups; i++) {
    await phone.locator("fieldset.item").nth(i).getByLabel("No", { exact: true }).check();
  }
  await phone.getByRole("group", { name: "Are you breastfeeding?" }).getByLabel("Yes").check();
  await phone.getByRole("button", { name: "Send my answers" }).click();
  await phone.waitForSelector("text=Your answers have reached your clinic.");
  await phone.context().close();

  await nurse.goto(`${record}/screening`);
  assert.match(await nurse.textContent("#own + p"), /yes to “Are you breastfeeding\?”/);
  assert.equal(await nurse.isChecked("#class-benzodiazepine"), true, "ticked from the medications");
  assert.equal(await nurse.inputValue("#trials"), "2");
  await nurse.getByLabel("Systolic, mmHg").fill("80");
  await nurse.getByLabel("Diastolic, mmHg").fill("95");
  await nurse.getByRole("button", { name: /^Screen / }).click();
  await nurse.waitForSelector("#error-summary");
  await checkAccessible(nurse, "screening form with errors");
  await nurse.getByLabel("Systolic, mmHg").fill("150");
  await nurse.getByLabel("Raised intraocular pressure or glaucoma").check();
  await nurse.getByRole("button", { name: /^Screen / }).click();
  await nurse.waitForURL(/done=screened/);
  const findings = await nurse.textContent("section.card");
  assert.match(findings, /1 contraindication/);
  assert.match(findings, /Breastfeeding: the label says not to breastfeed.*reported by the patient, not yet confirmed/);
  assert.match(findings, /150\/95 mmHg is above 140\/90 mmHg/);
  assert.match(findings, /Benzodiazepine: a CNS depressant/);
  assert.match(findings, /meets the usual definition of treatment-resistant depression/);
  await checkAccessible(nurse, "screening with findings");
  await nurse.context().close();

  const doctor = await newPage();
  await signIn(doctor, "prescriber@example.org");
  await doctor.goto(`${record}/screening`);
  const card = doctor.locator("section.card").first();
  await card.getByLabel("Eligible", { exact: true }).check();
  await card.getByLabel("Reason").fill("Treatment-resistant; blood pressure to be rechecked before dosing.");
  await card.getByRole("button", { name: "Record the decision" }).click();
  await doctor.waitForSelector("#error-summary");
  assert.match(await doctor.textContent("#error-summary"), /contraindication \(breastfeeding\)/);
  await checkAccessible(doctor, "decision sent back without a justification");
  await doctor.locator("section.card").first().getByLabel(/Justification/).fill("Stopped breastfeeding last month; confirmed with the patient at intake.");
  await doctor.locator("section.card").first().getByRole("button", { name: "Record the decision" }).click();
  await doctor.waitForURL(/done=decided/);
  assert.match(await doctor.textContent("main"), /Contraindication overridden: Stopped breastfeeding last month/);

  await doctor.goto(`${record}/consent`);
  await checkAccessible(doctor, "consent page");
  await doctor.getByRole("button", { name: "Record the signed consent" }).click();
  await doctor.waitForSelector("#error-summary");
  await checkAccessible(doctor, "consent sent back");
  await doctor.getByLabel(/Patient's full name/).fill("noor haddad");
  await doctor.getByLabel(/I witnessed/).check();
  await doctor.getByRole("button", { name: "Record the signed consent" }).click();
  await doctor.waitForURL(/done=signed/);
  await doctor.goto(record);
  const banner = await doctor.textContent(".patient-banner");
  assert.match(banner, /eligible with the contraindication overridden/);
  assert.match(banner, /signed version 1.*ready for a first session/s);
  await checkAccessible(doctor, "patient record of a candidate ready for a first session");
  await doctor.context().close();
});

test("a prescriber orders and signs a course, and the front desk books its induction from the proposals", async () => {
  // The first session: next Monday, in the demo clinic's zone (the browser runs in UTC).
  const nextMonday = (() => {
    const d = new Date();
    d.setUTCDate(d.getUTCDate() + ((8 - d.getUTCDay()) % 7 || 7));
    return d.toISOString().slice(0, 10);
  })();
  const doctor = await newPage();
  await signIn(doctor, "prescriber@example.org");
  await doctor.goto(`${base}/patients?q=Harrowgate`);
  await doctor.locator("table a").first().click();
  await doctor.waitForURL(/\/patients\/[0-9a-f-]{36}$/);
  const record = doctor.url();
  await doctor.getByRole("link", { name: "Diagnoses" }).click();
  await doctor.getByLabel("Diagnosis").selectOption("F33.2");
  await doctor.getByRole("button", { name: "Record the diagnosis" }).click();
  await doctor.waitForURL(/done=added/);
  await doctor.goto(record);
  await doctor.getByRole("link", { name: /Treatment courses, orders/ }).click();
  await checkAccessible(doctor, "courses page without a course");
  await doctor.getByLabel("Condition treated").selectOption("F33.2");
  await doctor.getByLabel("Protocol").selectOption("iv_induction_thrice_weekly");
  await doctor.getByLabel("First session").fill(nextMonday);
  await doctor.getByLabel(/^Dose/).fill("3");
  await doctor.getByRole("button", { name: "Order and sign the course" }).click();
  await doctor.waitForSelector("#error-summary");
  assert.match(await doctor.textContent("#error-summary"), /3 mg\/kg is outside 0\.1 to 1 mg\/kg/);
  await checkAccessible(doctor, "course order sent back");
  await doctor.getByLabel(/^Dose/).fill("");
  await doctor.getByRole("button", { name: "Order and sign the course" }).click();
  await doctor.waitForURL(/done=ordered/);
  const course = await doctor.textContent("section.card");
  assert.match(course, /Planned/);
  assert.match(course, /0\.5 mg\/kg/);
  assert.match(course, /0 of 6 booked/);
  assert.match(course, /Murrough/);
  await checkAccessible(doctor, "courses page with a signed course");
  await doctor.context().close();

  const desk = await newPage();
  await signIn(desk, "frontdesk@example.org");
  await desk.goto(record);
  await desk.getByRole("link", { name: "Book its sessions" }).click();
  await desk.waitForURL(/\/courses\/[0-9a-f-]{36}\/book$/);
  assert.equal(await desk.locator('input[name="slot"]').count(), 6);
  await checkAccessible(desk, "proposals for a course");
  await desk.getByRole("button", { name: "Book the ticked appointments" }).click();
  await desk.waitForURL(/booked=6/);
  assert.match(await desk.textContent("main"), /6 appointments are booked/);
  await desk.goto(`${base}/schedule?week=${nextMonday}`);
  assert.match(await desk.textContent("main"), /Delphine Harrowgate/);
  await checkAccessible(desk, "the week with the course booked");
  // At 1280 pixels every chair of the demo's nine is a column in view: the week is as wide as
  // the screen, where a page of the usual width hid the last chairs off to the side.
  const hidden = await desk.evaluate(() =>
    [...document.querySelectorAll("main .table-scroll")].filter((r) => r.scrollWidth > r.clientWidth + 1).length,
  );
  assert.equal(hidden, 0, "no day of the week scrolls sideways at 1280 pixels");
  await desk.getByRole("link", { name: /Monday/ }).first().click();
  assert.match(await desk.textContent("tbody"), /Delphine Harrowgate/);
  await checkAccessible(desk, "the day list");
  await desk.goto(record);
  await desk.getByRole("link", { name: "Book an appointment" }).click();
  await desk.getByRole("button", { name: "Book the appointment" }).click();
  await desk.waitForSelector("#error-summary");
  await checkAccessible(desk, "booking form with errors");
  await desk.context().close();
});

/// The id of the demo patient whose family name is `family`, from the patient search.
async function patientId(page, family) {
  await page.goto(`${base}/patients?q=${family}`);
  return (await page.locator("table a").first().getAttribute("href")).split("/").pop();
}

/// Books a session of the patient's one open course for today by hand, in `chair`, at the
/// first of a few times of the day that neither the chair nor the patient has taken, and
/// presses that appointment's "Check in" on today's list.
async function bookTodayByHand(page, patient, chair) {
  await page.goto(`${base}/schedule/new?patient=${patient}`);
  const course = page.getByLabel("Treatment course");
  const open = await course.locator("option").evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.equal(open.length, 1, "the demo patient has one open course");
  await course.selectOption(open[0]);
  await checkAccessible(page, "booking form with the course chosen");
  await page.getByLabel("Chair").selectOption({ label: chair });
  const today = clinicDate(new Date());
  await page.getByLabel("Date").fill(today);
  for (const time of ["00:00", "02:30", "05:00", "07:30", "10:00", "12:30", "15:00", "17:30", "20:00", "21:30"]) {
    await page.getByLabel("Start time").fill(time);
    await page.getByRole("button", { name: "Book the appointment" }).click();
    await page.waitForLoadState();
    if (/done=booked/.test(page.url())) {
      await checkAccessible(page, `today's list with a session booked in ${chair}`);
      const row = page.locator("tbody tr", { hasText: chair }).filter({ hasText: new RegExp(`^${time}`) });
      await row.getByRole("button", { name: /^Check in/ }).click();
      return;
    }
    assert.match(await page.textContent("#error-summary"), /already has an appointment|is booked from/);
  }
  assert.fail(`no free time today in ${chair}`);
}

test("a nurse finishes the infusion in the chair, runs the next IV session with a second check and the chair-side scales, the prescriber signs it, the esketamine REMS form prints on one page, and an esketamine session runs from check-in to a discharge held to two hours", async () => {
  const nurse = await newPage();
  await signIn(nurse, "nurse@example.org");
  await nurse.goto(`${base}/board`);
  assert.match(await nurse.textContent("#board"), /2 open alerts/);
  // The demo's waiting patient: marked arrived by the front desk for a session of the day the
  // demo started, not checked in yet. When the clinic's midnight fell since, she was
  // yesterday's and the board rightly shows no one waiting.
  if (clinicDate(seededAt) === clinicDate(new Date())) {
    const waiting = nurse.locator(".waiting-room");
    assert.match(await waiting.textContent(), /Waiting room \(1\).*Noor Penhallow.*min ago/s);
  }
  await checkAccessible(nurse, "chair board with an open alert and a patient waiting");
  await nurse.getByRole("link", { name: /Marlow Ashgrove/ }).click();
  await nurse.waitForURL(/\/sessions\/[0-9a-f-]{36}$/);
  const running = nurse.url();
  assert.match(await nurse.textContent("main"), /ALERT: Blood pressure 186\/98 mmHg/);
  await checkAccessible(nurse, "session with open alerts");
  // Each alert stays until it is acknowledged with the action taken.
  while ((await nurse.locator(".alert-box").count()) > 0) {
    await nurse.getByLabel("Action taken").first().fill("rate reduced, rechecked in 5 minutes");
    await nurse.getByRole("button", { name: "Acknowledge" }).first().click();
    await nurse.waitForURL(/done=alert/);
  }
  await nurse.getByRole("button", { name: "Stop the infusion" }).click();
  await nurse.waitForURL(/done=saved/);
  await nurse.getByLabel("Systolic (mmHg)").fill("132");
  await nurse.getByLabel("Diastolic (mmHg)").fill("82");
  await nurse.getByRole("button", { name: "Record vitals" }).click();
  await nurse.waitForURL(/done=vitals/);
  await nurse.getByRole("button", { name: "Discharge" }).click();
  await nurse.waitForSelector("#error-summary");
  assert.match(await nurse.textContent("#error-summary"), /Confirm the patient is alert and oriented/);
  await checkAccessible(nurse, "discharge sent back");
  for (const item of ["Alert and oriented", "No active nausea or vomiting", "A responsible adult is here", "Vitals near the patient"]) {
    await nurse.getByLabel(item).check();
  }
  await nurse.getByRole("button", { name: "Discharge" }).click();
  await nurse.waitForURL(/done=saved/);
  assert.match(await nurse.textContent(".session-status"), /Discharged/);

  const doctor = await newPage();
  await signIn(doctor, "prescriber@example.org");
  await doctor.goto(running);
  await doctor.getByRole("button", { name: "Sign and lock" }).click();
  await doctor.waitForURL(/done=locked/);
  assert.match(await doctor.textContent("main"), /Signed and locked .* by Dr\. Priya Prescriber/);
  await checkAccessible(doctor, "locked session with the addendum form");

  // No second session of the course today for the patient just discharged: a course plans
  // one a day at most, and the booking is refused at its date.
  const patient = (await nurse.getAttribute(".patient-banner a", "href")).split("/").pop();
  await nurse.goto(`${base}/schedule/new?patient=${patient}`);
  const courses = nurse.getByLabel("Treatment course");
  await courses.selectOption((await courses.locator("option").evaluateAll((os) => os.map((o) => o.value).filter(Boolean)))[0]);
  await nurse.getByLabel("Chair").selectOption({ label: "Room C, Demo IV (24 h)" });
  await nurse.getByLabel("Date").fill(clinicDate(new Date()));
  await nurse.getByLabel("Start time").fill("00:00");
  await nurse.getByRole("button", { name: "Book the appointment" }).click();
  await nurse.waitForSelector("#error-summary");
  assert.match(await nurse.textContent("#error-summary"), /This course has a session on that day already/);
  await checkAccessible(nurse, "a second session of a course on one day refused");

  // The next IV session: the patient the front desk marked arrived, checked in from today's
  // list. When the clinic's midnight fell since the demo started, her appointment was
  // yesterday's, and the nurse books her one for today by hand (a patient is checked in only
  // on the day of their appointment).
  await nurse.goto(`${base}/schedule/day`);
  const noor = nurse.locator("tbody tr", { hasText: "Noor Penhallow" }).filter({ has: nurse.getByRole("button", { name: /^Check in/ }) });
  if ((await noor.count()) > 0) {
    await noor.first().getByRole("button", { name: /^Check in/ }).click();
  } else {
    await bookTodayByHand(nurse, await patientId(nurse, "Penhallow"), "Room C, Demo IV (24 h)");
  }
  await nurse.waitForURL(/\/sessions\/[0-9a-f-]{36}$/);
  await checkAccessible(nurse, "pre-assessment form");
  await nurse.getByLabel("Today's weight (kg)").fill("78");
  await nurse.getByLabel("Systolic (mmHg)").fill("124");
  await nurse.getByLabel("Diastolic (mmHg)").fill("80");
  await nurse.getByLabel("Heart rate (per min)").fill("74");
  await nurse.getByLabel("SpO2 (%)").fill("98");
  await nurse.getByLabel("Respiratory rate (per min)").fill("14");
  await nurse.getByLabel("Not applicable").check();
  await nurse.getByLabel("A responsible adult will take the patient home").check();
  await nurse.getByRole("button", { name: "Record the pre-assessment" }).click();
  await nurse.waitForURL(/done=saved/);
  assert.match(await nurse.textContent("main"), /39\.0 mg/);
  await checkAccessible(nurse, "dose verification form");
  await nurse.getByLabel("Lot number").fill("KET-88210");
  await nurse.getByLabel("Their email").fill("prescriber@example.org");
  await nurse.getByLabel("Their password").fill(PASSWORD);
  await nurse.getByLabel("Drawn from (controlled-substance stock)").selectOption({ index: 1 });
  await nurse.getByRole("button", { name: "Verify the dose" }).click();
  await nurse.waitForURL(/done=saved/);
  assert.match(await nurse.textContent("main"), /checked by Dr\. Priya Prescriber; pump 155\.9 mL\/h \(58\.5 mg\/h\)/);
  // Dissociation and sedation before the first dose, at the chair; the course's own scale is
  // still to be taken before this session.
  assert.match(await nurse.textContent("#before-session"), /before this session: not recorded yet/);
  const cadss = nurse.locator("form.scale-form").filter({ hasText: "CADSS-6" });
  for (let n = 1; n <= 6; n++) await cadss.locator(`input[name="answer_${n}"][value="0"]`).check();
  await cadss.getByRole("button", { name: "Record the CADSS-6" }).click();
  await nurse.waitForURL(/done=scale/);
  const moaas = nurse.locator("form.scale-form").filter({ hasText: "MOAA/S" });
  await moaas.locator('input[name="answer_1"][value="5"]').check();
  await moaas.getByRole("button", { name: "Record the MOAA/S" }).click();
  await nurse.waitForURL(/done=scale/);
  assert.match(await nurse.textContent("main"), /CADSS-6 before the first dose\s*done\s*0 of 24 at/);
  assert.match(await nurse.textContent("main"), /MOAA\/S before the first dose\s*done\s*5: Answers name/);
  await checkAccessible(nurse, "session with the dissociation and sedation ratings");
  await nurse.getByRole("button", { name: "Start the infusion" }).click();
  await nurse.waitForURL(/done=saved/);
  await nurse.getByLabel("Systolic (mmHg)").fill("138");
  await nurse.getByLabel("Diastolic (mmHg)").fill("84");
  await nurse.getByRole("button", { name: "Record vitals" }).click();
  await nurse.waitForURL(/done=vitals/);
  assert.match(await nurse.textContent(".session-status"), /Administering/);
  assert.match(await nurse.textContent(".session-status"), /next check: the next vitals/);
  assert.equal(await nurse.locator("svg.chart polyline").count() >= 2, true);
  await checkAccessible(nurse, "infusion running with a chart");

  // The esketamine session: the REMS form's questions, then the printed form.
  await nurse.goto(`${base}/board`);
  await nurse.getByRole("link", { name: /Tobias Wrenfield/ }).click();
  await nurse.waitForURL(/\/sessions\/[0-9a-f-]{36}$/);
  const esk = nurse.url();
  for (const q of ["benzodiazepines", "sedative_hypnotics", "psychostimulants", "maois", "opioids", "sedation", "respiratory_depression"]) {
    await nurse.locator(`input[name="${q}"][value="no"]`).check();
  }
  // His course began with this session.
  for (const q of ["first_treatment", "vitals_ok_before", "vitals_ok_end", "dissociation"]) {
    await nurse.locator(`input[name="${q}"][value="yes"]`).check();
  }
  await nurse.getByLabel(/ready to leave/).fill("90");
  await nurse.getByRole("button", { name: "Save the form" }).click();
  await nurse.waitForURL(/done=saved/);
  await checkAccessible(nurse, "esketamine session with the REMS questions");
  await nurse.goto(`${esk}/rems-form`);
  assert.match(await nurse.textContent("main"), /SPRAVATO® REMS Patient Monitoring Form/);
  assert.match(await nurse.textContent("main"), /Opioids or other drugs causing sedation.*No/s);
  assert.match(await nurse.textContent("main"), /126\/80 mmHg/);
  assert.match(await nurse.textContent("main"), /100 Demo Way, Suite 2, Springfield, IL 62701/);
  assert.match(await nurse.textContent("main"), /nurse@example\.org, telephone \(217\) 555-0142/);
  await checkAccessible(nurse, "REMS form");
  await nurse.emulateMedia({ media: "print" });
  const pdf = await nurse.pdf({ format: "Letter" });
  const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.equal(pages, 1, "the form prints on one page");

  // Two hours after the first device the nurse discharges; the prescriber signs and locks.
  await nurse.emulateMedia({ media: "screen" });
  await nurse.goto(esk);
  for (const item of ["Alert and oriented", "No active nausea or vomiting", "A responsible adult is here", "Vitals near the patient"]) {
    await nurse.getByLabel(item).check();
  }
  await nurse.getByRole("button", { name: "Discharge" }).click();
  await nurse.waitForURL(/done=saved/);
  assert.match(await nurse.textContent(".session-status"), /Discharged/);
  await doctor.goto(esk);
  await doctor.getByRole("button", { name: "Sign and lock" }).click();
  await doctor.waitForURL(/done=locked/);
  assert.match(await doctor.textContent("main"), /Signed and locked .* by Dr\. Priya Prescriber/);

  // The first esketamine session of the patient starting it this week, from check-in: the
  // devices, then monitoring that cannot end before two hours.
  await bookTodayByHand(nurse, await patientId(nurse, "Quintrell"), "Room C, Demo nasal (24 h)");
  await nurse.waitForURL(/\/sessions\/[0-9a-f-]{36}$/);
  assert.notEqual(nurse.url(), esk, "a new session, not the locked one");
  await nurse.getByLabel("Today's weight (kg)").fill("84");
  await nurse.getByLabel("Systolic (mmHg)").fill("128");
  await nurse.getByLabel("Diastolic (mmHg)").fill("82");
  await nurse.getByLabel("Heart rate (per min)").fill("76");
  await nurse.getByLabel("SpO2 (%)").fill("98");
  await nurse.getByLabel("Respiratory rate (per min)").fill("14");
  await nurse.getByLabel("Not applicable").check();
  await nurse.getByLabel("A responsible adult will take the patient home").check();
  await nurse.getByRole("button", { name: "Record the pre-assessment" }).click();
  await nurse.waitForURL(/done=saved/);
  await nurse.getByLabel("Lot number").fill("ESK-24117");
  await nurse.getByLabel("Drawn from (controlled-substance stock)").selectOption({ index: 1 });
  await nurse.getByRole("button", { name: "Verify the dose" }).click();
  await nurse.waitForURL(/done=saved/);
  assert.match(await nurse.textContent("main"), /Dose:.*mg, verified by Noah Nurse; lot ESK-24117/s);
  await nurse.getByRole("button", { name: "Record the first dose given" }).click();
  await nurse.waitForURL(/done=saved/);
  await nurse.getByRole("button", { name: "Record that administration is complete" }).click();
  await nurse.waitForURL(/done=saved/);
  await nurse.getByLabel("Systolic (mmHg)").fill("138");
  await nurse.getByLabel("Diastolic (mmHg)").fill("86");
  await nurse.getByRole("button", { name: "Record vitals" }).click();
  await nurse.waitForURL(/done=vitals/);
  assert.match(await nurse.textContent(".session-status"), /Monitoring/);
  for (const item of ["Alert and oriented", "No active nausea or vomiting", "A responsible adult is here", "Vitals near the patient"]) {
    await nurse.getByLabel(item).check();
  }
  await nurse.getByRole("button", { name: "Discharge" }).click();
  await nurse.waitForSelector("#error-summary");
  assert.match(await nurse.textContent("#error-summary"), /at least 120 minutes of monitoring from the first device/);
  await checkAccessible(nurse, "esketamine discharge held to two hours");
  await nurse.context().close();
  await doctor.context().close();
});

test("the ledger: a receipt, the sessions' administrations, witnessed waste of a vial's remainder, and a count with a discrepancy", async () => {
  const nurse = await newPage();
  await signIn(nurse, "nurse@example.org");
  await nurse.goto(`${base}/ledger`);
  await checkAccessible(nurse, "ledger");
  await nurse.getByLabel("Ketamine HCl vials").check();
  await nurse.getByLabel("Vial strength").selectOption("50");
  await nurse.getByLabel("Vial volume (mL, vials only)").fill("10");
  await nurse.getByLabel("How many vials or devices").fill("2");
  await nurse.getByLabel("NDC").fill("0143-9508-10");
  await nurse.getByLabel("Lot number").fill("KET-B2");
  await nurse.getByLabel("Expiry date").fill("2099-01-31");
  await nurse.getByLabel("Supplier", { exact: true }).fill("Example Medical Supply");
  await nurse.getByLabel("Supplier's address").fill("1 Supply Road, Columbus, OH 43004");
  await nurse.getByLabel("Supplier's DEA number").fill("RX1234563");
  await nurse.getByLabel("Invoice or packing slip number").fill("INV-3300");
  await nurse.getByRole("button", { name: "Record the receipt" }).click();
  await nurse.waitForURL(/done=receipt/);
  assert.match(await nurse.textContent("main"), /ketamine HCl 50 mg\/mL, 10 mL vial #2\s*KET-B2/);

  // The sessions wrote their administrations; the live infusion's vial still holds its remainder.
  await nurse.goto(`${base}/ledger/log`);
  assert.match(await nurse.textContent("main"), /Administration.*Marlow Ashgrove/s);
  await nurse.goto(`${base}/ledger`);
  // An opened vial of the demo's lot: what the infusions left in it.
  const [remainder, left] = await nurse.evaluate(() => {
    for (const o of document.querySelectorAll("#container option")) {
      const m = /KET-88210: (\d+\.\d) mg/.exec(o.textContent);
      if (m && Number(m[1]) < 100) return [o.value, m[1]];
    }
    return [];
  });
  assert.ok(remainder, "an infusion's vial holds what its dose left");
  await nurse.getByLabel("What happened", { exact: true }).selectOption("waste");
  await nurse.locator("#container").selectOption(remainder);
  await nurse.getByLabel("Amount (mg)").fill(left);
  await nurse.getByLabel("How (wasted, returned to whom)").fill("emptied into the waste container");
  await nurse.getByRole("button", { name: "Record the entry" }).click();
  await nurse.waitForSelector("#error-summary");
  assert.match(await nurse.textContent("#error-summary"), /A second person witnesses this/);
  await checkAccessible(nurse, "waste sent back for a witness");
  await nurse.getByLabel("Witness's email").fill("prescriber@example.org");
  await nurse.getByLabel("Witness's password").fill(PASSWORD);
  await nurse.getByRole("button", { name: "Record the entry" }).click();
  await nurse.waitForURL(/done=entry/);

  // A count that differs is a discrepancy that needs its explanation.
  const full = await nurse.evaluate(() => [...document.querySelectorAll("#count_container option")].find((o) => /#1, lot KET-B2/.test(o.textContent))?.value);
  await nurse.locator("#count_container").selectOption(full);
  await nurse.getByLabel("Counted (mg)").fill("490");
  await nurse.getByRole("button", { name: "Record the count" }).click();
  await nurse.waitForSelector("#error-summary");
  assert.match(await nurse.textContent("#error-summary"), /explain the difference/);
  await nurse.locator("#count_container").selectOption(full);
  await nurse.getByLabel("Counted (mg)").fill("490");
  await nurse.getByLabel("Explanation of a difference").fill("10 mg short at the count; vial seal intact, asked the pharmacist");
  await nurse.getByRole("button", { name: "Record the count" }).click();
  await nurse.waitForURL(/done=count/);
  await checkAccessible(nurse, "ledger after a count");
  await nurse.goto(`${base}/ledger/log`);
  const log = await nurse.textContent("main");
  assert.match(log, /Waste.*witnessed by Dr\. Priya Prescriber/s);
  assert.match(log, /Count discrepancy.*-10\.000 mg/s);
  await checkAccessible(nurse, "dispensing log");
  await nurse.goto(`${base}/ledger`);
  await nurse.getByRole("button", { name: "Check the ledger's hash chain" }).click();
  assert.match(await nurse.textContent("main"), /Intact: \d+ entries checked/);
  await nurse.context().close();
});

test("the server's log never names a patient", async () => {
  const page = await newPage();
  await signIn(page, "nurse@example.org");
  await page.goto(`${base}/patients`);
  const listed = await page.locator("table a").allTextContents();
  await page.context().close();
  // Each part of each name of at least three letters, from the demo patients and every patient
  // the tests above registered.
  const parts = [...new Set(listed.flatMap((name) => name.split(/[\s,]+/)).filter((p) => p.length >= 3))];
  assert.ok(parts.length >= 6, `patients listed: ${listed.join("; ")}`);
  assert.ok(serverLog.length > 100_000, `the debug log holds ${serverLog.length} characters`);
  assert.match(serverLog, /request/);
  const word = (p) => new RegExp(`\\b${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`);
  const found = parts.filter((p) => word(p).test(serverLog));
  assert.deepEqual(found, [], `patient names in the server's log: ${found.join(", ")}`);
});
