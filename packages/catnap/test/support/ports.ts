import { AF_INET, SOCK_STREAM } from '@demi/core';
import type { Catnap } from '../../src/index.js';

/**
 * A port on 127.0.0.1 that nothing uses right now: bind a kernel socket to port 0,
 * read the port the kernel chose, close the socket. Synchronous, so it serves as
 * the conformance suite's nextPort() and closedPort().
 */
export function freePort(libos: Catnap): number {
  const qd = libos.socket(AF_INET, SOCK_STREAM);
  try {
    libos.bind(qd, { address: '127.0.0.1', port: 0 });
    return libos.getsockname(qd).port;
  } finally {
    libos.close(qd);
  }
}
