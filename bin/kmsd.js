#!/usr/bin/env -S node --max-semi-space-size=8
// kmsd is TypeScript run by Node 24's type stripping; this shim is the npm bin entry.
// --max-semi-space-size=8 (MB): V8 sizes its young generation by the allocation rate, up to
// 32 MB per semi-space; under load that is ~80 MB of resident memory for garbage. 8 MB costs
// no measurable throughput (BENCHMARKS.md). `npm start` passes the same flag.
// `npx kmsd` and `npm start` run on the Node.js 24 that `npm install` brings (the `node` dev
// dependency, first on their PATH); a direct `node bin/kmsd.js` on an older Node says so.
if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write(`kmsd: needs Node.js 24 or later, this is ${process.version}: run it as \`npx kmsd\` or \`npm start\` (they use the Node.js 24 that npm install brings)\n`);
  process.exit(2);
}
await import('../src/cli/main.ts');
