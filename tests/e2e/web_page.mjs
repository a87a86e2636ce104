// The web demo in headless Chromium (playwright-core driving Debian's chromium), served by a
// command given on the command line (mnist serve, python3 -m http.server): it loads with no
// console errors; digits drawn with the mouse are recognised, as `mnist predict` reads the same
// canvas; Undo, Clear and the empty prediction; an image file opened; Random gives the
// prediction `mnist predict` gives for the same test digit, with MNIST's label; switching models; the saliency overlay; every
// control reachable by Tab and labelled; a phone's touch draws without scrolling; and, with the
// server stopped, a reload still works (the service worker). Exits non-zero on the first failure.
// With WEB_TRAIN=1, also the Train panel: a short run of the small CNN in the page (the recipe's
// settings shown, drawing is read while it trains, Pause holds it, the loss falls, the test
// accuracy is well above chance), the downloaded GGUF scored by `mnist eval` to the page's
// figure, and the pad reading test digits with it as `mnist predict` does with that file.
//   node web_page.mjs NAME SCREENSHOT.png -- SERVER COMMAND...   (the server prints its URL)
// Environment: MNIST_BIN, MNIST_DATA_DIR, MNIST_SOURCE_DIR, WEB_TMP (a scratch folder), WEB_TRAIN.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [name, screenshot, dashes, ...serverCmd] = process.argv.slice(2);
if (dashes !== "--" || serverCmd.length === 0) throw new Error("usage: web_page.mjs NAME SCREENSHOT -- SERVER...");
const { MNIST_BIN: BIN, MNIST_DATA_DIR: DATA, MNIST_SOURCE_DIR: SRC, WEB_TMP: TMP } = process.env;
const MODELS = { cnn: `${SRC}/models/mnist-cnn-f32.gguf`, fc: `${SRC}/models/mnist-fc-f32.gguf` };

function check(ok, what) {
  if (!ok) throw new Error(`${name}: ${what}`);
}

