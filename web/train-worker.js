// Training, in a worker of its own (the page's drawing and the inference worker go on beside
// it): a second instance of the engine (mnist-engine.js + .wasm), whose C API trains a network
// with the engine's own automatic differentiation (mnist_trainer_*, include/mnist.h). MNIST's
// training and test sets are fetched once as gzipped IDX files (train-data/, then kept in the
// Cache API, where the service worker finds them too) and handed to the engine as they are: it inflates and checks them
// (mnist_dataset_load). A run is stepped a few batches per call, each call sized to take about
// CHUNK_MS, so progress is posted often and Pause takes effect between calls; at the end the
// test set is scored (mnist_evaluate, the figure `mnist eval` gives for the saved file) and the
// model is sent to the page as GGUF bytes (mnist_trainer_save_buffer).
//
// Messages in:  {type: "start", run, arch, preset, epochs, lr, nTrain, nVal, seed} | {type: "pause"} |
//               {type: "resume"} | {type: "recipe", arch, preset}
// Messages out: {type: "ready"} | {type: "recipe", ...} | {type: "loading", what} |
//               {type: "started", ...} | {type: "progress", ...} | {type: "done", gguf, ...} |
//               {type: "error", message}; a run's messages carry its `run` number.
importScripts("site.js", "mnist-engine.js");
const SITE = self.SITE;
const MNIST_OK = 0;
const CHUNK_MS = 120;

let E;           // the Emscripten module
let mem;         // fixed buffers in the module's memory
const sets = {}; // "train" / "test" -> Promise of a mnist_dataset*
let run = null;  // the run under way: {id, trainer, paused, wake}
let runs = 0;

function lastError() { return E.UTF8ToString(E._mnist_last_error()); }
function cString(s) {
  const bytes = new TextEncoder().encode(s);
  const ptr = E._malloc(bytes.length + 1);
  E.HEAPU8.set(bytes, ptr);
  E.HEAPU8[ptr + bytes.length] = 0;
  return ptr;
}
function withStrings(strings, f) {
  const ptrs = strings.map(cString);
  try { return f(...ptrs); } finally { ptrs.forEach((p) => E._free(p)); }
}

// A file of train-data/ from the cache of its version (the one sw.js keeps them in), else from
// the network, then kept there: so the data is kept even when the page trains before its
// service worker has taken control. (No Cache API outside secure contexts: then the network.)
async function cachedFetch(file) {
  if (!self.caches) return fetch(file);
  const cache = await caches.open(`mnist-data-${SITE.training.version}`);
  const kept = await cache.match(file);
  if (kept) return kept;
  const res = await fetch(file);
  if (res.ok) await cache.put(file, res.clone());
  return res;
}

// A data set (SITE.training.train or .test) fetched and loaded into the engine, once.
function dataset(which) {
  if (!sets[which]) {
    sets[which] = (async () => {
      const files = SITE.training[which];
      postMessage({ type: "loading", what: `MNIST ${which === "train" ? "training" : "test"} set` });
      const [images, labels] = await Promise.all([files.images, files.labels].map(async (f) => {
        const res = await cachedFetch(f);
        if (!res.ok) throw new Error(`${f}: HTTP ${res.status}`);
        return new Uint8Array(await res.arrayBuffer());
      }));
      const ip = E._malloc(images.length), lp = E._malloc(labels.length);
      E.HEAPU8.set(images, ip);
      E.HEAPU8.set(labels, lp);
      const handle = E._mnist_dataset_load(ip, images.length, lp, labels.length); // decoded and copied
      E._free(ip);
      E._free(lp);
      if (!handle) throw new Error(`${files.images}: ${lastError()}`);
      return handle;
    })();
    sets[which].catch(() => delete sets[which]); // may be tried again
  }
  return sets[which];
}

// mnist_train_progress: eight ints, then four doubles (include/mnist.h).
function readProgress(p) {
  const i = E.HEAP32.subarray(p >> 2, (p >> 2) + 8), d = E.HEAPF64.subarray((p + 32) >> 3, ((p + 32) >> 3) + 4);
  return {
    epoch: i[0], epochs: i[1], batch: i[2], batchesPerEpoch: i[3], imagesDone: i[4], imagesTotal: i[5],
    finished: i[6] === 1, epochDone: i[7] === 1, loss: d[0], accuracy: d[1], valLoss: d[2], valAccuracy: d[3],
  };
}

// Lets the messages waiting for this worker (Pause) in, without a timer's clamped delay.
const channel = new MessageChannel();
let yielded = null;
channel.port1.onmessage = () => yielded();
const yieldNow = () => new Promise((resolve) => { yielded = resolve; channel.port2.postMessage(null); });

