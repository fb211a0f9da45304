#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (part of `npm run setup`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('Switchyard is not built yet: run `npm run setup` (or `npm run build`) in its folder first.');
  process.exit(1);
}
await import(main.href);
