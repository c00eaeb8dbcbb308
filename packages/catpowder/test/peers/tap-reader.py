# A TAP interface's reader that reads nothing until told to: its queue (the
# tap's tx_queue_len frames) fills, and the kernel refuses more frames with
# ENOBUFS, as a busy NIC queue would. Then, on a line on stdin, it reads
# everything and prints how many frames arrived for UDP port 9 (one line).
# usage: python3 tap-reader.py <tap name>
import fcntl
import os
import select
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000

fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), IFF_TAP | IFF_NO_PI))
print("ready", flush=True)
sys.stdin.readline()
count = 0
while True:
    ready, _, _ = select.select([fd], [], [], 1.0)
    if not ready:
        break  # a second of silence: the sender is done
    frame = os.read(fd, 65536)
    # IPv4, UDP, destination port 9
    if len(frame) >= 42 and frame[12:14] == b"\x08\x00" and frame[23] == 17:
        ihl = (frame[14] & 0x0F) * 4
        if frame[14 + ihl + 2 : 14 + ihl + 4] == b"\x00\x09":
            count += 1
print(count, flush=True)
