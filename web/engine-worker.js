// The engine, off the page's thread: mnist.cpp's C API (include/mnist.h) compiled to
// WebAssembly (mnist-engine.js + .wasm, built by scripts/build_web.sh). Models are fetched
// as GGUF files once and loaded from their bytes (mnist_load_buffer); each request is one image
// (the pad, a test digit, a file) made MNIST-like and predicted (mnist_predict_image), with the
// inference timed and, when asked, the gradient of the predicted digit's score with respect to
// the 28x28 input (mnist_saliency). A model trained in the page (train-worker.js) comes as
// GGUF bytes and is loaded the same way.
importScripts("site.js", "mnist-engine.js");
const SITE = self.SITE;
const MNIST_OK = 0, MNIST_NO_DIGIT = 6, PIXELS = 784;

let E;                     // the Emscripten module
const models = new Map();  // name -> Promise of {handle, info}
let scratch = { ptr: 0, size: 0 };
let out;                   // fixed buffers: digit, probabilities, the 28x28 input, gradient, probabilities again
const runsPerBlock = new Map();

function lastError() { return E.UTF8ToString(E._mnist_last_error()); }

// Resolves to {handle, info}; a model is fetched and loaded once.
function load(name) {
  if (!models.has(name)) {
    models.set(name, (async () => {
      const entry = SITE.models.find((m) => m.name === name);
      if (!entry) throw new Error(`no model named ${name}`);
      const t0 = performance.now();
      const res = await fetch(entry.file);
      if (!res.ok) throw new Error(`${entry.file}: HTTP ${res.status}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const ptr = E._malloc(bytes.length);
      E.HEAPU8.set(bytes, ptr);
      const handle = E._mnist_load_buffer(ptr, bytes.length); // copies the bytes
      E._free(ptr);
      if (!handle) throw new Error(`${entry.file}: ${lastError()}`);
      const info = { model: name, arch: E.UTF8ToString(E._mnist_model_arch(handle)), bytes: bytes.length, ms: performance.now() - t0 };
      return { handle, info };
    })());
    models.get(name).catch(() => models.delete(name)); // a failed load may be tried again
  }
  return models.get(name);
}

// Room in the module's memory for an image of n bytes.
function imageBuffer(n) {
  if (scratch.size < n) {
    if (scratch.ptr) E._free(scratch.ptr);
    scratch = { ptr: E._malloc(n), size: n };
  }
  return scratch.ptr;
}

// The mean time of one inference on the 28x28 input, over a block of runs long enough for this
// clock (without cross-origin isolation performance.now() counts in steps of 0.1 ms).
function inferenceTime(handle) {
  let n = runsPerBlock.get(handle) || 16;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) E._mnist_predict(handle, out.input, 0, out.probs2);
    const ms = performance.now() - t0;
    if (ms >= 4 || n >= 1 << 16) {
      runsPerBlock.set(handle, ms > 8 ? Math.max(16, n >> 1) : n);
      return { inferenceUs: (ms * 1000) / n, runs: n };
    }
    n *= 2;
  }
}

async function predict(m) {
  const { handle } = await load(m.model);
  const pixels = new Uint8Array(m.pixels);
  const ptr = imageBuffer(pixels.length);
  E.HEAPU8.set(pixels, ptr);
  const t0 = performance.now();
  const status = E._mnist_predict_image(handle, ptr, m.width, m.height, m.channels, out.digit, out.probs, out.input);
  const preprocessMs = performance.now() - t0;
  const reply = { type: "result", version: m.version, final: m.final };
  if (status === MNIST_NO_DIGIT) return { ...reply, empty: true };
  if (status !== MNIST_OK) throw new Error(lastError());
  const digit = E.HEAP32[out.digit >> 2];
  const result = {
    ...reply, digit, preprocessMs,
    probs: Array.from(E.HEAPF32.subarray(out.probs >> 2, (out.probs >> 2) + 10)),
    input: E.HEAPU8.slice(out.input, out.input + PIXELS),
    ...inferenceTime(handle),
  };
  if (m.saliency) {
    if (E._mnist_saliency(handle, out.input, digit, out.gradient) !== MNIST_OK) throw new Error(lastError());
    result.gradient = Array.from(E.HEAPF32.subarray(out.gradient >> 2, (out.gradient >> 2) + PIXELS));
  }
  return result;
}

// A model given as GGUF bytes (the one trained in the page), under a name; it replaces an earlier
// model of that name, which is freed (requests run in order, so none is using it).
async function add(name, buffer) {
  const old = models.get(name);
  models.delete(name);
  if (old) {
    try {
      E._mnist_free((await old).handle);
    } catch (e) { /* it never loaded */ }
  }
  const t0 = performance.now();
  const bytes = new Uint8Array(buffer);
  const ptr = E._malloc(bytes.length);
  E.HEAPU8.set(bytes, ptr);
  const handle = E._mnist_load_buffer(ptr, bytes.length);
  E._free(ptr);
  if (!handle) throw new Error(`the trained model: ${lastError()}`);
  const info = { model: name, arch: E.UTF8ToString(E._mnist_model_arch(handle)), bytes: bytes.length, ms: performance.now() - t0 };
  models.set(name, Promise.resolve({ handle, info }));
}

// Requests are answered in order: a prediction waits for the model it names to be loaded.
let queue = Promise.resolve();
onmessage = ({ data: m }) => {
  queue = queue.then(async () => {
    try {
      if (m.type === "load") postMessage({ type: "loaded", ...(await load(m.model)).info });
      else if (m.type === "add") await add(m.model, m.bytes);
      else if (m.type === "predict") postMessage(await predict(m));
    } catch (e) {
      postMessage({ type: "error", message: e.message });
    }
  });
};

queue = createMnistEngine().then((module) => {
  E = module;
  const at = (bytes) => E._malloc(bytes);
  out = { digit: at(4), probs: at(40), probs2: at(40), input: at(PIXELS), gradient: at(PIXELS * 4) };
  postMessage({ type: "ready", version: E.UTF8ToString(E._mnist_version()) });
}, (e) => postMessage({ type: "error", message: `the engine did not load: ${e.message || e}` }));
