/** RFC 9293 connection states. */
export const TcpState = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  ESTABLISHED: 4,
  FIN_WAIT_1: 5,
  FIN_WAIT_2: 6,
  CLOSE_WAIT: 7,
  CLOSING: 8,
  LAST_ACK: 9,
  TIME_WAIT: 10,
} as const;
export type TcpState = (typeof TcpState)[keyof typeof TcpState];

export const TCP_STATE_NAMES: Record<TcpState, string> = {
  0: 'CLOSED',
  1: 'LISTEN',
  2: 'SYN_SENT',
  3: 'SYN_RECEIVED',
  4: 'ESTABLISHED',
  5: 'FIN_WAIT_1',
  6: 'FIN_WAIT_2',
  7: 'CLOSE_WAIT',
  8: 'CLOSING',
  9: 'LAST_ACK',
  10: 'TIME_WAIT',
};

/** States in which both sides' initial sequence numbers are known. */
export function isSynchronized(s: TcpState): boolean {
  return s >= TcpState.SYN_RECEIVED;
}
