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

workbox.precaching.cleanupOutdatedCaches();
workbox.precaching.precacheAndRoute({{ precache_json|safe }}, {ignoreURLParametersMatching: [/.*/]});

// any navigation inside /app/ gets the shell (it is one page)
workbox.routing.registerRoute(new workbox.routing.NavigationRoute(
  workbox.precaching.createHandlerBoundToURL("/app/"), {allowlist: [/^\/app\/$/]}));
