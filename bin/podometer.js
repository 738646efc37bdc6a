#!/usr/bin/env -S node --no-memory-reducer
// The V8 flags of services/common/node-flags.ts (they cannot go in NODE_OPTIONS).
// Entry point: runs the compiled CLI (npm run build writes dist/).
import { main } from '../dist/services/cli/main.js';

main(process.argv.slice(2)).then(
  // A failure exits at once: a role that could not start may still hold clients reconnecting to
  // an unreachable Redis, which would keep the process running with nothing to do.
  (code) => {
    if (code !== 0) process.exit(code);
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
