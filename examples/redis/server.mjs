#!/usr/bin/env node
// A Redis-compatible server on demi: node examples/redis/server.mjs --port 6380
// DEMI_LIBOS picks the LibOS; --transport node serves the same engine over node:net.
// Prints `ready <port>` on stdout once it listens. (TypeScript runs through Node's type stripping.)
import './src/main.ts';
