// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kscale's eBPF Service load balancer: a tc (clsact) program pair in the node
 * namespace, in the spirit of Cilium's kube-proxy replacement (its lb4 service,
 * backend and reverse-NAT maps), written for kscale.
 *
 *   client ns ──► n0 ingress: kscale_lb4_dnat ──► kernel routing ──► n1 ──► backend ns
 *   client ns ◄── n0         ◄── kernel routing ◄── n1 ingress: kscale_lb4_rnat ◄── backend ns
 *
 * Forward (n0 ingress): IPv4 TCP/UDP to a frontend in the service map is
 * DNATed to one backend of that Service. Slot 0 of the service map holds the
 * Service (backend count, reverse-NAT index); slots 1..count hold backend ids;
 * the backend map turns an id into address:port. A connection-tracking LRU map
 * remembers the backend of each flow, so later packets of an established flow
 * skip selection, and holds the reverse entry the reply path needs.
 *
 * Reverse (n1 ingress, the backend-facing device): a reply whose 5-tuple has a
 * reverse conntrack entry gets its source rewritten back to the Service's
 * frontend (from the reverse-NAT map), so the client sees the VIP answering.
 * Rewriting on n1's ingress keeps both programs before the routing decision and
 * leaves n0's egress untouched.
 *
 * Both programs return TC_ACT_OK: the packet goes on to the kernel stack, whose
 * routing forwards it (ip_forward=1 in the node namespace). That measures the
 * lookup and the rewrite, not a redirect shortcut, and needs no neighbour
 * resolution in the program.
 *
 * Non-IPv4, non-TCP/UDP, fragments and frontends not in the map pass unchanged.
 * A Service with no backends drops (as Cilium does; kube-proxy rejects).
 * Not modelled: ClientIP affinity (slot 0's affinity_timeout is ignored), the
 * internal lookup scope, source ranges, Maglev; backend_slot selection is
 * random (or a 5-tuple hash with CFG_HASH_SELECT) over every slot.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stddef.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Map entry layouts (Cilium's lb4 structs), shared with src/dataplane/ebpf/maps.ts. */
#include "kscale_lb_maps.h"

/* Sizes here are placeholders: the loader sets max_entries for the model before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct lb4_key);
	__type(value, struct lb4_service);
	__uint(max_entries, 65536);
} kscale_lb4_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct lb4_backend);
	__uint(max_entries, 65536);
} kscale_lb4_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u16);
	__type(value, struct lb4_reverse_nat);
	__uint(max_entries, 65536);
} kscale_lb4_reverse_nat SEC(".maps");

/* Connection tracking: one entry per direction of a flow. */
#define CT_FORWARD 0
#define CT_REPLY 1

struct ct4_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir;
	__u16 pad;
};

struct ct4_entry {
	__u32 backend_id;     /* CT_FORWARD: the backend chosen for the flow */
	__u16 rev_nat_index;  /* CT_REPLY: where the reply's source goes back to */
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct ct4_key);
	__type(value, struct ct4_entry);
	__uint(max_entries, 65536);
} kscale_ct4 SEC(".maps");

/* Run-time switches, one array element, set by the loader. */
#define CFG_HASH_SELECT (1u << 0) /* pick the backend by a hash of the 5-tuple instead of at random */
#define CFG_NO_CONNTRACK (1u << 1) /* select on every packet (measures selection, not the CT hit) */

struct kscale_config {
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct kscale_config);
	__uint(max_entries, 1);
} kscale_config SEC(".maps");

struct flow {
	__u32 l3_off;
	__u32 l4_off;
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
};

/* Parse Ethernet/IPv4/TCP|UDP; 0 when the packet is one we translate. */
static __always_inline int parse_flow(struct __sk_buff *skb, struct flow *f)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
		return -1;
	if (ip->frag_off & bpf_htons(0x3fff)) /* MF or an offset: ports are not in this packet */
		return -1;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return -1;
	__u32 ihl = ip->ihl * 4;
	__be16 *ports = (void *)ip + ihl;
	if ((void *)(ports + 2) > data_end)
		return -1;
	f->l3_off = sizeof(struct ethhdr);
	f->l4_off = sizeof(struct ethhdr) + ihl;
	f->saddr = ip->saddr;
	f->daddr = ip->daddr;
	f->sport = ports[0];
	f->dport = ports[1];
	f->proto = ip->protocol;
	return 0;
}

static __always_inline __u32 l4_csum_off(const struct flow *f)
{
	return f->l4_off + (f->proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) : offsetof(struct udphdr, check));
}

/* UDP's checksum 0 means "none" and must stay so; a computed 0 must become 0xffff. */
static __always_inline __u64 l4_csum_flags(const struct flow *f)
{
	return f->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
}

/*
 * Rewrite one address (at addr_off in the IP header) and one port (at port_off
 * in the L4 header), fixing the IP checksum and the L4 checksum incrementally
 * (the address is part of the L4 pseudo-header).
 */
