/* tc (tcx ingress) on a pod's host-side interface: the packet backstop. Whatever leaves the
 * pod's network namespace passes here, whichever socket sent it — raw and packet sockets,
 * sockets created outside the governed cgroup, a user-space TCP stack — so a packet to an AI
 * address is dropped (the proxy's own connections leave from the node, not through here), and
 * on a strict interface a new flow to an undeclared place too. Each drop is counted and
 * reported. */
#include "packet.bpf.h"

/* tcx verdicts: "next" hands the packet to whatever else is attached (the CNI's own programs,
 * which run after this one); TC_ACT_OK would end the chain and skip them. */
#define ALT_TCX_NEXT -1
#define ALT_TC_ACT_SHOT 2
#define ALT_ETH_P_8021Q 0x8100
#define ALT_ETH_P_8021AD 0x88A8

SEC("tc")
int alt_backstop(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct alt_packet p;
	__u32 *flags = bpf_map_lookup_elem(&alt_ifaces, &ifindex);

	if (!flags)
		return ALT_TCX_NEXT;
	/* A pod has no business tagging frames, and a tag hides the IP packet from this parse while
	 * the node may untag and route it after tc (a priority tag, VID 0): dropped. */
	if (skb->vlan_present || skb->protocol == bpf_htons(ALT_ETH_P_8021Q) || skb->protocol == bpf_htons(ALT_ETH_P_8021AD)) {
		alt_count(ALT_STAT_BYPASS_DROPPED);
		return ALT_TC_ACT_SHOT;
	}
	if (!alt_parse(skb, ALT_ETH_HLEN, &p))
		return ALT_TCX_NEXT;
	if (alt_opt_in()) {
		struct alt_net_key from = { .prefixlen = 128 };

		__builtin_memcpy(from.addr, p.src.addr, ALT_ADDR_LEN);
		if (bpf_map_lookup_elem(&alt_ungoverned_addrs, &from))
			return ALT_TCX_NEXT;
	}
	if (alt_is_ai(&p.dst) && !alt_is_proxy(&p)) {
		alt_count(ALT_STAT_BYPASS_DROPPED);
		alt_emit_packet(ALT_EV_BYPASS_DROPPED, &p, ifindex, 0);
		return ALT_TC_ACT_SHOT;
	}
	if ((*flags & ALT_IFACE_STRICT) && !alt_packet_strict_allowed(&p)) {
		alt_count(ALT_STAT_STRICT_DROPPED);
		alt_emit_packet(ALT_EV_STRICT_DROPPED, &p, ifindex, 0);
		return ALT_TC_ACT_SHOT;
	}
	return ALT_TCX_NEXT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
