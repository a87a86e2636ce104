// The page: strokes on a canvas, predicted live by the engine in a worker (engine-worker.js runs
// mnist.cpp's C API compiled to WebAssembly), and what the model reads shown beside them.
// Everything happens in the browser; the files come from this folder, as site.js (written by
// scripts/build_web.sh) lists them.
const $ = (id) => document.getElementById(id);
const SITE = self.SITE;
if (!SITE) {
  $("status").textContent = "This is the demo's source folder: build the page with scripts/build_web.sh and open build-web/site/.";
  throw new Error("site.js is missing: not a built site");
}
const pad = $("pad");
const ink = pad.getContext("2d", { willReadFrequently: true });
const LINE_WIDTH = pad.width / 14; // MNIST's strokes are about a tenth of the digit's height
const IMAGE_SIDE = 1024;           // image files are read at most this large (the engine averages down anyway)

// ---- the drawing: a list of actions, drawn again from the last one that starts afresh ----------
// {kind: "stroke", points: [[x, y], ...]} | {kind: "clear"} |
// {kind: "picture", image: {width, height, channels, data}, source: a canvas, sample?: {index, label}}
const actions = [];
let stroke = null; // the stroke being drawn
let version = 0;   // changes with every change of the drawing

function visible() {
  for (let i = actions.length - 1; i >= 0; i--) {
    if (actions[i].kind === "clear") return actions.slice(i + 1);
    if (actions[i].kind === "picture") return actions.slice(i);
  }
  return actions.slice();
}

function drawStroke(points, from = 0) {
  ink.lineWidth = LINE_WIDTH;
  ink.lineCap = ink.lineJoin = "round";
  ink.strokeStyle = "#000";
  ink.beginPath();
  ink.moveTo(points[from][0], points[from][1]);
  for (let i = from; i < points.length; i++) ink.lineTo(points[i][0], points[i][1]);
  ink.stroke();
}

