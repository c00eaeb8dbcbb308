/** Socket constants with Linux's values, so they can be passed to the kernel unchanged. */
export const AF_INET = 2;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_KEEPALIVE = 9;
export const SO_LINGER = 13;
export const TCP_NODELAY = 1;

/** What a completed operation was; Demikernel's `demi_opcode_t` values. */
export const Opcode = {
  INVALID: 0,
  PUSH: 1,
  POP: 2,
  ACCEPT: 3,
  CONNECT: 4,
  CLOSE: 5,
  FAILED: 6,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Bytes a pop returns at most when the caller names no size. */
export const DEFAULT_POP_SIZE = 64 * 1024;
