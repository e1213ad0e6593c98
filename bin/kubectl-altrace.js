#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --enable-experimental-regexp-engine-on-excessive-backtracks
// `kubectl altrace ...`: kubectl runs any `kubectl-<name>` on the PATH as its plugin `<name>`;
// this is the altrace CLI under that name (npm installs both), with the same commands and flags.
import './altrace.js';
