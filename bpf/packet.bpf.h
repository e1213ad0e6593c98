/* What the packet programs share (backstop.bpf.c on a pod's host-side interface, skb.bpf.c on
 * governed cgroups): reading addresses and ports from a packet, the strict allow list, and the
 * event a dropped packet leaves. Packets have no task: the event names where they came from. */
#ifndef ALTRACE_PACKET_BPF_H
#define ALTRACE_PACKET_BPF_H

#include "common.bpf.h"

#define ALT_ETH_HLEN 14
#define ALT_ETH_P_IP 0x0800
#define ALT_ETH_P_IPV6 0x86DD
#define ALT_IPPROTO_ICMP 1
#define ALT_IPPROTO_ICMPV6 58
#define ALT_TCP_FLAG_SYN 0x02
#define ALT_TCP_FLAG_ACK 0x10

struct alt_packet {
	struct alt_endpoint src;
	struct alt_endpoint dst;
	__u8 protocol;
	__u8 tcp_flags; /* TCP: the flags byte */
	__u8 icmp_type; /* ICMP / ICMPv6: the type */
	__u8 l4_unread; /* a later fragment, or a header too short to read ports and flags from */
};

/* Reads the IP header at l3 (0 in cgroup_skb programs, after Ethernet in tc); 0 when the packet
 * is not IP. Ports, TCP flags and ICMP type only from a first fragment. */
static __always_inline int alt_parse(struct __sk_buff *skb, __u32 l3, struct alt_packet *p)
{
	__u32 l4;

	__builtin_memset(p, 0, sizeof(*p));
	if (skb->protocol == bpf_htons(ALT_ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, l3, &ip, sizeof(ip)))
			return 0;
		alt_endpoint_v4(&p->src, ip.saddr, 0);
		alt_endpoint_v4(&p->dst, ip.daddr, 0);
		p->protocol = ip.protocol;
		if (ip.frag_off & bpf_htons(0x1fff)) {
			p->l4_unread = 1;
			return 1;
		}
		l4 = l3 + ip.ihl * 4;
	} else if (skb->protocol == bpf_htons(ALT_ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, l3, &ip6, sizeof(ip6)))
			return 0;
		__builtin_memcpy(p->src.addr, &ip6.saddr, ALT_ADDR_LEN);
		__builtin_memcpy(p->dst.addr, &ip6.daddr, ALT_ADDR_LEN);
		p->protocol = ip6.nexthdr;
		l4 = l3 + sizeof(ip6);
	} else {
		return 0;
	}
	if (p->protocol == ALT_IPPROTO_TCP || p->protocol == ALT_IPPROTO_UDP) {
		__be16 ports[2];

		if (!bpf_skb_load_bytes(skb, l4, ports, sizeof(ports))) {
			p->src.port = ports[0];
			p->dst.port = ports[1];
		} else {
			p->l4_unread = 1;
		}
		if (p->protocol == ALT_IPPROTO_TCP && bpf_skb_load_bytes(skb, l4 + 13, &p->tcp_flags, 1))
			p->l4_unread = 1;
	} else if (p->protocol == ALT_IPPROTO_ICMP || p->protocol == ALT_IPPROTO_ICMPV6) {
		if (bpf_skb_load_bytes(skb, l4, &p->icmp_type, 1))
			p->l4_unread = 1;
	}
	return 1;
}

static __always_inline int alt_same_addr(const __u8 *a, const __u8 *b)
{
	int same = 1;

	for (int i = 0; i < ALT_ADDR_LEN; i++)
		if (a[i] != b[i])
			same = 0;
	return same;
}

/* IPv4 multicast (224/4) and broadcast, IPv6 multicast and link-local: they stay on the segment
 * (IPv6 neighbour discovery needs them). Not 169.254/16, where metadata services and node-local
 * resolvers answer: that is a place like any other, to be declared. */