// A picture fills the pad as far as its shape allows, centred.
function drawPicture(a) {
  const s = Math.min(pad.width / a.source.width, pad.height / a.source.height);
  const w = a.source.width * s, h = a.source.height * s;
  ink.imageSmoothingEnabled = true;
  ink.imageSmoothingQuality = "high";
  ink.drawImage(a.source, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
}

function render() {
  ink.fillStyle = "#fff";
  ink.fillRect(0, 0, pad.width, pad.height);
  for (const a of visible()) a.kind === "picture" ? drawPicture(a) : drawStroke(a.points);
}

// What the engine reads: a picture alone exactly as it is (a test digit as MNIST has it, an image
// file at its own resolution), anything else as the pad shows it.
function currentImage() {
  const v = visible();
  if (v.length === 1 && v[0].kind === "picture") {
    const im = v[0].image;
    return { width: im.width, height: im.height, channels: im.channels, data: im.data.slice() };
  }
  const d = ink.getImageData(0, 0, pad.width, pad.height);
  return { width: d.width, height: d.height, channels: 4, data: d.data };
}

function point(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}

pad.addEventListener("pointerdown", (e) => {
  if (stroke || (e.pointerType === "mouse" && e.button !== 0)) return;
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  stroke = { kind: "stroke", points: [point(e)], pointer: e.pointerId };
  actions.push(stroke);
  drawStroke(stroke.points);
  changed(false);
});
pad.addEventListener("pointermove", (e) => {
  if (!stroke || e.pointerId !== stroke.pointer) return;
  const from = stroke.points.length - 1;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
  for (const c of events.length ? events : [e]) stroke.points.push(point(c));
  drawStroke(stroke.points, from);
  changed(false);
});
for (const type of ["pointerup", "pointercancel"])
  pad.addEventListener(type, (e) => {
    if (!stroke || e.pointerId !== stroke.pointer) return;
    stroke = null;
    changed(true);
  });

function undo() {
  if (stroke || actions.length === 0) return;
  actions.pop();
  render();
  changed(true);
}

function clear() {
  if (stroke || visible().length === 0) return;
  actions.push({ kind: "clear" });
  render();
  changed(true);
}

function addPicture(image, source, sample) {
  actions.push({ kind: "picture", image, source, sample });
  render();
  changed(true);
}

// ---- test digits: the first MNIST test images, as IDX files ------------------------------------
let digits = null;
async function loadDigits() {
  if (!digits) {
    const [images, labels] = await Promise.all(
      [SITE.digits.images, SITE.digits.labels].map(async (f) => new DataView(await (await fetch(f)).arrayBuffer())));
    if (images.getUint32(0) !== 0x803 || labels.getUint32(0) !== 0x801) throw new Error("the test digits are not IDX files");
    digits = { count: images.getUint32(4), images, labels, last: -1 };
  }
  return digits;
}

async function randomDigit() {
  const d = await loadDigits();
  let index;
  do index = Math.floor(Math.random() * d.count); while (index === d.last && d.count > 1);
  d.last = index;
  const data = new Uint8Array(d.images.buffer, 16 + index * 784, 784).slice();
  const source = document.createElement("canvas");
  source.width = source.height = 28;
  const shown = new ImageData(28, 28);
  data.forEach((v, i) => shown.data.set([255 - v, 255 - v, 255 - v, 255], 4 * i)); // dark ink on white, as on the pad
  source.getContext("2d").putImageData(shown, 0, 0);
  addPicture({ width: 28, height: 28, channels: 1, data }, source, { index, label: d.labels.getUint8(8 + index) });
}

async function openFile(file) {
  const bitmap = await createImageBitmap(file);
  const s = Math.min(1, IMAGE_SIDE / Math.max(bitmap.width, bitmap.height));
  const source = document.createElement("canvas");
  source.width = Math.max(1, Math.round(bitmap.width * s));
  source.height = Math.max(1, Math.round(bitmap.height * s));
  const c = source.getContext("2d", { willReadFrequently: true });
  c.drawImage(bitmap, 0, 0, source.width, source.height);
  const d = c.getImageData(0, 0, source.width, source.height);
  addPicture({ width: d.width, height: d.height, channels: 4, data: d.data }, source);
}

// ---- predictions: at most one in flight and one per frame, the newest drawing each time --------
const worker = new Worker("engine-worker.js");
let engineReady = false, busy = false, pending = false, frame = 0, final = false;
let model = SITE.models[0].name;

function changed(done) {
  version++;
  pad.dataset.version = version;
  pending = true;
  final = final || done;
  $("undo").disabled = actions.length === 0;
  $("clear").disabled = visible().length === 0;
  $("hint").hidden = visible().length > 0;
  if (!frame) frame = requestAnimationFrame(send);
}

function send() {
  frame = 0;
  if (!engineReady || busy || !pending) return;
  pending = false;
  if (visible().length === 0) return showEmpty();
  const im = currentImage();
  busy = true;
  worker.postMessage({ type: "predict", version, model, saliency: $("saliency").checked, final,
                       width: im.width, height: im.height, channels: im.channels, pixels: im.data.buffer },
                     [im.data.buffer]);
  final = false;
}

// The status line: the engine, and whether this page is kept for offline use.
const status = { engine: "Loading the engine…", offline: "" };
function setStatus(part, text) {
  status[part] = text;
  $("status").textContent = `${status.engine} ${status.offline}`.trim();
}

worker.onmessage = ({ data: m }) => {
  if (m.type === "ready") {
    engineReady = true;
    setStatus("engine", `Engine: mnist.cpp ${m.version}, compiled to WebAssembly (SIMD kernels, one thread).`);
    if (visible().length) changed(true);
  } else if (m.type === "loaded") {
    if (m.model !== model) return; // (a model chosen before the one now in use)
    const what = m.model === TRAINED ? `trained in this page, ${trained.summary}` : kb(m.bytes);
    $("model-info").textContent = `${m.arch}, ${what}, loaded in ${m.ms.toFixed(1)} ms`;
  } else if (m.type === "result") {
    busy = false;
    if (visible().length === 0) showEmpty();
    else if (m.empty) showEmpty("No digit found: the drawing holds no ink the engine can see.", m.version);
    else show(m);
    if (pending && !frame) frame = requestAnimationFrame(send);
  } else if (m.type === "error") {
    busy = false;
    setStatus("engine", `Error: ${m.message}`);
  }
};
worker.onerror = (e) => setStatus("engine", `The engine could not start: ${e.message}`);

function kb(bytes) { return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1e3)} KB`; }

// ---- showing what the model read ---------------------------------------------------------------
const bars = [];
for (let d = 0; d < 10; d++) {
  const li = document.createElement("li");
  li.innerHTML = `<span>${d}</span><span class="track"><span class="fill"></span></span><span class="pct"></span>`;
  $("bars").append(li);
  bars.push({ li, fill: li.querySelector(".fill"), pct: li.querySelector(".pct") });
}

function setBars(probs) {
  const top = probs ? probs.indexOf(Math.max(...probs)) : -1;
  bars.forEach((b, d) => {
    const p = probs ? probs[d] : 0;
    b.fill.style.width = `${(100 * p).toFixed(1)}%`;
    b.pct.textContent = probs ? `${(100 * p).toFixed(p > 0.999 || p < 0.001 ? 1 : 2)}%` : "";
    b.li.classList.toggle("top", d === top);
    b.li.setAttribute("aria-label", probs ? `${d}: ${(100 * p).toFixed(1)}%` : `${d}`);
  });
}

const seen = $("input").getContext("2d");
// The 28x28 input as the model has it (255 = ink, shown white on black), and, when asked, where
// the gradient of the predicted digit's score is large: red where more ink raises it, blue lowers.
function drawInput(input, gradient) {
  const img = seen.createImageData(28, 28);
  const g = gradient ? Math.max(...gradient.map(Math.abs)) || 1 : 1;
  for (let i = 0; i < 784; i++) {
    const v = input ? input[i] : 0;
    let [r, gr, b] = [v, v, v];
    if (gradient) {
      const a = Math.min(1, Math.abs(gradient[i]) / g * 1.5);
      const [cr, cg, cb] = gradient[i] > 0 ? [255, 60, 40] : [60, 130, 255];
      [r, gr, b] = [r * 0.45 * (1 - a) + cr * a, gr * 0.45 * (1 - a) + cg * a, b * 0.45 * (1 - a) + cb * a];
    }
    img.data.set([r, gr, b, 255], 4 * i);
  }
  seen.putImageData(img, 0, 0);
}

function show(m) {
  const p = m.probs[m.digit];
  $("prediction").textContent = String(m.digit);
  $("prediction").dataset.version = m.version;
  $("confidence").textContent = `${(100 * p).toFixed(1)}% sure`;
  const us = m.inferenceUs;
  $("timing").textContent = `inference ${us < 10 ? us.toFixed(1) : Math.round(us)} µs (mean of ${m.runs} runs), ` +
      `made MNIST-like in ${m.preprocessMs.toFixed(1)} ms`;
  setBars(m.probs);
  drawInput(m.input, m.gradient);
  $("saliency-legend").hidden = !m.gradient;
  const v = visible();
  const sample = v.length === 1 && v[0].sample;
  const note = $("sample");
  if (sample) {
    const right = sample.label === m.digit;
    note.innerHTML = `MNIST test digit #${sample.index}, labelled ${sample.label}: ` +
        (right ? `<span class="good">read correctly ✓</span>` : `<span class="bad">read as ${m.digit} ✗</span>`);
    Object.assign(note.dataset, { index: sample.index, label: sample.label });
  } else {
    note.textContent = "";
    delete note.dataset.index;
    delete note.dataset.label;
  }
  if (m.final) $("announce").textContent = `Prediction: ${m.digit}, ${(100 * p).toFixed(0)}% sure`;
}

