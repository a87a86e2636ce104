// Training in the web demo, measured: the built site (scripts/build_web.sh) served by
// python3 -m http.server, opened in headless Chromium (npm's playwright-core driving Debian's
// chromium), the Train panel run with the chosen network and settings (by default the small
// CNN's recipe on 55,000 digits), and printed: seconds from pressing Train to the first epoch
// whose validation accuracy reaches 98%, to the end (test accuracy included), the final test
// accuracy, digits per second in WebAssembly (and, with the native `mnist train` on the same
// recipe at 1 and 2 threads, natively), and how the page's thread kept up meanwhile: the gaps
// between animation frames, a 50 ms timer's lateness, and the time a test digit drawn on the
// pad took to be read, every half second while training.
//   node bench/web_train.mjs [--net cnn|fc] [--images N] [--epochs N] [--lr R] [--no-native]
// Environment: MNIST_BIN (default build/mnist), WEB_SITE (default build-web/site).
// Run it on a quiet machine: the page trains on one thread and the measurements share the cores.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir, cpus, loadavg } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const net = opt("net", "cnn");
if (!["cnn", "fc"].includes(net)) throw new Error("--net cnn or fc");
const images = opt("images", "55000"), epochs = opt("epochs", ""), lr = opt("lr", "");
const BIN = process.env.MNIST_BIN || join(ROOT, "build/mnist");
const SITE = process.env.WEB_SITE || join(ROOT, "build-web/site");
const TMP = mkdtempSync(join(tmpdir(), "web-train-"));

const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN; };
const summary = (xs) => `median ${quantile(xs, 0.5).toFixed(1)} ms, p95 ${quantile(xs, 0.95).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (${xs.length})`;

const server = spawn("/usr/bin/python3", ["-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", SITE, "0"],
                     { stdio: ["ignore", "pipe", "pipe"] });
const url = await new Promise((resolve, reject) => {
  let out = "";
  server.stdout.on("data", (c) => { out += c; const m = out.match(/port (\d+)/); if (m) resolve(`http://127.0.0.1:${m[1]}/`); });
  server.on("exit", (code) => reject(new Error(`the server exited (${code}): ${out}`)));
});
console.log(`web_train: ${cpus().length} cores (${cpus()[0].model}), load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} before`);

const context = await chromium.launchPersistentContext(join(TMP, "profile"), {
  executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 1100, height: 1000 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Engine:"), null, { timeout: 30000 });
  await page.selectOption("#train-net", net === "cnn" ? "mnist-cnn/fast" : "mnist-fc/");
  await page.waitForFunction(() => document.getElementById("train-epochs").value !== "", null, { timeout: 20000 });
  await page.waitForTimeout(300); // (the recipe of the network just chosen)
  await page.selectOption("#train-images", images);
  if (epochs) await page.fill("#train-epochs", epochs);
  if (lr) await page.fill("#train-lr", lr);
  const settings = { epochs: await page.inputValue("#train-epochs"), lr: await page.inputValue("#train-lr") };
  // The page's thread watched: animation frames, and a 50 ms timer's lateness.
  await page.evaluate(() => {
    const w = (window.watch = { frames: [], timer: [], on: true });
    let last = performance.now();
    const tick = () => { const now = performance.now(); w.frames.push(now - last); last = now; if (w.on) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    let due = performance.now() + 50;
    const timer = () => { const now = performance.now(); w.timer.push(now - due); due = now + 50; if (w.on) setTimeout(timer, 50); };
    setTimeout(timer, 50);
  });
  const t0 = Date.now();
  await page.click("#train");
  // While it trains: a random test digit every half second, timed until the pad's prediction is its.
  const reads = [];
  for (;;) {
    const done = await page.evaluate(() => document.getElementById("train-result").dataset.correct !== undefined ||
                                           document.getElementById("train-result").textContent.includes("failed"));
    if (done) break;
    const before = await page.locator("#pad").getAttribute("data-version");
    const r0 = Date.now();
    await page.click("#random");
    await page.waitForFunction((v) => { const p = document.getElementById("pad").dataset.version;
      return p !== v && document.getElementById("prediction").dataset.version === p; }, before, { timeout: 30000 });
    reads.push(Date.now() - r0);
    await page.waitForTimeout(500);
  }
  const total = (Date.now() - t0) / 1000;
  const result = await page.locator("#train-result").evaluate((e) => ({ ...e.dataset, text: e.textContent }));
  const history = await page.evaluate(() => document.getElementById("train-plot").history);
  const watch = await page.evaluate(() => { window.watch.on = false; return window.watch; });
  if (!result.correct) throw new Error(result.text);
  const digits = history[history.length - 1].images;
  console.log(`web_train: ${net === "cnn" ? "mnist-cnn, preset fast" : "mnist-fc"}, ${images} digits, ${settings.epochs} epochs, ` +
              `learning rate ${settings.lr}, in ${(await context.browser()?.version()) || "Chromium"}`);
  for (const h of history.filter((p) => p.valAccuracy !== undefined))
    console.log(`  epoch end at ${(h.t / 1000).toFixed(1)} s after pressing Train: validation ${(100 * h.valAccuracy).toFixed(2)}%`);
  const first98 = history.find((p) => p.valAccuracy >= 0.98);
  console.log(`  validation at 98% or more: ${first98 ? `${(first98.t / 1000).toFixed(1)} s after pressing Train` : "never"}`);
  console.log(`  test accuracy ${result.accuracy} (${result.correct}/${result.count}), shown ${result.seconds} s after pressing Train ` +
              `(${total.toFixed(1)} s as the driver saw it; training ${result.trainSeconds} s, ${Math.round(digits / Number(result.trainSeconds))} digits/s in WebAssembly)`);
  // Digits per second over the calls that did not end an epoch (those also validated).
  let dImages = 0, dMs = 0;
  for (let i = 1; i < history.length; i++)
    if (history[i].valAccuracy === undefined) { dImages += history[i].images - history[i - 1].images; dMs += history[i].trainMs - history[i - 1].trainMs; }
  console.log(`  training alone (the calls that did not validate): ${Math.round(dImages / (dMs / 1000))} digits/s in WebAssembly`);
  console.log(`  page's thread while training: frame gaps ${summary(watch.frames)}; 50 ms timer late by ${summary(watch.timer)}`);
  console.log(`  a test digit drawn and read while training: ${summary(reads)}`);
  if (!args.includes("--no-native")) {
    for (const threads of [1, 2]) {
      const out = execFileSync(BIN, ["train", net === "cnn" ? "mnist-cnn" : "mnist-fc", join(TMP, "native.gguf"),
        ...(net === "cnn" ? ["--preset", "fast"] : []), "--data", join(ROOT, "data/mnist"), "--limit", String(Number(images) + 5000),
        "--val-split", String(5000 / (Number(images) + 5000)), ...(settings.epochs ? ["--epochs", settings.epochs] : []),
        "--lr", settings.lr, "--threads", String(threads)], { encoding: "utf8" });
      const rates = [...out.matchAll(/([0-9.]+) s, (\d+) img\/s/g)].map((m) => Number(m[2]));
      const test = (out.match(/test: accuracy ([0-9.]+%)/) || [])[1];
      console.log(`  native mnist train, ${threads} thread${threads > 1 ? "s" : ""}: ${rates.join(", ")} digits/s per epoch (validation not counted), test ${test}`);
    }
  }
} finally {
  await context.close();
  server.kill();
}
