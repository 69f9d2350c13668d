#!/usr/bin/env -S node --max-semi-space-size=8
// kmsd is TypeScript run by Node 24's type stripping; this shim is the npm bin entry.
// --max-semi-space-size=8 (MB): V8 sizes its young generation by the allocation rate, up to
// 32 MB per semi-space; under load that is ~80 MB of resident memory for garbage. 8 MB costs
// no measurable throughput (BENCHMARKS.md). `npm start` passes the same flag.
await import('../src/cli/main.ts');
