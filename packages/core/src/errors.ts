/** Linux errno values for the codes the contract uses. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  EMFILE: 24,
  ENOSPC: 28,
  EPIPE: 32,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ENOTSUP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
  ECANCELED: 125,
} as const;

export type ErrnoCode = keyof typeof ERRNO;

const CODE_BY_ERRNO = new Map<number, ErrnoCode>(
  Object.entries(ERRNO).map(([code, errno]) => [errno, code as ErrnoCode]),
);

/** The code for a Linux errno number, or `E<number>` for one the table does not name. */
export function errnoCode(errno: number): string {
  return CODE_BY_ERRNO.get(errno) ?? `E${errno}`;
}

/** The Linux errno number for a code; EINVAL's for codes the table does not name. */
export function errnoNumber(code: string): number {
  return (ERRNO as Record<string, number>)[code] ?? ERRNO.EINVAL;
}

/**
 * The one error type demi throws. `code` is the errno name as Node's `err.code`
 * ('ECONNREFUSED'), `errno` its Linux number, `syscall` the demi call that failed.
 */
export class DemiError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string | undefined;

  constructor(
    code: ErrnoCode | string,
    message: string,
    options?: { syscall?: string; cause?: unknown },
  ) {
    super(
      `${code}: ${message}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'DemiError';
    this.code = code;
    this.errno = errnoNumber(code);
    this.syscall = options?.syscall;
  }

  /** A DemiError from a Linux errno number. */
  static fromErrno(errno: number, message: string, syscall?: string): DemiError {
    return new DemiError(
      errnoCode(errno),
      message,
      syscall === undefined ? undefined : { syscall },
    );
  }
}

export function isDemiError(value: unknown, code?: string): value is DemiError {
  return value instanceof DemiError && (code === undefined || value.code === code);
}