static __always_inline int alt_link_scope(const __u8 *addr)
{
	if (alt_is_v4(addr))
		return (addr[12] & 0xf0) == 0xe0 || (addr[12] == 255 && addr[13] == 255 && addr[14] == 255 && addr[15] == 255);
	return addr[0] == 0xff || (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80);
}

/* ICMP errors (unreachable, time exceeded, parameter problem; v6 also too big) answer flows that
 * exist; every other type (echo, timestamps, anything unassigned) can carry data out. */
static __always_inline int alt_icmp_error(const struct alt_packet *p)
{
	if (p->protocol == ALT_IPPROTO_ICMP)
		return p->icmp_type == 3 || p->icmp_type == 11 || p->icmp_type == 12;
	return p->icmp_type >= 1 && p->icmp_type <= 4;
}

/* The transparent listener's own endpoint, which a test (or an odd network) may give an address
 * that is also an AI destination. */
static __always_inline int alt_is_proxy(const struct alt_packet *p)
{
	__u32 zero = 0;
	struct alt_config *cfg = bpf_map_lookup_elem(&alt_config, &zero);

	if (!cfg)
		return 0;
	if ((cfg->flags & ALT_CFG_PROXY4) && p->dst.port == cfg->port4) {
		struct alt_endpoint proxy;

		alt_endpoint_v4(&proxy, cfg->proxy4, cfg->port4);
		if (alt_same_addr(proxy.addr, p->dst.addr))
			return 1;
	}
	return (cfg->flags & ALT_CFG_PROXY6) && p->dst.port == cfg->port6 && alt_same_addr(cfg->proxy6, p->dst.addr);
}

/* Where a strict workload may send anything: the proxy, declared places, the segment itself. */
static __always_inline int alt_strict_destination(const struct alt_packet *p)
{
	return alt_link_scope(p->dst.addr) || alt_is_loopback(p->dst.addr) || alt_allowed(p->dst.addr, p->dst.port) ||
	       alt_is_proxy(p);
}

/* Strict mode at the packet level, where no socket says which side opened a flow: a TCP segment
 * past its SYN and an ICMP error are taken for replies (an inbound connection's: the ingress
 * policy's business), anything else must go to a strict destination. A later fragment or a
 * header too short to read is never a reply. What this cannot tell apart — a hand-built TCP
 * stream that never sends a SYN, to a relay built to accept one — needs CAP_NET_RAW, which a
 * strict workload must not hold (docs/bypass.md); the cgroup backstop refuses raw sockets of
 * strict cgroups everything undeclared outright. */
static __always_inline int alt_packet_strict_allowed(const struct alt_packet *p)
{
	if (!p->l4_unread && p->protocol == ALT_IPPROTO_TCP &&
	    (p->tcp_flags & (ALT_TCP_FLAG_SYN | ALT_TCP_FLAG_ACK)) != ALT_TCP_FLAG_SYN)
		return 1;
	if (!p->l4_unread && (p->protocol == ALT_IPPROTO_ICMP || p->protocol == ALT_IPPROTO_ICMPV6) && alt_icmp_error(p))
		return 1;
	return alt_strict_destination(p);
}

static __always_inline void alt_emit_packet(enum alt_verdict verdict, const struct alt_packet *p, __u32 ifindex,
					    __u64 cgroup_id)
{
	struct alt_event *e = bpf_ringbuf_reserve(&alt_events, sizeof(*e), 0);

	if (!e) {
		alt_count(ALT_STAT_DROPS);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->timestamp_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = cgroup_id;
	e->dest = p->dst;
	e->source = p->src;
	e->family = alt_is_v4(p->dst.addr) ? ALT_AF_INET : ALT_AF_INET6;
	e->verdict = verdict;
	e->protocol = p->protocol;
	e->ifindex = ifindex;
	bpf_ringbuf_submit(e, 0);
	alt_count(ALT_STAT_EVENTS);
}

#endif
