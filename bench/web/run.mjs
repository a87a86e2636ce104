// Runs bench/web/index.html in headless Chromium (playwright-core, Debian's chromium) and prints
// the table for the README, then the raw results as JSON.
//   node run.mjs URL OUT.json      (URL: the page, served by bench/web_bench.sh)
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [url, out] = process.argv.slice(2);
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "bench-chromium-")), {
  executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); else if (m.type() === "log") console.error(m.text()); });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("crash", () => console.error("run: the benchmark page crashed"));
  await page.goto(url);
  await page.waitForFunction(() => window.benchResult || document.getElementById("log").textContent.includes("Error"),
                             null, { timeout: 20 * 60 * 1000, polling: 500 });
  const r = await page.evaluate(() => window.benchResult);
  if (!r || errors.length) throw new Error(`the benchmark page failed:\n${errors.join("\n")}`);
  r.browser = `Chromium ${context.browser() ? context.browser().version() : ""}`.trim();
  writeFileSync(out, JSON.stringify(r, null, 1));

  const libs = ["mnist.cpp", "ONNX Runtime Web", "TensorFlow.js"];
  const fmt = (us) => (us < 100 ? us.toFixed(1) : us.toFixed(0));
  console.log(`| model | batch | ${libs.join(" | ")} | faster library / mnist.cpp |`);
  console.log(`|---|---|${libs.map(() => "---:").join("|")}|---:|`);
  const models = [...new Set(r.rows.map((x) => x.model))];
  for (const model of models)
    for (const batch of [1, 100]) {
      // (A library left out by ?libs= shows as a dash, and then there is no ratio.)
      const us = libs.map((l) => r.rows.find((x) => x.model === model && x.library === l && x.batch === batch)?.medianUsPerImage);
      const ratio = us.every((u) => u !== undefined) ? `${(Math.min(us[1], us[2]) / us[0]).toFixed(1)}x` : "—";
      console.log(`| \`${model}\` | ${batch} | ${us.map((u) => (u === undefined ? "—" : `${fmt(u)} µs`)).join(" | ")} | ${ratio} |`);
    }
  console.log(`(µs per image, median of ${r.rounds} blocks of at least ${r.blockMs} ms each; ${r.userAgent}; ` +
              `TensorFlow.js ${r.versions.tfjs} (${r.versions.tfjsBackend}), ONNX Runtime Web ${r.versions.ort}; ` +
              `cross-origin isolated: ${r.crossOriginIsolated})`);
} finally {
  await context.close();
}