function showEmpty(why = "", shown = version) {
  $("prediction").textContent = "";
  $("prediction").dataset.version = shown;
  $("confidence").textContent = "";
  $("timing").textContent = why;
  $("sample").textContent = "";
  setBars(null);
  drawInput(null, null);
  $("saliency-legend").hidden = true;
}

// ---- controls ------------------------------------------------------------------------------------
function report(promise) {
  promise.catch((e) => setStatus("engine", `Error: ${e.message}`));
}

$("undo").onclick = undo;
$("clear").onclick = clear;
$("random").onclick = () => report(randomDigit());
$("open").onclick = () => $("file").click();
$("file").onchange = (e) => { if (e.target.files[0]) report(openFile(e.target.files[0])); e.target.value = ""; };
pad.addEventListener("dragover", (e) => e.preventDefault());
pad.addEventListener("drop", (e) => {
  e.preventDefault();
  if (e.dataTransfer.files[0]) report(openFile(e.dataTransfer.files[0]));
});
$("saliency").onchange = () => changed(true);

const select = $("model");
for (const m of SITE.models) select.add(new Option(`${m.name} (${kb(m.bytes)})`, m.name));
// The models the list offers: the site's, then the one trained in this page (once there is one).
const TRAINED = "trained";
const modelNames = () => [...select.options].map((o) => o.value);
function useModel(name) {
  model = name;
  select.value = name;
  $("model-info").textContent = "loading…";
  worker.postMessage({ type: "load", model: name });
  changed(true);
}
select.onchange = () => useModel(select.value);

