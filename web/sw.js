// The service worker: when installed it keeps every file of the site (site.js lists them, with
// a version that changes whenever one of them does) in a cache of that version, and answers from
// there, so the page, the engine and the models work offline. A new version replaces the old
// one at once; files the site does not list (another server's endpoints) go to the network.
// The training data (train-data/, 11 MB) is not fetched at install: it is kept the first time
// the page fetches it to train, in a cache of its own version, which outlives new versions of
// the page while the data stays the same.
importScripts("site.js");
const CACHE = `mnist-web-${self.SITE.version}`;
const training = self.SITE.training || { version: "none", files: [] };
const DATA_CACHE = `mnist-data-${training.version}`;
const lazy = new Set(training.files.map((f) => new URL(f, self.location).pathname));

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(self.SITE.files.map((f) => new Request(f, { cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE && name !== DATA_CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (lazy.has(url.pathname)) {
    event.respondWith((async () => {
      const cache = await caches.open(DATA_CACHE);
      const kept = await cache.match(event.request, { ignoreSearch: true });
      if (kept) return kept;
      const res = await fetch(event.request);
      if (res.ok) await cache.put(event.request, res.clone());
      return res;
    })());
    return;
  }
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    return (await cache.match(event.request, { ignoreSearch: true })) || fetch(event.request);
  })());
});
