import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIPv4, parseMac } from '../src/util/addr.js';
import {
  ARP_OP_REQUEST,
  ArpView,
  checksumValid,
  ETHERTYPE_IPV4,
  EthernetView,
  emitArp,
  emitEthernet,
  emitIcmp,
  emitIpv4,
  emitTcp,
  emitTcpOptions,
  emitUdp,
  IcmpView,
  IPPROTO_UDP,
  Ipv4View,
  internetChecksum,
  parseArp,
  parseEthernet,
  parseIcmp,
  parseIpv4,
  parseTcp,
  parseUdp,
  TCP_ACK,
  TCP_SYN,
  TcpOptions,
  TcpView,
  tcpOptionsLength,
  UdpView,
} from '../src/wire/index.js';
import { hex, toHex } from './support/hex.js';

const ip = (s: string) => parseIPv4(s)!;

describe('checksum', () => {
  it('matches the RFC 1071 example', () => {
    const data = hex('00 01 f2 03 f4 f5 f6 f7');
    expect(internetChecksum(data, 0, data.length)).toBe(0x220d);
  });
  it('handles an odd length by padding with zero', () => {
    const data = hex('01 02 03');
    expect(internetChecksum(data, 0, 3)).toBe(~(0x0102 + 0x0300) & 0xffff);
  });
  it('a buffer with its own checksum inserted verifies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 300 }), (data) => {
        const buf = new Uint8Array(data.length + (data.length & 1));
        buf.set(data);
        buf[0] = 0;
        buf[1] = 0;
        const c = internetChecksum(buf, 0, buf.length);
        buf[0] = c >>> 8;
        buf[1] = c & 0xff;
        return checksumValid(buf, 0, buf.length);
      }),
    );
  });
});

describe('ethernet', () => {
  const frame = hex('ff ff ff ff ff ff  02 00 00 00 00 01  08 00  de ad');
  it('parses', () => {
    const v = new EthernetView();
    expect(v.wrap(frame)).toBe(true);
    expect(v.dstIsGroup).toBe(true);
    expect(v.srcIs(parseMac('02:00:00:00:00:01')!)).toBe(true);
    expect(v.etherType).toBe(ETHERTYPE_IPV4);
    expect(v.payloadLength).toBe(2);
    const r = parseEthernet(v);
    const out = new Uint8Array(14);
    emitEthernet(r, out);
    expect(toHex(out)).toBe(toHex(frame.subarray(0, 14)));
  });
  it('rejects a frame shorter than its header', () => {
    expect(new EthernetView().wrap(frame.subarray(0, 13))).toBe(false);
  });
});

describe('arp', () => {
  // A Linux ARP request: who has 10.0.0.2? tell 10.0.0.1
  const req = hex(`
    00 01 08 00 06 04 00 01  02 00 00 00 00 01  0a 00 00 01
    00 00 00 00 00 00  0a 00 00 02`);
  it('parses and emits byte-exact', () => {
    const v = new ArpView();
    expect(v.wrap(req, 0, req.length)).toBe(true);
    const r = parseArp(v)!;
    expect(r.operation).toBe(ARP_OP_REQUEST);
    expect(r.senderIp).toBe(ip('10.0.0.1'));
    expect(r.targetIp).toBe(ip('10.0.0.2'));
    const out = new Uint8Array(28);
    emitArp(r, out);
    expect(toHex(out)).toBe(toHex(req));
  });
  it('is not Ethernet/IPv4 ARP when the hardware type differs', () => {
    const bad = req.slice();
    bad[1] = 6;
    const v = new ArpView();
    v.wrap(bad, 0, bad.length);
    expect(parseArp(v)).toBeUndefined();
  });
  it('rejects 27 bytes', () => {
    expect(new ArpView().wrap(req, 0, 27)).toBe(false);
  });
});