document.addEventListener("keydown", (e) => {
  if (e.target.matches("select, input:not([type=checkbox]), textarea") || e.altKey) return;
  const key = e.key.toLowerCase();
  if ((e.ctrlKey || e.metaKey) && key === "z") {
    e.preventDefault();
    return undo();
  }
  if (e.ctrlKey || e.metaKey) return;
  const act = {
    u: undo, c: clear, r: () => report(randomDigit()), o: () => $("file").click(),
    s: () => { $("saliency").click(); },
    m: () => { const names = modelNames(); useModel(names[(names.indexOf(model) + 1) % names.length]); },
    t: () => (training.running ? $("train-pause") : $("train")).click(),
  }[key];
  if (act) {
    e.preventDefault();
    act();
  }
});

// ---- training in the page: a worker of its own (train-worker.js) --------------------------------
// The panel sends the settings; the worker posts progress after each call of a few batches,
// and at the end the model as GGUF bytes, which the inference worker loads as one more model.
const trainer = new Worker("train-worker.js");
const training = { run: 0, running: false, paused: false, history: [], epochs: [], started: 0, total: 0, recipes: new Map() };
const trained = { bytes: null, arch: "", summary: "" };
const plot = $("train-plot");
plot.history = training.history; // (read by the tests)
$("train-size").textContent = SITE.training ? `${(SITE.training.bytes / 1e6).toFixed(1)} MB` : "not in this build";

function netChoice() {
  const [arch, preset] = $("train-net").value.split("/");
  return { arch, preset };
}

// The epochs and learning rate of the chosen network's recipe (the engine's, mnist_train_recipe).
const NETS = {
  "mnist-cnn/fast": "3x3 convolutions of 8 and 32 channels, each with batch norm, relu and 2x2 max pooling, then a " +
      "dense layer (mnist train's --preset fast): AdamW with a one-cycle rate (the rate below is its peak), label " +
      "smoothing 0.1, random shifts of up to 1 pixel",
  "mnist-fc/": "784 inputs, 500 relu units, 10 outputs (the shipped FC network's shape): Adam at a constant rate",
};
function showRecipe() {
  const { arch, preset } = netChoice();
  const r = training.recipes.get(`${arch}/${preset}`);
  if (!r) return trainer.postMessage({ type: "recipe", arch, preset });
  $("train-epochs").value = r.epochs;
  $("train-lr").value = r.lr;
  $("train-recipe").textContent = `${NETS[`${arch}/${preset}`]}, batches of ${r.batch}.`;
}
$("train-net").onchange = showRecipe;

function number(n) { return Math.round(n).toLocaleString("en-US"); }
function pct(x) { return `${(100 * x).toFixed(2)}%`; }
function duration(s) {
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const r = Math.round(s);
  return `${Math.floor(r / 60)} min ${r % 60} s`;
}

function setTraining(running, paused = false) {
  training.running = running;
  training.paused = paused;
  $("train").disabled = running && !paused;
  $("train").textContent = running ? "Start over" : "Train";
  $("train-pause").disabled = !running;
  $("train-pause").textContent = paused ? "Resume" : "Pause";
  $("train-pause").setAttribute("aria-pressed", String(paused));
  for (const id of ["train-net", "train-images", "train-epochs", "train-lr"]) $(id).disabled = running && !paused;
}

