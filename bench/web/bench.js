// The browser benchmark: the same two models (our GGUF files; the same weights exported from
// PyTorch for the others) in mnist.cpp's WebAssembly engine, ONNX Runtime Web (its wasm backend,
// SIMD, one thread) and TensorFlow.js (its wasm backend, SIMD, fused ops), on the same test
// digits, at batch 1 and batch 100, one after another in rounds. Each library's argmax on the
// first 100 test digits must equal PyTorch's. Time is measured over blocks of runs: without
// cross-origin isolation performance.now() counts in steps of 0.1 ms.
// Query: ?blocks=N (rounds, default 15) &block_ms=M (least length of a block, default 40)
// &libs=A,B (only these libraries, by name: for a quick look at one; the table needs all three).
import * as ort from "/ort/ort.wasm.min.mjs";

const q = new URLSearchParams(location.search);
const ROUNDS = Number(q.get("blocks") || 15), BLOCK_MS = Number(q.get("block_ms") || 40);
const BATCHES = [1, 100], N = 100; // inputs cycle over the first N test digits
const log = (s) => { document.getElementById("log").textContent += s + "\n"; };

const manifest = await (await fetch("/exported/models.json")).json();
const digits = new Uint8Array(await (await fetch("/engine/test-digits/t10k-images-500.idx")).arrayBuffer(), 16, N * 784);
const floats = Float32Array.from(digits, (v) => v / 255);
const argmax = (p, i, k = 10) => { let b = 0; for (let c = 1; c < k; c++) if (p[i * k + c] > p[i * k + b]) b = c; return b; };

// Each library: prepare(stem) → { run(batch, i) → probabilities of the batch starting at digit i }.
const libraries = {
  "mnist.cpp": async (stem) => {
    const E = await createMnistEngine();
    const bytes = new Uint8Array(await (await fetch(`/engine/models/${stem}.gguf`)).arrayBuffer());
    const file = E._malloc(bytes.length);
    E.HEAPU8.set(bytes, file);
    const model = E._mnist_load_buffer(file, bytes.length);
    if (!model) throw new Error(E.UTF8ToString(E._mnist_last_error()));
    const input = E._malloc(N * 784), digit = E._malloc(4 * N), probs = E._malloc(40 * N);
    return {
      sync: true,
      run(batch, i) {
        E.HEAPU8.set(digits.subarray(i * 784, (i + batch) * 784), input);
        const s = batch === 1 ? E._mnist_predict(model, input, digit, probs) : E._mnist_predict_batch(model, input, batch, digit, probs);
        if (s !== 0) throw new Error(E.UTF8ToString(E._mnist_last_error()));
        return E.HEAPF32.slice(probs >> 2, (probs >> 2) + 10 * batch);
      },
    };
  },
  "ONNX Runtime Web": async (stem) => {
    Object.assign(ort.env.wasm, { numThreads: 1, proxy: false, wasmPaths: "/ort/" });
    const session = await ort.InferenceSession.create(`/exported/${manifest[stem].onnx}`,
                                                      { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    const fc = manifest[stem].arch === "mnist-fc";
    return {
      sync: false,
      async run(batch, i) {
        const x = new ort.Tensor("float32", floats.subarray(i * 784, (i + batch) * 784), fc ? [batch, 784] : [batch, 1, 28, 28]);
        const out = await session.run({ x });
        return out.probs.data;
      },
    };
  },
  "TensorFlow.js": async (stem) => {
    tf.wasm.setWasmPaths("/tfjs-wasm/");
    await tf.setBackend("wasm");
    const m = manifest[stem];
    const blob = new Float32Array(await (await fetch(`/exported/${m.weights}`)).arrayBuffer());
    const w = {};
    for (const t of m.tensors) w[t.name] = tf.tensor(blob.subarray(t.offset, t.offset + t.shape.reduce((a, b) => a * b)), t.shape);
    const dense = (x, name, activation) =>
      tf.fused.matMul({ a: x, b: w[`${name}.weight`], bias: w[`${name}.bias`], activation });
    const conv = (x, name) =>
      tf.maxPool(tf.fused.conv2d({ x, filter: w[`${name}.kernel`], strides: 1, pad: "valid", bias: w[`${name}.bias`], activation: "relu" }), 2, 2, "valid");
    const fc = m.arch === "mnist-fc";
    const net = fc ? (x) => tf.softmax(dense(dense(x, "fc1", "relu"), "fc2"))
                   : (x) => { const h = conv(conv(x, "conv1"), "conv2"); return tf.softmax(dense(h.reshape([h.shape[0], -1]), "dense")); };
    return {
      sync: true,
      run(batch, i) {
        return tf.tidy(() => net(tf.tensor(floats.subarray(i * 784, (i + batch) * 784), fc ? [batch, 784] : [batch, 28, 28, 1])).dataSync());
      },
    };
  },
};

// One block: k runs (batch 1 cycles over the digits); returns milliseconds per run.
async function block(lib, batch, k) {
  const t0 = performance.now();
  if (lib.sync) for (let r = 0; r < k; r++) lib.run(batch, batch === 1 ? r % N : 0);
  else for (let r = 0; r < k; r++) await lib.run(batch, batch === 1 ? r % N : 0);
  return (performance.now() - t0) / k;
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

const only = q.get("libs") ? q.get("libs").split(",") : null;
const configs = [];
for (const stem of Object.keys(manifest))
  for (const [name, prepare] of Object.entries(libraries)) {
    if (only && !only.includes(name)) continue;
    const lib = await prepare(stem);
    // The same answers as PyTorch on the checked digits, one at a time and as one batch.
    const one = [];
    for (let i = 0; i < N; i++) one.push(argmax(await lib.run(1, i), 0));
    const all = await lib.run(N, 0);
    const torch = manifest[stem].torch_argmax;
    const wrong = torch.filter((d, i) => d !== one[i] || d !== argmax(all, i)).length;
    if (wrong) throw new Error(`${name} on ${stem}: ${wrong} of ${N} argmaxes differ from PyTorch's`);
    for (const batch of BATCHES) {
      let k = 1;
      await block(lib, batch, 20); // warm-up
      while ((await block(lib, batch, k)) * k < BLOCK_MS) k *= 2;
      configs.push({ stem, arch: manifest[stem].arch, name, batch, lib, k, perImageUs: [] });
    }
    log(`${name}, ${stem}: ready, argmax = PyTorch's on ${N} digits`);
  }
for (let round = 0; round < ROUNDS; round++)
  for (const c of configs) c.perImageUs.push((await block(c.lib, c.batch, c.k)) * 1000 / c.batch);

window.benchResult = {
  userAgent: navigator.userAgent,
  crossOriginIsolated: self.crossOriginIsolated,
  versions: { tfjs: tf.version.tfjs, tfjsBackend: tf.getBackend(), ort: ort.env.versions && ort.env.versions.web },
  rounds: ROUNDS, blockMs: BLOCK_MS,
  rows: configs.map((c) => ({ model: c.stem, arch: c.arch, library: c.name, batch: c.batch, runsPerBlock: c.k,
                              medianUsPerImage: median(c.perImageUs), minUsPerImage: Math.min(...c.perImageUs) })),
};
log(JSON.stringify(window.benchResult, null, 1));