describe('ipv4', () => {
  // The classic example header (checksum b861) followed by 0x53 payload bytes.
  const header = hex('45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7');
  const packet = new Uint8Array(0x73 + 4); // 4 bytes of link padding
  packet.set(header);
  it('parses, verifies and trims padding', () => {
    const v = new Ipv4View();
    expect(v.wrap(packet, 0, packet.length)).toBe(true);
    expect(v.verifyChecksum()).toBe(true);
    expect(v.len).toBe(0x73);
    expect(v.payloadLength).toBe(0x73 - 20);
    expect(v.protocol).toBe(IPPROTO_UDP);
    expect(v.dontFragment).toBe(true);
    expect(v.src).toBe(ip('192.168.0.1'));
    expect(v.dst).toBe(ip('192.168.0.199'));
  });
  it('emits the same header', () => {
    const v = new Ipv4View();
    v.wrap(packet, 0, packet.length);
    const out = new Uint8Array(20);
    emitIpv4(parseIpv4(v), out);
    expect(toHex(out)).toBe(toHex(header));
  });
  it('detects a corrupted header', () => {
    const bad = packet.slice();
    bad[8] = 0x3f;
    const v = new Ipv4View();
    expect(v.wrap(bad, 0, bad.length)).toBe(true);
    expect(v.verifyChecksum()).toBe(false);
  });
  it('rejects wrong version, short IHL, IHL beyond the data, total length beyond the data', () => {
    const v = new Ipv4View();
    const cases: Array<(b: Uint8Array) => void> = [
      (b) => (b[0] = 0x65),
      (b) => (b[0] = 0x44),
      (b) => {
        b[0] = 0x4f; // 60-byte header in a 40-byte packet
        b[2] = 0;
        b[3] = 40;
      },
      (b) => {
        b[2] = 0x7f;
        b[3] = 0xff;
      },
      (b) => {
        b[2] = 0;
        b[3] = 19;
      },
    ];
    for (const mutate of cases) {
      const b = packet.slice();
      mutate(b);
      expect(v.wrap(b, 0, b[3] === 40 ? 40 : 0x73)).toBe(false);
    }
  });
  it('never reads out of bounds on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (data) => {
        const v = new Ipv4View();
        if (!v.wrap(data, 0, data.length)) return true;
        return v.payloadOffset + v.payloadLength <= data.length && v.payloadLength >= 0;
      }),
    );
  });
});

describe('icmp', () => {
  it('emits an echo reply that parses back, with a valid checksum', () => {
    const out = new Uint8Array(64);
    const len = emitIcmp(
      { type: 0, code: 0, rest: (0x1234 << 16) | 7, payload: hex('61 62 63 64') },
      out,
    );
    const v = new IcmpView();
    expect(v.wrap(out, 0, len)).toBe(true);
    expect(v.verifyChecksum()).toBe(true);
    expect(v.ident).toBe(0x1234);
    expect(v.sequence).toBe(7);
    expect(toHex(parseIcmp(v).payload)).toBe('61 62 63 64');
  });
});

describe('udp', () => {
  // A DNS-ish datagram from 10.0.0.1:5353 to 10.0.0.2:53 with payload "hi".
  it('round-trips with a checksum the view verifies', () => {
    const out = new Uint8Array(64);
    const len = emitUdp(
      { srcPort: 5353, dstPort: 53, payload: hex('68 69') },
      out,
      0,
      ip('10.0.0.1'),
      ip('10.0.0.2'),
    );
    expect(len).toBe(10);
    const v = new UdpView();
    expect(v.wrap(out, 0, len)).toBe(true);
    expect(v.verifyChecksum(ip('10.0.0.1'), ip('10.0.0.2'))).toBe(true);
    expect(v.verifyChecksum(ip('10.0.0.1'), ip('10.0.0.3'))).toBe(false);
    const r = parseUdp(v);
    expect([r.srcPort, r.dstPort, toHex(r.payload)]).toEqual([5353, 53, '68 69']);
  });
  it('a zero checksum is accepted (not computed by the sender)', () => {
    const d = hex('00 01 00 02 00 09 00 00 ff');
    const v = new UdpView();
    expect(v.wrap(d, 0, d.length)).toBe(true);
    expect(v.verifyChecksum(1, 2)).toBe(true);
  });
  it('rejects a length field beyond the data or below 8', () => {
    expect(new UdpView().wrap(hex('00 01 00 02 00 0a 00 00 ff'), 0, 9)).toBe(false);
    expect(new UdpView().wrap(hex('00 01 00 02 00 07 00 00 ff'), 0, 9)).toBe(false);
  });
});