// ---- the server: started here, its URL read from what it prints ------------------------------------
function startServer() {
  const proc = spawn(serverCmd[0], serverCmd.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = new Promise((resolve, reject) => {
    const look = (chunk) => {
      output += chunk;
      const m = output.match(/(http:\/\/127\.0\.0\.1:\d+)\//) || output.match(/127\.0\.0\.1 port (\d+)/);
      if (m) resolve(m[1].startsWith("http") ? `${m[1]}/` : `http://127.0.0.1:${m[1]}/`);
    };
    proc.stdout.on("data", look);
    proc.stderr.on("data", look);
    proc.on("exit", (code) => reject(new Error(`the server exited (${code}) before printing its URL: ${output}`)));
    setTimeout(() => reject(new Error(`no URL from the server in 20 s: ${output}`)), 20000);
  });
  const exited = new Promise((resolve) => proc.on("exit", resolve));
  return { url, stop: async () => { proc.kill("SIGTERM"); await exited; } };
}

// ---- what `mnist predict` says ----------------------------------------------------------------------
function predictFiles(files, model) {
  const out = execFileSync(BIN, ["predict", "--json", "--model", model, ...files], { encoding: "utf8" });
  return out.trim().split("\n").map((l) => JSON.parse(l).digit);
}
const testImages = readFileSync(`${DATA}/t10k-images-idx3-ubyte`);
const testLabels = readFileSync(`${DATA}/t10k-labels-idx1-ubyte`);
function testDigitPgm(index) {
  const file = join(TMP, `${name}-digit-${index}.pgm`);
  writeFileSync(file, Buffer.concat([Buffer.from("P5\n28 28\n255\n"), testImages.subarray(16 + index * 784, 16 + (index + 1) * 784)]));
  return file;
}

// ---- drawing: strokes as point sequences in fractions of the pad --------------------------------
const ellipse = (cx, cy, rx, ry, n = 36) =>
  Array.from({ length: n + 1 }, (_, i) => [cx + rx * Math.sin((2 * Math.PI * i) / n), cy - ry * Math.cos((2 * Math.PI * i) / n)]);
const DIGITS = {
  1: [[[0.52, 0.15], [0.5, 0.5], [0.48, 0.85]]],
  0: [ellipse(0.5, 0.5, 0.22, 0.33)],
  7: [[[0.7, 0.2], [0.58, 0.5], [0.46, 0.85]], [[0.3, 0.2], [0.7, 0.2]]], // the stem alone reads as a 1 (Undo)
  3: [[[0.32, 0.22], [0.45, 0.15], [0.62, 0.17], [0.68, 0.3], [0.6, 0.43], [0.47, 0.48], [0.6, 0.53], [0.7, 0.66],
       [0.64, 0.8], [0.48, 0.86], [0.32, 0.8]]],
};

async function draw(page, strokes) {
  await page.locator("#pad").scrollIntoViewIfNeeded(); // (the Train panel's buttons are below it)
  const box = await page.locator("#pad").boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  for (const s of strokes) {
    await page.mouse.move(...at(s[0]));
    await page.mouse.down();
    for (const p of s.slice(1)) await page.mouse.move(...at(p), { steps: 6 });
    await page.mouse.up();
  }
}

// The prediction once it is that of the drawing as it is now: the digit's text ("" when empty).
async function settled(page) {
  await page.waitForFunction(() => document.getElementById("prediction").dataset.version === document.getElementById("pad").dataset.version,
                             null, { timeout: 10000 });
  return page.locator("#prediction").textContent();
}

async function canvasPng(page, file) {
  const url = await page.evaluate(() => document.getElementById("pad").toDataURL("image/png"));
  writeFileSync(file, Buffer.from(url.split(",")[1], "base64"));
  return file;
}

// A shortcut key, pressed with nothing focused (keys typed into the model's list choose a model).
async function key(page, k) {
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press(k);
}

async function ready(page) {
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Engine:"), null, { timeout: 20000 });
}

// Draws each digit on a clear pad: the page reads it, and `mnist predict` reads the canvas the same.
// `afterEach` (if given) runs as soon as each digit is read.
async function drawDigits(page, digits, modelFile, afterEach = async () => {}) {
  const pngs = [];
  for (const d of digits) {
    await key(page, "c");
    check((await settled(page)) === "", "the prediction is empty once the pad is clear");
    await draw(page, DIGITS[d]);
    const got = await settled(page);
    check(got === String(d), `a drawn ${d} is read as '${got}'`);
    await afterEach(d);
    pngs.push(await canvasPng(page, join(TMP, `${name}-drawn-${d}.png`)));
  }
  const native = predictFiles(pngs, modelFile);
  check(native.join() === digits.join(), `mnist predict reads the canvases as ${native}, the page as ${digits}`);
}

// Random n times: the label shown is MNIST's, the prediction that of `mnist predict` on the digit.
async function randomDigits(page, n, modelFile) {
  const seen = [];
  for (let i = 0; i < n; i++) {
    const before = await page.locator("#pad").getAttribute("data-version");
    await (i % 2 ? page.click("#random") : key(page, "r"));
    await page.waitForFunction((v) => document.getElementById("pad").dataset.version !== v, before, { timeout: 10000 });
    const digit = await settled(page);
    const { index, label } = await page.locator("#sample").evaluate((e) => ({ ...e.dataset }));
    check(index !== undefined, "a test digit's number is shown");
    check(Number(label) === testLabels[8 + Number(index)], `test digit ${index}: label ${label}, MNIST says ${testLabels[8 + Number(index)]}`);
    const verdict = await page.locator("#sample").textContent();
    check(verdict.includes(Number(digit) === Number(label) ? "read correctly" : `read as ${digit}`), `verdict '${verdict}'`);
    seen.push({ index: Number(index), digit: Number(digit) });
  }
  const native = predictFiles(seen.map((s) => testDigitPgm(s.index)), modelFile);
  seen.forEach((s, i) => check(native[i] === s.digit, `test digit ${s.index}: the page says ${s.digit}, mnist predict ${native[i]}`));
  return seen;
}

// ---- the Train panel ---------------------------------------------------------------------------
const trainState = (page) => page.evaluate(() => {
  const h = document.getElementById("train-plot").history;
  return { points: h.length, images: h.length ? h[h.length - 1].images : 0, result: document.getElementById("train-result").dataset.correct,
           pauseText: document.getElementById("train-pause").textContent, running: !document.getElementById("train-pause").disabled };
});

async function trainInPage(page) {
  // The recipe's settings, from the engine (mnist_train_recipe), for each network.
  const settings = async () => ({ epochs: await page.inputValue("#train-epochs"), lr: await page.inputValue("#train-lr") });
  await page.waitForFunction(() => document.getElementById("train-epochs").value !== "", null, { timeout: 20000 });
  let s = await settings();
  check(s.epochs === "2" && Number(s.lr) === 0.025, `the fast CNN's recipe: 2 epochs at 0.025, shown ${JSON.stringify(s)}`);
  await page.selectOption("#train-net", "mnist-fc/");
  await page.waitForFunction(() => document.getElementById("train-epochs").value === "30", null, { timeout: 10000 });
  check(Number((await settings()).lr) === 0.001, "the FC network's recipe: a rate of 0.001");
  await page.selectOption("#train-net", "mnist-cnn/fast");
  await page.waitForFunction(() => document.getElementById("train-epochs").value === "2", null, { timeout: 10000 });

  // A short run: the small CNN, 20,000 digits, two epochs (about 6 s here). A frame counter
  // watches the page's thread meanwhile.
  await page.selectOption("#train-images", "20000");
  await page.fill("#train-epochs", "2");
  await page.evaluate(() => {
    const g = (window.frameGaps = { gaps: [], on: true, last: performance.now() });
    const tick = () => {
      const now = performance.now();
      g.gaps.push(now - g.last);
      g.last = now;
      if (g.on) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const t0 = Date.now();
  await key(page, "t"); // T: Train
  await page.waitForFunction(() => document.getElementById("train-plot").history.length >= 2, null, { timeout: 60000 });

  // Drawing is read while it trains (each digit checked the moment it is read).
  const readAt = [];
  const whileTraining = async (d) => {
    const now = await trainState(page);
    readAt.push(`${d} at ${now.images}`);
    check(now.running && now.result === undefined, `the drawn ${d} was read after training ended (${JSON.stringify(now)}, paused at ${held && held.images}): make the run longer`);
  };
  let held = null;
  await drawDigits(page, [1], MODELS.cnn, whileTraining);

  // Pause holds it (a call under way may still report once), Resume goes on.
  await page.click("#train-pause");
  check((await trainState(page)).pauseText === "Resume", "Pause becomes Resume");
  await page.waitForTimeout(500);
  held = await trainState(page);
  await page.waitForTimeout(700);
  const still = await trainState(page);
  check(still.images === held.images && still.running, `paused, training went on: ${held.images} -> ${still.images} digits`);
  await page.click("#train-pause");
  await drawDigits(page, [7], MODELS.cnn, whileTraining); // (strokes of few points: a 0 takes seconds to draw)

  await page.waitForFunction(() => document.getElementById("train-result").dataset.correct !== undefined, null, { timeout: 180000 });
  const seconds = (Date.now() - t0) / 1000;
  const gaps = await page.evaluate(() => {
    window.frameGaps.on = false;
    const g = window.frameGaps.gaps.slice().sort((a, b) => a - b);
    return { frames: g.length, median: g[g.length >> 1], max: g[g.length - 1] };
  });
  const result = await page.locator("#train-result").evaluate((e) => ({ ...e.dataset, text: e.textContent }));
  const history = await page.evaluate(() => document.getElementById("train-plot").history);
  check(!result.text.includes("failed"), result.text);
  const first = history[0], last = history[history.length - 1];
  check(history.length >= 5, `only ${history.length} progress reports`);
  check(last.loss < first.loss * 0.8, `the training loss did not fall: ${first.loss} -> ${last.loss}`);
  check(last.valAccuracy > 0.9, `validation accuracy ${last.valAccuracy} after the last epoch`);
  const correct = Number(result.correct), count = Number(result.count);
  check(count === 10000 && correct / count > 0.9, `test accuracy ${correct}/${count}`);
  // Frames kept coming at the display's rate (training on the page's thread, even in calls of
  // 120 ms, would make the typical gap that long); the longest gap is bounded loosely, since
  // other jobs on this machine's two cores can hold the page's thread off for a while.
  check(gaps.median < 40, `the page's thread ran a frame every ${gaps.median.toFixed(0)} ms (median) while training`);
  check(gaps.max < 2000, `the page's thread stalled ${gaps.max.toFixed(0)} ms between frames while training`);
  console.log(`${name}: trained in the page: ${result.accuracy} (${correct}/${count}) in ${seconds.toFixed(1)} s ` +
              `(${result.trainSeconds} s training), ${history.length} reports; frame gaps: median ${gaps.median.toFixed(1)} ms, longest ${gaps.max.toFixed(0)} ms, ${gaps.frames} frames; ` +
              `drawn digits read while training (${readAt.join(", ")} of ${last.images} digits)`);

  // Downloaded, the file scores in `mnist eval` exactly as the page said.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#train-download")]);
  const file = join(TMP, `${name}-trained.gguf`);
  await download.saveAs(file);
  const evalOut = execFileSync(BIN, ["eval", file, `${DATA}/t10k-images-idx3-ubyte`, `${DATA}/t10k-labels-idx1-ubyte`], { encoding: "utf8" });
  const m = evalOut.match(/^accuracy: ([0-9.]+%) \((\d+)\/(\d+)\)/m);
  check(m && Number(m[2]) === correct && Number(m[3]) === count && m[1] === result.accuracy,
        `mnist eval says ${m ? m[0] : evalOut}, the page ${result.accuracy} (${correct}/${count})`);

  // The pad now reads with it, as `mnist predict` does with the downloaded file.
  check((await page.inputValue("#model")) === "trained", "the model just trained is chosen");
  await page.waitForFunction(() => document.getElementById("model-info").textContent.startsWith("mnist-cnn, trained in this page"),
                             null, { timeout: 10000 });
  await randomDigits(page, 3, file);
  await drawDigits(page, [3], file);
  await page.selectOption("#model", "mnist-cnn-f32");
  await page.waitForFunction(() => document.getElementById("model-info").textContent.startsWith("mnist-cnn, 141 KB"), null, { timeout: 10000 });
}

const errors = [];
function watch(page) {
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
}

const server = startServer();
const url = await server.url;
const context = await chromium.launchPersistentContext(mkdtempSync(join(TMP, "chromium-")), {
  executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 960, height: 760 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  watch(page);
  await page.goto(url);
  await ready(page);
  check((await page.locator("#prediction").textContent()) === "", "the prediction is empty before anything is drawn");

  // Drawn digits, Undo (the 7 without its bar is a 1) and Clear, by keys and by buttons.
  await drawDigits(page, [1, 0, 3, 7], MODELS.cnn);
  await key(page, "u");
  check((await settled(page)) === "1", "Undo takes the 7's bar away: a 1 is left");
  await page.click("#undo");
  check((await settled(page)) === "", "Undo of the only stroke leaves nothing: the prediction is empty");
  await page.keyboard.press("Control+z");
  check((await settled(page)) === "3", "Ctrl+Z undoes the Clear before the 7: the 3 is back");
  // Open image…: an image file (the PNG of the 3 drawn above) is read like the drawing was.
  const beforeFile = await page.locator("#pad").getAttribute("data-version");
  await page.locator("#file").setInputFiles(join(TMP, `${name}-drawn-3.png`));
  await page.waitForFunction((v) => document.getElementById("pad").dataset.version !== v, beforeFile, { timeout: 10000 });
  check((await settled(page)) === "3", "an image file of a 3, opened, is read as a 3");
  await page.click("#clear");
  check((await settled(page)) === "", "Clear empties the prediction");

  // Where the model looks: the overlay is drawn in colour over the gray input.
  await draw(page, DIGITS[3]);
  await settled(page);
  await key(page, "s");
  await page.waitForFunction(() => !document.getElementById("saliency-legend").hidden, null, { timeout: 10000 });
  const coloured = await page.evaluate(() => {
    const d = document.getElementById("input").getContext("2d").getImageData(0, 0, 28, 28).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) n += Math.abs(d[i] - d[i + 2]) > 40;
    return n;
  });
  check(coloured >= 20, `the saliency overlay colours ${coloured} pixels`);
  await page.screenshot({ path: screenshot });
  await key(page, "s");

  // Random test digits with the CNN, then with the FC network.
  await randomDigits(page, 4, MODELS.cnn);
  await page.selectOption("#model", "mnist-fc-f32");
  await page.waitForFunction(() => document.getElementById("model-info").textContent.startsWith("mnist-fc,"), null, { timeout: 10000 });
  await randomDigits(page, 4, MODELS.fc);
  await drawDigits(page, [0], MODELS.fc);
  await key(page, "m");
  await page.waitForFunction(() => document.getElementById("model-info").textContent.startsWith("mnist-cnn,"), null, { timeout: 10000 });
  check((await page.locator("#model").inputValue()) === "mnist-cnn-f32", "M goes back to the CNN");
  if (process.env.WEB_TRAIN) await trainInPage(page);

  // Tab reaches every control, and each has a name.
  const controls = await page.evaluate(() =>
    [...document.querySelectorAll("button:not(:disabled), select:not(:disabled), input:not([hidden]):not(:disabled)")].map((e) => ({
      id: e.id, name: (e.labels && e.labels.length ? e.labels[0].textContent : e.getAttribute("aria-label") || e.textContent).trim() })));
  await page.evaluate(() => document.activeElement.blur());
  const reached = new Set();
  for (let i = 0; i < controls.length + 4; i++) {
    await page.keyboard.press("Tab");
    reached.add(await page.evaluate(() => document.activeElement.id));
  }
  for (const c of controls) {
    check(reached.has(c.id), `Tab never reaches #${c.id} (reached: ${[...reached]})`);
    check(c.name.length > 0, `#${c.id} has no label`);
  }

  // Offline: the service worker holds the site; with the server gone a reload still reads digits.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20000 });
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("Available offline"), null, { timeout: 20000 });
  await server.stop();
  await page.reload();
  await ready(page);
  await drawDigits(page, [7], MODELS.cnn);
  await randomDigits(page, 1, MODELS.cnn);
  if (process.env.WEB_TRAIN) { // the training data was kept: the four files of train-data/
    const kept = await page.evaluate(async () =>
      (await (await caches.open(`mnist-data-${self.SITE.training.version}`)).keys()).map((r) => new URL(r.url).pathname).sort());
    check(kept.length === 4 && kept.every((p) => p.startsWith("/train-data/")), `the cache of the training data holds ${kept}`);
  }
  check(errors.length === 0, `errors in the console:\n${errors.join("\n")}`);

  // A phone: the page fits its width, and a finger drawing on the pad does not scroll the page.
  const phone = await context.newPage();
  watch(phone);
  await phone.setViewportSize({ width: 390, height: 760 });
  await phone.goto(url);
  await ready(phone);
  const fits = await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  check(fits, "the page is wider than a phone's screen");
  const cdp = await context.newCDPSession(phone);
  await cdp.send("Emulation.setTouchEmulationEnabled", { enabled: true, maxTouchPoints: 1 });
  const box = await phone.locator("#pad").boundingBox();
  const before = await phone.evaluate(() => window.scrollY);
  const touch = (type, [x, y]) => cdp.send("Input.dispatchTouchEvent",
    { type, touchPoints: type === "touchEnd" ? [] : [{ x: box.x + x * box.width, y: box.y + y * box.height }] });
  const one = DIGITS[1][0];
  await touch("touchStart", one[0]);
  for (let t = 0.05; t <= 1; t += 0.05) await touch("touchMove", [one[0][0] + t * (one[2][0] - one[0][0]), one[0][1] + t * (one[2][1] - one[0][1])]);
  await touch("touchEnd", one[2]);
  check((await settled(phone)) === "1", "a 1 drawn by touch");
  check((await phone.evaluate(() => window.scrollY)) === before, "drawing by touch scrolled the page");
  check(errors.length === 0, `errors in the console:\n${errors.join("\n")}`);
  console.log(`${name}: PASS (${url})`);
} finally {
  await context.close();
  await server.stop().catch(() => {});
}
