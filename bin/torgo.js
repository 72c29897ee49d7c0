#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript under dist/ (npm run build).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
