#!/usr/bin/env python3
"""Fill the current network namespace's conntrack table until the kernel refuses.

Run inside a namespace kscale created (`ip netns exec <ns> python3 conntrack-fill.py [LEAVE_FREE]`).
Inserts ASSURED UDP entries through ctnetlink (the netlink interface `conntrack -I` uses,
batched: one process per entry would take minutes) until an insert fails with ENOMEM,
which is the kernel's "table full" (nf_conntrack_max reached and early drop finds nothing
to evict: assured entries are never early-dropped). Then deletes LEAVE_FREE of them, so
exactly that many new entries fit. Prints JSON: {"inserted": N, "max": M, "free": LEAVE_FREE}.
The entries name addresses nothing in the namespace routes (198.18.0.0/15, RFC 2544).
"""
import errno, json, os, socket, struct, sys

NETLINK_NETFILTER = 12
CT_NEW = (1 << 8) | 0      # NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW
CT_DELETE = (1 << 8) | 2   # IPCTNL_MSG_CT_DELETE
F_REQUEST, F_ACK, F_EXCL, F_CREATE = 0x1, 0x4, 0x200, 0x400
NESTED = 0x8000
IPS_SEEN_REPLY, IPS_ASSURED, IPS_CONFIRMED = 1 << 1, 1 << 2, 1 << 3

def attr(kind, payload):
    n = 4 + len(payload)
    return struct.pack('=HH', n, kind) + payload + b'\0' * ((4 - n % 4) % 4)

def tuple_(src, dst, sport, dport):
    ip = attr(1 | NESTED, attr(1, src) + attr(2, dst))
    proto = attr(2 | NESTED, attr(1, bytes([17])) + attr(2, struct.pack('!H', sport)) + attr(3, struct.pack('!H', dport)))
    return ip + proto

def flow(i):
    # 2^15 ports × addresses 198.18.x.y: distinct tuples for any i below 2^31.
    src = socket.inet_aton('198.18.0.0')
    src = struct.pack('!I', struct.unpack('!I', src)[0] + (i >> 15) % 131072)
    return src, socket.inet_aton('198.19.255.254'), 32768 + (i & 0x7fff), 9

def message(kind, flags, seq, body):
    payload = struct.pack('=BBH', socket.AF_INET, 0, 0) + body
    return struct.pack('=IHHII', 16 + len(payload), kind, flags, seq, 0) + payload

def new_entry(i):
    src, dst, sport, dport = flow(i)
    body = (attr(1 | NESTED, tuple_(src, dst, sport, dport)) + attr(2 | NESTED, tuple_(dst, src, dport, sport))
            + attr(3, struct.pack('!I', IPS_ASSURED | IPS_SEEN_REPLY | IPS_CONFIRMED)) + attr(7, struct.pack('!I', 3600)))
    return message(CT_NEW, F_REQUEST | F_ACK | F_CREATE | F_EXCL, i + 1, body)

def delete_entry(i, seq):
    src, dst, sport, dport = flow(i)
    return message(CT_DELETE, F_REQUEST | F_ACK, seq, attr(1 | NESTED, tuple_(src, dst, sport, dport)))

def acks(sock, expected):
    """Read `expected` acks; return the errnos of the failed ones."""
    failed = []
    while expected > 0:
        data = sock.recv(1 << 20)
        off = 0
        while off < len(data):
            n, kind = struct.unpack_from('=IH', data, off)
            if kind == 2:  # NLMSG_ERROR: 0 is the ack
                code = -struct.unpack_from('=i', data, off + 16)[0]
                if code:
                    failed.append(code)
                expected -= 1
            off += (n + 3) & ~3
    return failed

def main():
    leave_free = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    cap = int(open('/proc/sys/net/netfilter/nf_conntrack_max').read())
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    inserted, batch = 0, 1024
    while True:
        sock.send(b''.join(new_entry(inserted + k) for k in range(batch)))
        failed = acks(sock, batch)
        inserted += batch - len(failed)
        if failed:
            if any(c != errno.ENOMEM for c in failed):
                sys.exit(f'conntrack insert failed: {os.strerror(failed[0])}')
            break
        if inserted > 2 * cap:
            sys.exit(f'inserted {inserted} entries and the table ({cap}) never filled')
    # The successes of the last batch are a prefix of it (each later insert finds the table fuller).
    for k in range(leave_free):
        sock.send(delete_entry(inserted - 1 - k, 1 << 30 | k))
        if acks(sock, 1):
            sys.exit('conntrack delete failed')
    print(json.dumps({'inserted': inserted - leave_free, 'max': cap, 'free': leave_free}))

main()
