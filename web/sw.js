// The service worker: when installed it keeps every file of the site (site.js lists them, with
// a version that changes whenever one of them does) in a cache of that version, and answers from
// there, so the page, the engine and the models work offline. A new version replaces the old
// one at once; files the site does not list (another server's endpoints) go to the network.
importScripts("site.js");
const CACHE = `mnist-web-${self.SITE.version}`;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(self.SITE.files.map((f) => new Request(f, { cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    return (await cache.match(event.request, { ignoreSearch: true })) || fetch(event.request);
  })());
});
