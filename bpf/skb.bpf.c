/* cgroup_skb/egress and cgroup_skb/ingress on the governed cgroup. Egress is the backstop for
 * what the sock_addr hooks never see but the IP stack does: raw IP sockets (a datagram or a
 * user-space TCP stack built by hand) and governed processes outside a pod's own network
 * namespace, which no host-side interface watches. Ingress copies DNS answers to userspace, so
 * the providers' addresses a pod is told join the destination set. Both go by the cgroup of the
 * socket; a socket made elsewhere is the host-side backstop's (backstop.bpf.c). */
#include "packet.bpf.h"

#define ALT_SKB_PASS 1
#define ALT_SKB_DROP 0
#define ALT_DNS_PORT 53

/* The socket's cgroup or an ancestor, or its network namespace, is exempt: the proxy's own
 * upstream connections. */
static __always_inline int alt_skb_exempt(struct __sk_buff *skb)
{
	struct alt_exempt_key netns = { .kind = ALT_EXEMPT_NETNS, .id = bpf_get_netns_cookie(skb) };

	if (bpf_map_lookup_elem(&alt_exempt, &netns))
		return 1;
	for (int level = 0; level < ALT_MAX_CGROUP_DEPTH; level++) {
		__u64 id = bpf_skb_ancestor_cgroup_id(skb, level);

		if (!id)
			break;
		if (alt_cgroup_exempt(id))
			return 1;
	}
	return 0;
}

#define ALT_SOCK_RAW 3

/* The socket's cgroup or an ancestor is a key of `map` (a cgroup-id keyed hash). */
static __always_inline int alt_skb_in(struct __sk_buff *skb, void *map)
{
	for (int level = 0; level < ALT_MAX_CGROUP_DEPTH; level++) {
		__u64 id = bpf_skb_ancestor_cgroup_id(skb, level);

		if (!id)
			break;
		if (bpf_map_lookup_elem(map, &id))
			return 1;
	}
	return 0;
}

/* A socket whose packets no connect or sendmsg hook judged: raw, or a protocol past them (SCTP,
 * ICMP ping sockets). In a strict cgroup, it may send only to strict destinations. */
static __always_inline int alt_skb_unhooked(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0;
	return sk->type == ALT_SOCK_RAW || (sk->protocol != ALT_IPPROTO_TCP && sk->protocol != ALT_IPPROTO_UDP);
}


SEC("cgroup_skb/egress")
int alt_skb_egress(struct __sk_buff *skb)
{
	struct alt_packet p;

	if (!alt_parse(skb, 0, &p) || alt_is_proxy(&p) || (alt_opt_in() && alt_skb_in(skb, &alt_ungoverned)))
		return ALT_SKB_PASS;
	if (alt_is_ai(&p.dst)) {
		if (alt_skb_exempt(skb))
			return ALT_SKB_PASS;
		alt_count(ALT_STAT_BYPASS_DROPPED);
		alt_emit_packet(ALT_EV_BYPASS_DROPPED, &p, skb->ifindex, bpf_skb_cgroup_id(skb));
		return ALT_SKB_DROP;
	}
	if (alt_strict_destination(&p) || !alt_skb_unhooked(skb) || !alt_skb_in(skb, &alt_strict) || alt_skb_exempt(skb))
		return ALT_SKB_PASS;
	alt_count(ALT_STAT_STRICT_DROPPED);
	alt_emit_packet(ALT_EV_STRICT_DROPPED, &p, skb->ifindex, bpf_skb_cgroup_id(skb));
	return ALT_SKB_DROP;
}

SEC("cgroup_skb/ingress")
int alt_dns_ingress(struct __sk_buff *skb)
{
	struct alt_dns_event *e;
	struct alt_packet p;
	struct udphdr udp;
	__u32 l4, len;

	if (!alt_parse(skb, 0, &p) || p.protocol != ALT_IPPROTO_UDP || p.src.port != bpf_htons(ALT_DNS_PORT))
		return ALT_SKB_PASS;
	if (skb->protocol == bpf_htons(ALT_ETH_P_IP)) {
		__u8 vihl;

		if (bpf_skb_load_bytes(skb, 0, &vihl, 1))
			return ALT_SKB_PASS;
		l4 = (vihl & 0xf) * 4;
	} else {
		l4 = sizeof(struct ipv6hdr);
	}
	if (bpf_skb_load_bytes(skb, l4, &udp, sizeof(udp)))
		return ALT_SKB_PASS;
	len = bpf_ntohs(udp.len);
	if (len < sizeof(udp) + 12)
		return ALT_SKB_PASS;
	len -= sizeof(udp);
	if (len > ALT_DNS_BYTES)
		len = ALT_DNS_BYTES;
	e = bpf_ringbuf_reserve(&alt_dns, sizeof(*e), 0);
	if (!e) {
		alt_count(ALT_STAT_DROPS);
		return ALT_SKB_PASS;
	}
	e->cgroup_id = bpf_skb_cgroup_id(skb);
	e->length = len;
	if (len < 12 || len > ALT_DNS_BYTES || bpf_skb_load_bytes(skb, l4 + sizeof(udp), e->payload, len)) {
		bpf_ringbuf_discard(e, 0);
		return ALT_SKB_PASS;
	}
	bpf_ringbuf_submit(e, 0);
	alt_count(ALT_STAT_DNS_SEEN);
	return ALT_SKB_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