describe('tcp', () => {
  // A Linux SYN: 10.0.0.1:40000 -> 10.0.0.2:80, options MSS 1460, SACK-permitted,
  // timestamps, NOP, window scale 7.
  const syn = hex(`
    9c 40 00 50  00 00 03 e8  00 00 00 00  a0 02 fa f0  00 00 00 00
    02 04 05 b4  04 02 08 0a  00 01 e2 40  00 00 00 00  01 03 03 07`);
  const src = ip('10.0.0.1');
  const dst = ip('10.0.0.2');

  it('parses the header and every option', () => {
    const v = new TcpView();
    expect(v.wrap(syn, 0, syn.length)).toBe(true);
    const opts = new TcpOptions();
    const r = parseTcp(v, opts);
    expect([r.srcPort, r.dstPort, r.seq, r.ack, r.flags, r.window]).toEqual([
      40000,
      80,
      1000,
      0,
      TCP_SYN,
      64240,
    ]);
    expect([
      opts.mss,
      opts.sackPermitted,
      opts.hasTimestamp,
      opts.tsVal,
      opts.tsEcr,
      opts.windowScale,
    ]).toEqual([1460, true, true, 123456, 0, 7]);
    expect(v.segmentLength).toBe(1);
  });

  it('emits the same options layout as Linux, with a verifying checksum', () => {
    const opts = new TcpOptions();
    opts.mss = 1460;
    opts.sackPermitted = true;
    opts.setTimestamp(123456, 0);
    opts.windowScale = 7;
    const out = new Uint8Array(60);
    const len = emitTcp(
      {
        srcPort: 40000,
        dstPort: 80,
        seq: 1000,
        ack: 0,
        flags: TCP_SYN,
        window: 64240,
        options: opts,
        payload: new Uint8Array(0),
      },
      out,
      0,
      src,
      dst,
    );
    expect(len).toBe(40);
    const withoutChecksum = out.slice(0, 40);
    withoutChecksum[16] = 0;
    withoutChecksum[17] = 0;
    expect(toHex(withoutChecksum)).toBe(toHex(syn));
    const v = new TcpView();
    v.wrap(out, 0, len);
    expect(v.verifyChecksum(src, dst)).toBe(true);
  });

  it('SACK blocks: emits up to 3 with timestamps, 4 without', () => {
    const opts = new TcpOptions().setTimestamp(1, 2);
    for (let i = 0; i < 4; i++) opts.addSack(100 * i, 100 * i + 50);
    const out = new Uint8Array(40);
    expect(emitTcpOptions(out, 0, opts)).toBe(12 + 4 + 24);
    expect(tcpOptionsLength(opts)).toBe(40);
    const back = new TcpOptions();
    const v = new TcpView();
    const seg = new Uint8Array(60);
    seg.set(out, 20);
    seg[12] = 15 << 4;
    v.wrap(seg, 0, 60);
    v.parseOptions(back);
    expect(back.sackCount).toBe(3);
    expect(Array.from(back.sackBlocks.slice(0, 6))).toEqual([0, 50, 100, 150, 200, 250]);
    const noTs = new TcpOptions();
    for (let i = 0; i < 4; i++) noTs.addSack(i, i + 1);
    expect(emitTcpOptions(out, 0, noTs)).toBe(36);
  });

  it('malformed options end parsing without throwing, keeping earlier options', () => {
    const v = new TcpView();
    const seg = hex(`
      00 01 00 02  00 00 00 01  00 00 00 00  80 10 01 00  00 00 00 00
      02 04 02 00  08 00 ff ff  01 01 01 01  03 03 05 00`);
    expect(v.wrap(seg, 0, seg.length)).toBe(true);
    const o = new TcpOptions();
    v.parseOptions(o);
    expect(o.mss).toBe(512);
    expect(o.hasTimestamp).toBe(false);
    expect(o.windowScale).toBe(-1);
  });

  it('window scale above 14 is taken as 14', () => {
    const o = new TcpOptions();
    const seg = hex('00 01 00 02 00 00 00 01 00 00 00 00 60 02 01 00 00 00 00 00 03 03 1e 00');
    const v = new TcpView();
    v.wrap(seg, 0, seg.length);
    v.parseOptions(o);
    expect(o.windowScale).toBe(14);
  });

  it('rejects a data offset below 5 or beyond the segment', () => {
    const seg = syn.slice();
    seg[12] = 0x40;
    expect(new TcpView().wrap(seg, 0, seg.length)).toBe(false);
    seg[12] = 0xf0;
    expect(new TcpView().wrap(seg, 0, seg.length)).toBe(false);
  });

  it('never reads past the segment or throws on random bytes', () => {
    const o = new TcpOptions();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (data) => {
        const v = new TcpView();
        if (!v.wrap(data, 0, data.length)) return true;
        v.parseOptions(o);
        return v.payloadOffset + v.payloadLength === data.length && o.sackCount <= 4;
      }),
    );
  });

  it('flags and ack', () => {
    const v = new TcpView();
    const seg = syn.slice();
    seg[13] = TCP_SYN | TCP_ACK;
    v.wrap(seg, 0, seg.length);
    expect(v.flags & TCP_ACK).toBe(TCP_ACK);
  });
});
