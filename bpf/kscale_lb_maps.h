/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kscale's eBPF load-balancer map layouts: the contract between the map-entry
 * renderer (src/dataplane/ebpf/maps.ts, which writes these bytes) and the BPF
 * program (bpf/kscale_lb.c, which reads them). Modelled on Cilium's lb4 maps
 * (bpf/lib/lb.h: struct lb4_key, lb4_service, lb4_backend, lb4_reverse_nat);
 * written for kscale. Change a layout here and in maps.ts together — the
 * sizes are asserted on both sides.
 *
 * Byte order, as in Cilium: addresses and ports are network order (__be32,
 * __be16); every other field is host order.
 *
 * Service map (HASH, struct lb4_key -> struct lb4_service): one "frontend"
 * entry per address:port at backend_slot 0 (count = number of backend slots,
 * the union holds the ClientIP affinity timeout in seconds or 0), then one
 * entry per slot 1..count whose union holds the backend id. Cluster IPs,
 * external IPs, LoadBalancer ingress IPs and <node IP>:<NodePort> are all
 * frontends, told apart by flags.
 *
 * Backend map (HASH, __u32 backend id -> struct lb4_backend): ids start at 1
 * and are shared by every frontend that uses the same address:port:proto.
 *
 * Reverse-NAT map (HASH, __u16 rev_nat_index -> struct lb4_reverse_nat): one
 * index per frontend, giving the address:port replies are rewritten back to.
 */
#ifndef KSCALE_LB_MAPS_H
#define KSCALE_LB_MAPS_H

#include <linux/types.h>

/* lb4_key.scope: which backend set a frontend with two traffic policies uses. */
#define LB_LOOKUP_SCOPE_EXT 0 /* external traffic (externalTrafficPolicy) */
#define LB_LOOKUP_SCOPE_INT 1 /* traffic from inside the cluster (internalTrafficPolicy) */

/* lb4_service.flags (Cilium's SVC_FLAG_* bits) */
#define SVC_FLAG_EXTERNAL_IP (1 << 0)
#define SVC_FLAG_NODEPORT (1 << 1)
#define SVC_FLAG_EXT_LOCAL_SCOPE (1 << 2) /* externalTrafficPolicy=Local */
#define SVC_FLAG_HOSTPORT (1 << 3)
#define SVC_FLAG_AFFINITY (1 << 4) /* sessionAffinity=ClientIP */
#define SVC_FLAG_LOADBALANCER (1 << 5)
#define SVC_FLAG_ROUTABLE (1 << 6) /* reachable from outside: everything but cluster IPs */
#define SVC_FLAG_SOURCE_RANGE (1 << 7) /* loadBalancerSourceRanges apply */

/* lb4_service.flags2 */
#define SVC_FLAG_INT_LOCAL_SCOPE (1 << 4) /* internalTrafficPolicy=Local */
#define SVC_FLAG_TWO_SCOPES (1 << 5) /* an LB_LOOKUP_SCOPE_INT copy of this frontend exists */

/* lb4_backend.flags: backend state */
#define BE_STATE_ACTIVE 0
#define BE_STATE_TERMINATING 1

struct lb4_key {
	__be32 address;     /* frontend IPv4 address */
	__be16 dport;       /* frontend port */
	__u16 backend_slot; /* 0: the frontend itself; 1..count: its backends */
	__u8 proto;         /* IPPROTO_*; 0 (any) unless rendered with protocolInKey */
	__u8 scope;         /* LB_LOOKUP_SCOPE_* */
	__u8 pad[2];
};

struct lb4_service {
	union {
		__u32 backend_id;       /* slot > 0: id in the backend map */
		__u32 affinity_timeout; /* slot 0: ClientIP affinity timeout in seconds, 0 = none */
	};
	__u16 count;         /* slot 0: number of backend slots; 0 elsewhere */
	__u16 rev_nat_index; /* key of the reverse-NAT entry of this frontend */
	__u8 flags;          /* SVC_FLAG_* */
	__u8 flags2;         /* SVC_FLAG_*, second byte */
	__u16 qcount;        /* quarantined slots (Cilium); always 0 here */
};

struct lb4_backend {
	__be32 address; /* endpoint IPv4 address */
	__be16 port;    /* endpoint port */
	__u8 proto;     /* IPPROTO_* of the service port */
	__u8 flags;     /* BE_STATE_* */
};

/* Cilium packs this to 6 bytes; kscale pads it so the value stays naturally aligned. */
struct lb4_reverse_nat {
	__be32 address; /* frontend address replies come from */
	__be16 port;    /* frontend port */
	__u16 pad;
};

#define KSCALE_LB4_KEY_SIZE 12
#define KSCALE_LB4_SERVICE_SIZE 12
#define KSCALE_LB4_BACKEND_KEY_SIZE 4
#define KSCALE_LB4_BACKEND_SIZE 8
#define KSCALE_LB4_REVNAT_KEY_SIZE 2
#define KSCALE_LB4_REVNAT_SIZE 8

_Static_assert(sizeof(struct lb4_key) == KSCALE_LB4_KEY_SIZE, "lb4_key layout");
_Static_assert(sizeof(struct lb4_service) == KSCALE_LB4_SERVICE_SIZE, "lb4_service layout");
_Static_assert(sizeof(struct lb4_backend) == KSCALE_LB4_BACKEND_SIZE, "lb4_backend layout");
_Static_assert(sizeof(struct lb4_reverse_nat) == KSCALE_LB4_REVNAT_SIZE, "lb4_reverse_nat layout");

#endif /* KSCALE_LB_MAPS_H */