async function start(m) {
  if (run) stop();
  const id = ++runs;
  run = { id, trainer: 0, paused: false, wake: null };
  const [train, test] = await Promise.all([dataset("train"), dataset("test")]);
  if (!run || run.id !== id) return; // replaced by a newer run meanwhile
  const trainer = withStrings([m.arch, m.preset], (a, p) =>
    E._mnist_trainer_new(a, p, train, m.nTrain, m.nVal, m.epochs, m.lr, m.seed >>> 0));
  if (!trainer) throw new Error(lastError());
  run.trainer = trainer;
  if (E._mnist_trainer_step(trainer, 0, mem.progress) !== MNIST_OK) throw new Error(lastError());
  postMessage({ type: "started", run: m.run, ...readProgress(mem.progress) });

  let batches = 1, trainMs = 0;
  for (;;) {
    await yieldNow();
    if (!run || run.id !== id) return;
    if (run.paused) {
      await new Promise((resolve) => { run.wake = resolve; });
      continue;
    }
    const t0 = performance.now();
    if (E._mnist_trainer_step(trainer, batches, mem.progress) !== MNIST_OK) throw new Error(lastError());
    const ms = performance.now() - t0;
    trainMs += ms;
    const p = readProgress(mem.progress);
    postMessage({ type: "progress", run: m.run, ...p, trainMs, chunkMs: ms });
    if (p.finished) break;
    // The next call sized to take about CHUNK_MS (a call that ended an epoch also validated).
    if (!p.epochDone) batches = Math.max(1, Math.min(1000, Math.round(batches * CHUNK_MS / Math.max(ms, 1))));
  }

  // The test set, scored by the model as it is now (a model of its own, like a loaded file).
  const t0 = performance.now();
  const model = E._mnist_trainer_model(trainer);
  if (!model) throw new Error(lastError());
  const count = E._mnist_dataset_count(test);
  const status = E._mnist_evaluate(model, test, 0, count, mem.correct, mem.loss);
  E._mnist_free(model);
  if (status !== MNIST_OK) throw new Error(lastError());
  const testMs = performance.now() - t0;
  if (E._mnist_trainer_save_buffer(trainer, mem.data, mem.size) !== MNIST_OK) throw new Error(lastError());
  const ptr = E.HEAPU32[mem.data >> 2], size = E.HEAPU32[mem.size >> 2];
  const gguf = E.HEAPU8.slice(ptr, ptr + size);
  E._free(ptr);
  stop();
  postMessage({ type: "done", run: m.run, arch: m.arch, preset: m.preset, trainMs, testMs, testCorrect: E.HEAPU32[mem.correct >> 2],
                testCount: count, testLoss: E.HEAPF64[mem.loss >> 3], gguf: gguf.buffer }, [gguf.buffer]);
}

function stop() {
  if (!run) return;
  if (run.trainer) E._mnist_trainer_free(run.trainer);
  if (run.wake) run.wake();
  run = null;
}

function recipe(m) {
  const status = withStrings([m.arch, m.preset], (a, p) => E._mnist_train_recipe(a, p, mem.epochs, mem.batch, mem.lr));
  if (status !== MNIST_OK) throw new Error(lastError());
  return { type: "recipe", arch: m.arch, preset: m.preset, epochs: E.HEAP32[mem.epochs >> 2],
           batch: E.HEAP32[mem.batch >> 2], lr: Number(E.HEAPF32[mem.lr >> 2].toPrecision(6)) }; // (a float: 0.025, not 0.0250000004)
}

const engine = createMnistEngine().then((module) => {
  E = module;
  const at = (bytes) => E._malloc(bytes);
  mem = { progress: at(64), correct: at(4), loss: at(8), data: at(4), size: at(4), epochs: at(4), batch: at(4), lr: at(4) };
  postMessage({ type: "ready" });
});
engine.catch((e) => postMessage({ type: "error", message: `the engine did not load: ${e.message || e}` }));

onmessage = ({ data: m }) => {
  engine.then(() => {
    if (m.type === "start") {
      start(m).catch((e) => {
        stop();
        postMessage({ type: "error", run: m.run, message: e.message || String(e) });
      });
    } else if (m.type === "pause") {
      if (run) run.paused = true;
    } else if (m.type === "resume") {
      if (run) {
        run.paused = false;
        if (run.wake) run.wake();
        run.wake = null;
      }
    } else if (m.type === "recipe") {
      postMessage(recipe(m));
    }
  }).catch((e) => postMessage({ type: "error", message: e.message || String(e) }));
};
