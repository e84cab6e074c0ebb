/* The field app's service worker (scope /app/). Workbox from our own static files
   (node_modules via collectstatic), never the Google CDN. It precaches the app shell and its
   scripts, so /app/ opens without a network; the worker's data lives in IndexedDB. */
importScripts("{{ workbox_sw|escapejs }}");
const MODULES = {{ modules_json|safe }};
workbox.setConfig({debug: false, modulePathCb: (name) => MODULES[name]});
// load every module now: importScripts only works while the worker is being installed
workbox.loadModule("workbox-core");
workbox.loadModule("workbox-precaching");
workbox.loadModule("workbox-routing");
workbox.loadModule("workbox-strategies");

self.skipWaiting();
workbox.core.clientsClaim();

// Navigation to /app/ answers the precached shell. Before the precache's own route, and
// matched with ignoreVary: Django marks the page "Vary: Cookie, Accept-Language", and the
// Request the service worker stored carries neither header, so a plain match would miss.
const SHELL = "/app/";
workbox.routing.registerRoute(
  ({request, url}) => request.mode === "navigate" && url.pathname === SHELL,
  async ({request}) => {
    const cache = await caches.open(workbox.core.cacheNames.precache);
    const key = workbox.precaching.getCacheKeyForURL(SHELL);
    const cached = key && await cache.match(key, {ignoreVary: true});
    return cached || fetch(request);
  });

workbox.precaching.cleanupOutdatedCaches();
workbox.precaching.precacheAndRoute({{ precache_json|safe }}, {ignoreURLParametersMatching: [/.*/]});
