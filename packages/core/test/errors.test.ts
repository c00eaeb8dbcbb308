import { describe, expect, it } from 'vitest';
import { DemiError, ERRNO, errnoCode, errnoNumber, isDemiError } from '../src/index.js';

describe('DemiError', () => {
  it('carries the code, the Linux errno and the syscall', () => {
    const err = new DemiError('ECONNREFUSED', 'nobody home', { syscall: 'connect' });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errno).toBe(111);
    expect(err.syscall).toBe('connect');
    expect(err.message).toBe('ECONNREFUSED: nobody home');
    expect(isDemiError(err, 'ECONNREFUSED')).toBe(true);
    expect(isDemiError(new Error('x'))).toBe(false);
  });

  it('maps every code of the contract to its Linux number and back', () => {
    const linux: Record<string, number> = {
      EBADF: 9,
      EINVAL: 22,
      ENOTSUP: 95,
      EADDRINUSE: 98,
      EADDRNOTAVAIL: 99,
      EDESTADDRREQ: 89,
      EISCONN: 106,
      ENOTCONN: 107,
      ECONNREFUSED: 111,
      ECONNRESET: 104,
      ETIMEDOUT: 110,
      ECANCELED: 125,
      EAGAIN: 11,
      ENOPROTOOPT: 92,
      EEXIST: 17,
      ENOENT: 2,
    };
    for (const [code, errno] of Object.entries(linux)) {
      expect(ERRNO[code as keyof typeof ERRNO]).toBe(errno);
      expect(errnoCode(errno)).toBe(code);
      expect(errnoNumber(code)).toBe(errno);
      expect(DemiError.fromErrno(errno, 'x').code).toBe(code);
    }
    expect(errnoCode(4242)).toBe('E4242');
  });
});
