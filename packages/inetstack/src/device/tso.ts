import { get16, get32, set16, set32 } from '../wire/bytes.js';
import { internetChecksum, pseudoHeaderSum } from '../wire/checksum.js';

const ETH = 14;
const TCP_FIN_PSH = 0x09;
const TCP_CWR = 0x80;

/**
 * What a device with TCP segmentation offload does to a frame larger than its
 * MTU: cuts an IPv4/TCP frame into frames whose IP datagrams are at most `mtu`
 * bytes, each a copy of the headers with the sequence number advanced, the IP
 * identification incremented, PSH and FIN kept on the last part only, CWR on
 * the first only, and both checksums complete. Hands each new frame to
 * `onPart`; a frame that needs no cutting (or is not IPv4/TCP) goes as is.
 * Returns the number of frames handed over.
 */
export function segmentTcpFrame(
  frame: Uint8Array,
  mtu: number,
  onPart: (part: Uint8Array) => void,
): number {
  if (frame.byteLength <= ETH + mtu || get16(frame, 12) !== 0x0800 || frame[ETH + 9] !== 6) {
    onPart(frame);
    return 1;
  }
  const ihl = (frame[ETH]! & 0x0f) * 4;
  const total = Math.min(get16(frame, ETH + 2), frame.byteLength - ETH);
  const tcp = ETH + ihl;
  const thl = (frame[tcp + 12]! >>> 4) * 4;
  const headers = tcp + thl;
  const step = mtu - ihl - thl;
  const payload = ETH + total - headers;
  if (step <= 0 || payload <= 0) {
    onPart(frame);
    return 1;
  }
  const seq = get32(frame, tcp + 4);
  const ident = get16(frame, ETH + 4);
  const flags = frame[tcp + 13]!;
  const src = get32(frame, ETH + 12);
  const dst = get32(frame, ETH + 16);
  let parts = 0;
  for (let at = 0; at < payload; at += step) {
    const n = Math.min(step, payload - at);
    const last = at + n >= payload;
    const part = new Uint8Array(headers + n);
    part.set(frame.subarray(0, headers), 0);
    part.set(frame.subarray(headers + at, headers + at + n), headers);
    set16(part, ETH + 2, ihl + thl + n);
    set16(part, ETH + 4, (ident + parts) & 0xffff);
    set16(part, ETH + 10, 0);
    set16(part, ETH + 10, internetChecksum(part, ETH, ihl));
    set32(part, tcp + 4, (seq + at) >>> 0);
    let f = flags;
    if (!last) f &= ~TCP_FIN_PSH;
    if (parts > 0) f &= ~TCP_CWR;
    part[tcp + 13] = f;
    set16(part, tcp + 16, 0);
    set16(
      part,
      tcp + 16,
      internetChecksum(part, tcp, thl + n, pseudoHeaderSum(src, dst, 6, thl + n)),
    );
    onPart(part);
    parts++;
  }
  return parts;
}