$("train").onclick = () => {
  const { arch, preset } = netChoice();
  const epochs = Number($("train-epochs").value), lr = Number($("train-lr").value);
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 100) return trainMessage("Epochs: a whole number from 1 to 100.");
  if (!(lr > 0 && lr <= 1)) return trainMessage("Learning rate: a number above 0, at most 1.");
  const nTrain = Number($("train-images").value);
  training.history.length = 0;
  training.epochs.length = 0;
  training.total = 0;
  training.started = performance.now();
  $("train-epochs-done").textContent = "";
  $("train-result").textContent = "";
  for (const k of Object.keys($("train-result").dataset)) delete $("train-result").dataset[k]; // (the last run's figures)
  $("train-progress").value = 0;
  $("train-progress-text").textContent = "Fetching MNIST…";
  setTraining(true);
  drawPlot();
  training.run++;
  trainer.postMessage({ type: "start", run: training.run, arch, preset, epochs, lr, nTrain, nVal: 5000, seed: 42 });
};

$("train-pause").onclick = () => {
  if (!training.running) return;
  setTraining(true, !training.paused);
  trainer.postMessage({ type: training.paused ? "pause" : "resume" });
  if (training.paused) $("train-progress-text").textContent += " Paused.";
};

$("train-download").onclick = () => {
  if (!trained.bytes) return;
  const url = URL.createObjectURL(new Blob([trained.bytes], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `${trained.arch}-trained.gguf`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
};

function trainMessage(text) { $("train-result").textContent = text; }

trainer.onmessage = ({ data: m }) => {
  if (m.run !== undefined && m.run !== training.run) return; // (a run started over)
  if (m.type === "ready") {
    showRecipe();
  } else if (m.type === "recipe") {
    training.recipes.set(`${m.arch}/${m.preset}`, m);
    showRecipe();
  } else if (m.type === "loading") {
    $("train-progress-text").textContent = `Fetching and decoding the ${m.what}…`;
  } else if (m.type === "started") {
    training.total = m.imagesTotal;
    training.trainStart = performance.now();
    $("train-progress").max = m.imagesTotal;
    $("train-progress-text").textContent = `Training: ${number(m.imagesTotal)} digits to go through…`;
  } else if (m.type === "progress") {
    onProgress(m);
  } else if (m.type === "done") {
    onDone(m);
  } else if (m.type === "error") {
    setTraining(false);
    $("train-progress-text").textContent = "Stopped.";
    trainMessage(`Training failed: ${m.message}`);
  }
};
trainer.onerror = (e) => trainMessage(`The training worker could not start: ${e.message}`);

function onProgress(m) {
  if (!training.running) return;
  training.history.push({ images: m.imagesDone, loss: m.loss, accuracy: m.accuracy, t: performance.now() - training.started,
                          trainMs: m.trainMs, ...(m.epochDone ? { valAccuracy: m.valAccuracy, valLoss: m.valLoss } : {}) });
  $("train-progress").value = m.imagesDone;
  const rate = m.imagesDone / (m.trainMs / 1000);
  const left = (m.imagesTotal - m.imagesDone) / rate;
  $("train-progress-text").textContent =
      `Epoch ${Math.min(m.epoch + 1, m.epochs)} of ${m.epochs}: ${number(m.imagesDone)} of ${number(m.imagesTotal)} digits, ` +
      `${number(rate)} digits/s, ${m.finished ? "scoring the test set…" : `about ${duration(left)} left`}` +
      (training.paused ? " Paused." : "");
  if (m.epochDone) {
    training.epochs.push(m);
    const li = document.createElement("li");
    li.textContent = `Epoch ${m.epoch}: training loss ${m.loss.toFixed(4)}, accuracy ${pct(m.accuracy)}; ` +
        (m.valAccuracy >= 0 ? `validation ${pct(m.valAccuracy)} (loss ${m.valLoss.toFixed(4)})` : "no validation");
    li.dataset.validation = m.valAccuracy;
    $("train-epochs-done").append(li);
  }
  drawPlot();
}

function onDone(m) {
  setTraining(false);
  const seconds = (performance.now() - training.started) / 1000;
  const acc = m.testCorrect / m.testCount;
  trained.bytes = new Uint8Array(m.gguf);
  trained.arch = m.arch;
  trained.summary = `test accuracy ${pct(acc)}`;
  const result = $("train-result");
  result.textContent = `Test accuracy ${pct(acc)} (${number(m.testCorrect)} of ${number(m.testCount)} MNIST test digits), ` +
      `loss ${m.testLoss.toFixed(4)}; trained in ${duration(m.trainMs / 1000)}, ${duration(seconds)} from pressing Train. ` +
      `The drawing pad now uses it.`;
  Object.assign(result.dataset, { correct: m.testCorrect, count: m.testCount, accuracy: pct(acc), seconds: seconds.toFixed(2),
                                  trainSeconds: (m.trainMs / 1000).toFixed(2) });
  $("train-progress").value = $("train-progress").max;
  $("train-progress-text").textContent = `Done: ${number(training.total)} digits in ${duration(m.trainMs / 1000)} ` +
      `(${number(training.total / (m.trainMs / 1000))} digits/s).`;
  $("train-download").disabled = false;
  // One more model in the list, replacing an earlier one trained here.
  let option = [...select.options].find((o) => o.value === TRAINED);
  if (!option) select.add(option = new Option("", TRAINED));
  option.textContent = `trained in this page (${m.arch}, ${pct(acc)})`;
  worker.postMessage({ type: "add", model: TRAINED, bytes: trained.bytes.slice().buffer });
  useModel(TRAINED);
  drawPlot();
}

// The plot: loss (left axis, from 0 to the largest seen) and accuracy (right axis, 0-100%)
// against digits seen, drawn in the theme's colours.
function drawPlot() {
  const css = getComputedStyle(document.documentElement);
  const colour = (v) => css.getPropertyValue(v).trim();
  const c = plot.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  const w = plot.clientWidth || plot.width, h = plot.clientHeight || plot.height;
  if (plot.width !== Math.round(w * dpr)) { plot.width = Math.round(w * dpr); plot.height = Math.round(h * dpr); }
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  c.clearRect(0, 0, w, h);
  const L = 44, R = 44, T = 10, B = 26, pw = w - L - R, ph = h - T - B;
  const pts = training.history;
  const maxX = training.total || 1;
  const maxLoss = Math.max(0.5, ...pts.map((p) => p.loss)) * 1.05;
  const x = (v) => L + (v / maxX) * pw;
  c.font = "11px system-ui, sans-serif";
  c.lineWidth = 1;
  c.strokeStyle = colour("--line");
  c.fillStyle = colour("--muted");
  for (let i = 0; i <= 4; i++) { // grid: accuracy 0, 25, ... 100%; loss the same fractions
    const y = T + ph - (i / 4) * ph;
    c.beginPath(); c.moveTo(L, y); c.lineTo(L + pw, y); c.stroke();
    c.textAlign = "right"; c.fillText((maxLoss * i / 4).toFixed(2), L - 4, y + 4);
    c.textAlign = "left"; c.fillText(`${25 * i}%`, L + pw + 4, y + 4);
  }
  c.textAlign = "center";
  c.fillText(training.total ? `digits seen (of ${number(maxX)})` : "digits seen", L + pw / 2, h - 6);
  const line = (key, scale, col) => {
    c.strokeStyle = col; c.lineWidth = 2; c.beginPath();
    pts.forEach((p, i) => { const y = T + ph - (p[key] / scale) * ph; i ? c.lineTo(x(p.images), y) : c.moveTo(x(p.images), y); });
    c.stroke();
  };
  line("loss", maxLoss, colour("--bar"));
  line("accuracy", 1, colour("--bar-top"));
  c.fillStyle = colour("--good");
  for (const p of pts) if (p.valAccuracy >= 0) { c.beginPath(); c.arc(x(p.images), T + ph - p.valAccuracy * ph, 4, 0, 2 * Math.PI); c.fill(); }
}
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", drawPlot);
window.addEventListener("resize", drawPlot);
setTraining(false);
drawPlot();

// ---- offline: a service worker keeps every file of this folder (sw.js) ---------------------------
if ("serviceWorker" in navigator) {
  const sw = navigator.serviceWorker;
  const kept = () => { if (sw.controller) setStatus("offline", "Available offline."); };
  sw.addEventListener("controllerchange", kept);
  sw.register("sw.js").then(kept, (e) => setStatus("offline", `No offline copy: ${e.message}`));
}

render();
useModel(model);
showEmpty();
