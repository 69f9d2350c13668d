#!/usr/bin/env node
// kmsd is TypeScript run by Node 24's type stripping; this shim is the npm bin entry.
await import('../src/cli/main.ts');
