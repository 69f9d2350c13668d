// Writes src/client/operations.ts from the operation definitions (npm run generate:client).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OPERATIONS } from '../src/api/routes.ts';
import { renderClientModule } from '../src/client/generate.ts';

export const GENERATED = fileURLToPath(new URL('../src/client/operations.ts', import.meta.url));

if (import.meta.main) writeFileSync(GENERATED, renderClientModule(OPERATIONS));
