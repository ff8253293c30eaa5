// node <the service's flags> --import ./packages/runtime/src/compile-cache.mjs \
//   packages/runtime/src/warm-compile-cache.mjs <module>...
// Fills Node's compile cache at image build time, run with the same V8 flags as the image's CMD
// (the cache is kept per set of flags): otherwise every new container strips its TypeScript again,
// which loads the stripper and costs about 25 MB of resident memory for as long as it runs.
// A service's main.ts is imported like any module: without its settings it stops at once.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

for (const path of process.argv.slice(2)) await import(pathToFileURL(resolve(path)).href);
// The services' refusals to start without settings are expected here.
process.exitCode = 0;
