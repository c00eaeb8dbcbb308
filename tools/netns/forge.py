"""Forged traffic for the hostile-peer tests, sent with scapy from the peer namespace.

  forge.py syn-flood IFACE DST_MAC DST_IP PORT COUNT SOURCES SEED
      COUNT spoofed SYNs; SOURCES is 'subnet' (random hosts of the /24 other than
      .1 and .2) or 'any' (random addresses anywhere, 0.x and off-subnet included).
  forge.py frag-udp IFACE DST_MAC SRC_IP DST_IP PORT [FRAGSIZE [SIZE]]
      A UDP datagram of SIZE bytes (3000) in fragments of FRAGSIZE (1480) whose
      checksum is wrong, then the same datagram with a good checksum and other bytes.
Prints 'sent N' when done.
"""
import random
import socket
import struct
import sys


def _sum16(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn_flood(iface, dst_mac, dst_ip, port, count, sources, seed):
    # Frames are built with struct and sent on one AF_PACKET socket: scapy's
    # per-packet cost would make the flood slower than the stack.
    rng = random.Random(seed)
    prefix = dst_ip.rsplit(".", 1)[0]
    dst = socket.inet_aton(dst_ip)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    eth = bytes.fromhex(dst_mac.replace(":", "")) + sock.getsockname()[4][:6] + b"\x08\x00"
    for _ in range(count):
        if sources == "subnet":
            src = socket.inet_aton(f"{prefix}.{rng.randint(3, 254)}")
        else:
            src = rng.getrandbits(32).to_bytes(4, "big")
        tcp = struct.pack("!HHIIBBHHH", rng.randint(1024, 65535), port, rng.getrandbits(32), 0,
                          (6 << 4), 0x02, 65535, 0, 0) + b"\x02\x04\x05\xb4"
        csum = _sum16(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
        tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), rng.randint(0, 65535), 0, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", _sum16(ip)) + ip[12:]
        sock.send(eth + ip + tcp)
    sock.close()
    print(f"sent {count}", flush=True)


def frag_udp(iface, dst_mac, src_ip, dst_ip, port, fragsize=1480, size=3000):
    from scapy.all import IP, UDP, Ether, conf, fragment, raw

    conf.verb = 0
    # The checksum of 3000 'F' bytes on a datagram that carries 3000 'X' bytes.
    right = IP(raw(IP(src=src_ip, dst=dst_ip) / UDP(sport=5555, dport=port) / (b"F" * size)))
    bad = IP(src=src_ip, dst=dst_ip, id=4242) / UDP(sport=5555, dport=port, chksum=right[UDP].chksum) / (b"X" * size)
    good = IP(src=src_ip, dst=dst_ip, id=4243) / UDP(sport=5555, dport=port) / (b"G" * size)
    s = conf.L2socket(iface=iface)
    n = 0
    for pkt in (bad, good):
        for frag in fragment(pkt, fragsize=fragsize):
            s.send(raw(Ether(dst=dst_mac) / frag))
            n += 1
    s.close()
    print(f"sent {n}", flush=True)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "syn-flood":
        syn_flood(args[0], args[1], args[2], int(args[3]), int(args[4]), args[5], int(args[6]))
    elif mode == "frag-udp":
        frag_udp(*args[:4], *(int(a) for a in args[4:7]))
    else:
        sys.exit(f"unknown mode {mode}")
