import { EMPTY } from '../wire/bytes.js';
import { TCP_FIN, TCP_SYN } from '../wire/tcp.js';
import { TcpOptions } from '../wire/tcp-options.js';

/**
 * One received segment, parsed once by the TCP layer into this reused struct;
 * its payload stays a range of the received frame (valid during processing only).
 */
export class Segment {
  srcIp = 0;
  dstIp = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  readonly options = new TcpOptions();
  buf: Uint8Array = EMPTY;
  dataOff = 0;
  dataLen = 0;

  /** Sequence space occupied: data plus SYN and FIN. */
  get len(): number {
    return this.dataLen + (this.flags & TCP_SYN ? 1 : 0) + (this.flags & TCP_FIN ? 1 : 0);
  }
}