static __always_inline int rewrite(struct __sk_buff *skb, const struct flow *f, __u32 addr_off, __be32 old_addr,
				   __be32 new_addr, __u32 port_off, __be16 old_port, __be16 new_port)
{
	__u32 csum = l4_csum_off(f);
	__u64 l4flags = l4_csum_flags(f);
	if (bpf_l4_csum_replace(skb, csum, old_addr, new_addr, l4flags | BPF_F_PSEUDO_HDR | sizeof(new_addr)))
		return -1;
	if (bpf_l3_csum_replace(skb, f->l3_off + offsetof(struct iphdr, check), old_addr, new_addr, sizeof(new_addr)))
		return -1;
	if (bpf_skb_store_bytes(skb, f->l3_off + addr_off, &new_addr, sizeof(new_addr), 0))
		return -1;
	if (old_port != new_port) {
		if (bpf_l4_csum_replace(skb, csum, old_port, new_port, l4flags | sizeof(new_port)))
			return -1;
		if (bpf_skb_store_bytes(skb, f->l4_off + port_off, &new_port, sizeof(new_port), 0))
			return -1;
	}
	return 0;
}

/* A 5-tuple hash (murmur3's finaliser over the folded tuple), for CFG_HASH_SELECT. */
static __always_inline __u32 flow_hash(const struct flow *f)
{
	__u32 h = f->saddr ^ (f->daddr * 0x9e3779b1u) ^ (((__u32)f->sport << 16 | f->dport) * 0x85ebca6bu) ^ f->proto;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

SEC("tc")
int kscale_lb4_dnat(struct __sk_buff *skb)
{
	struct flow f = {};
	if (parse_flow(skb, &f))
		return TC_ACT_OK;

	/*
	 * proto 0 (maps.ts's default: one frontend per address:port) and the
	 * external scope: the sandbox's client is outside the cluster, so a
	 * frontend with two traffic-policy scopes answers it with its external set.
	 */
	struct lb4_key key = { .address = f.daddr, .dport = f.dport, .backend_slot = 0, .proto = 0, .scope = LB_LOOKUP_SCOPE_EXT };
	struct lb4_service *svc = bpf_map_lookup_elem(&kscale_lb4_services, &key);
	if (!svc)
		return TC_ACT_OK; /* not a Service frontend */
	__u16 count = svc->count;
	__u16 rev_nat_index = svc->rev_nat_index;
	if (count == 0)
		return TC_ACT_SHOT;

	__u32 zero = 0;
	struct kscale_config *cfg = bpf_map_lookup_elem(&kscale_config, &zero);
	__u32 flags = cfg ? cfg->flags : 0;

	struct ct4_key ct = { .saddr = f.saddr, .daddr = f.daddr, .sport = f.sport, .dport = f.dport, .proto = f.proto,
			      .dir = CT_FORWARD };
	struct lb4_backend *backend = NULL;
	__u32 backend_id = 0;
	if (!(flags & CFG_NO_CONNTRACK)) {
		struct ct4_entry *est = bpf_map_lookup_elem(&kscale_ct4, &ct);
		if (est) {
			backend_id = est->backend_id;
			/* An established flow keeps its backend while that backend exists. */
			backend = bpf_map_lookup_elem(&kscale_lb4_backends, &backend_id);
		}
	}
	if (!backend) {
		__u32 pick = (flags & CFG_HASH_SELECT) ? flow_hash(&f) : bpf_get_prandom_u32();
		key.backend_slot = (__u16)(pick % count) + 1;
		struct lb4_service *slot = bpf_map_lookup_elem(&kscale_lb4_services, &key);
		if (!slot)
			return TC_ACT_SHOT;
		backend_id = slot->backend_id;
		backend = bpf_map_lookup_elem(&kscale_lb4_backends, &backend_id);
		if (!backend)
			return TC_ACT_SHOT;
		if (!(flags & CFG_NO_CONNTRACK)) {
			struct ct4_entry fwd = { .backend_id = backend_id };
			bpf_map_update_elem(&kscale_ct4, &ct, &fwd, BPF_ANY);
		}
	}
	__be32 to_addr = backend->address;
	__be16 to_port = backend->port;
	if (!(flags & CFG_NO_CONNTRACK)) {
		/* The reply comes from the backend to the client; remember where its source goes back to. */
		struct ct4_key rev = { .saddr = to_addr, .daddr = f.saddr, .sport = to_port, .dport = f.sport, .proto = f.proto,
				       .dir = CT_REPLY };
		struct ct4_entry *have = bpf_map_lookup_elem(&kscale_ct4, &rev);
		if (!have || have->rev_nat_index != rev_nat_index) {
			struct ct4_entry back = { .rev_nat_index = rev_nat_index };
			bpf_map_update_elem(&kscale_ct4, &rev, &back, BPF_ANY);
		}
	}
	if (rewrite(skb, &f, offsetof(struct iphdr, daddr), f.daddr, to_addr, offsetof(struct udphdr, dest), f.dport, to_port))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("tc")
int kscale_lb4_rnat(struct __sk_buff *skb)
{
	struct flow f = {};
	if (parse_flow(skb, &f))
		return TC_ACT_OK;
	struct ct4_key rev = { .saddr = f.saddr, .daddr = f.daddr, .sport = f.sport, .dport = f.dport, .proto = f.proto,
			       .dir = CT_REPLY };
	struct ct4_entry *e = bpf_map_lookup_elem(&kscale_ct4, &rev);
	if (!e)
		return TC_ACT_OK; /* not a reply to a translated flow */
	__u16 index = e->rev_nat_index;
	struct lb4_reverse_nat *nat = bpf_map_lookup_elem(&kscale_lb4_reverse_nat, &index);
	if (!nat)
		return TC_ACT_OK;
	if (rewrite(skb, &f, offsetof(struct iphdr, saddr), f.saddr, nat->address, offsetof(struct udphdr, source), f.sport,
		    nat->port))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
