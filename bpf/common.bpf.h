/* Maps and helpers every program shares. Each .bpf.c includes these definitions; they are weak,
 * so `bpftool gen object` links them into one map each and one skeleton serves all programs. */
#ifndef ALTRACE_COMMON_BPF_H
#define ALTRACE_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "altrace.h"

#define ALT_MAP __attribute__((weak)) SEC(".maps")

/* AI destinations by address prefix -> enum alt_dest_source. Every port, TCP and UDP. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ALT_MAX_DEST_NETS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct alt_net_key);
	__type(value, __u32);
} alt_dest_nets ALT_MAP;

/* Strict mode: where a strict cgroup may go besides the proxy and loopback. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ALT_MAX_ALLOW_NETS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct alt_net_key);
	__type(value, struct alt_allow);
} alt_allow_nets ALT_MAP;

/* cgroup id -> 1: strict cgroups (ancestors count, like the deny map). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALT_MAX_STRICT);
	__type(key, __u64);
	__type(value, __u32);
} alt_strict ALT_MAP;

/* Confinement (an MCP server launched by `altrace mcp wrap`): cgroup id -> its egress set
 * (ancestors count; the deepest confined one decides). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALT_MAX_CONFINED);
	__type(key, __u64);
	__type(value, __u32);
} alt_confined ALT_MAP;

/* Egress sets: where a confined cgroup may go, by set and address prefix. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ALT_MAX_EGRESS_NETS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct alt_egress_key);
	__type(value, struct alt_allow);
} alt_egress_nets ALT_MAP;

/* Opt-in mode: cgroup id -> 1 for pods not opted in (ancestors count). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALT_MAX_UNGOVERNED);
	__type(key, __u64);
	__type(value, __u32);
} alt_ungoverned ALT_MAP;

/* Opt-in mode: the addresses of pods not opted in (16 bytes, v4-mapped) -> 1, for the packet backstop. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALT_MAX_UNGOVERNED);
	__type(key, struct alt_net_key);
	__type(value, __u32);
} alt_ungoverned_addrs ALT_MAP;

/* cgroup id -> 1 while a socket-destroy pass ends the direct AI connections of a cgroup that has
 * just come under governance (opt-in): made before, they went around the proxy. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALT_MAX_DENY);
	__type(key, __u64);
	__type(value, __u32);
} alt_regoverned ALT_MAP;

/* ifindex -> enum alt_iface_flags: the host-side interfaces the packet backstop watches. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALT_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} alt_ifaces ALT_MAP;

/* cgroup id (or ALT_KILL_ALL) -> 1 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALT_MAX_DENY);
	__type(key, __u64);
	__type(value, __u32);
} alt_deny ALT_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALT_MAX_EXEMPT);
	__type(key, struct alt_exempt_key);
	__type(value, __u32);
} alt_exempt ALT_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct alt_config);
} alt_config ALT_MAP;

/* socket cookie -> origin. LRU: a socket whose connect failed never reaches the close hook. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ALT_MAX_SOCKETS);
	__type(key, __u64);
	__type(value, struct alt_origin);
} alt_redirects ALT_MAP;

/* the agent side's local endpoint (the proxy's peer address) -> origin */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ALT_MAX_SOCKETS);
	__type(key, struct alt_endpoint);
	__type(value, struct alt_origin);
} alt_flows ALT_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, ALT_EVENTS_BYTES);
} alt_events ALT_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, ALT_DNS_EVENTS_BYTES);
} alt_dns ALT_MAP;

/* Named for its layout: when struct alt_stats grows, the map is renamed, so an upgraded agent
 * never meets an older pin it cannot reuse (libbpf refuses a pinned map of another size). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct alt_stats);
} alt_counters ALT_MAP;

#define ALT_IPPROTO_TCP 6
#define ALT_IPPROTO_UDP 17
/* An MPTCP socket would otherwise be a way around the redirect. */
#define ALT_IPPROTO_MPTCP 262

static __always_inline void alt_count(enum alt_stat s)
{
	__u32 zero = 0;
	struct alt_stats *st = bpf_map_lookup_elem(&alt_counters, &zero);

	if (st && s < ALT_STAT_COUNT)
		__sync_fetch_and_add(&st->n[s], 1);
}

static __always_inline void alt_endpoint_v4(struct alt_endpoint *ep, __u32 addr, __u16 port)
{
	__builtin_memset(ep, 0, sizeof(*ep));
	ep->addr[10] = 0xff;
	ep->addr[11] = 0xff;
	__builtin_memcpy(&ep->addr[12], &addr, sizeof(addr));
	ep->port = port;
}

/* Context fields allow only 4-byte accesses at constant offsets from the context pointer. The
 * barrier makes clang re-derive each address from ctx, instead of merging the words into 8-byte
 * accesses or walking them with a moved pointer, which the verifier refuses. */
#define ALT_CTX(ctx, field) (*({ barrier_var(ctx); &(ctx)->field; }))

#define ALT_COPY_IP6_IN(addr, ctx, field)                                                    \
	do {                                                                                 \
		__u32 w_[4] = { ALT_CTX(ctx, field[0]), ALT_CTX(ctx, field[1]),              \
				ALT_CTX(ctx, field[2]), ALT_CTX(ctx, field[3]) };            \
		__builtin_memcpy((addr), w_, sizeof(w_));                                    \
	} while (0)

#define ALT_COPY_IP6_OUT(ctx, field, addr)                                                   \
	do {                                                                                 \
		__u32 w_[4];                                                                 \
		__builtin_memcpy(w_, (addr), sizeof(w_));                                    \
		ALT_CTX(ctx, field[0]) = w_[0];                                              \
		ALT_CTX(ctx, field[1]) = w_[1];                                              \
		ALT_CTX(ctx, field[2]) = w_[2];                                              \
		ALT_CTX(ctx, field[3]) = w_[3];                                              \
	} while (0)

/* An address in the destination set; a NAT64 address (64:ff9b::/96) by the IPv4 address it
 * carries too, since a pod on an IPv6-only cluster can build one from any A record. */
static __always_inline int alt_addr_is_ai(const __u8 *addr)
{
	struct alt_net_key key = { .prefixlen = 128 };
	int nat64 = addr[0] == 0x00 && addr[1] == 0x64 && addr[2] == 0xff && addr[3] == 0x9b;

	__builtin_memcpy(key.addr, addr, ALT_ADDR_LEN);
	if (bpf_map_lookup_elem(&alt_dest_nets, &key))
		return 1;
	for (int i = 4; i < 12; i++)
		if (addr[i])
			nat64 = 0;
	if (!nat64)
		return 0;
	__builtin_memset(key.addr, 0, 10);
	key.addr[10] = 0xff;
	key.addr[11] = 0xff;
	return bpf_map_lookup_elem(&alt_dest_nets, &key) != 0;
}

static __always_inline int alt_is_ai(const struct alt_endpoint *ep)
{
	return alt_addr_is_ai(ep->addr);
}

/* ::ffff:a.b.c.d: an IPv4 address as every map holds it. */
static __always_inline int alt_is_v4(const __u8 *addr)
{
	int zero = 1;

	for (int i = 0; i < 10; i++)
		if (addr[i])
			zero = 0;
	return zero && addr[10] == 0xff && addr[11] == 0xff;
}

static __always_inline int alt_is_loopback(const __u8 *addr)
{
	if (alt_is_v4(addr))
		return addr[12] == 127;
	for (int i = 0; i < 15; i++)
		if (addr[i])
			return 0;
	return addr[15] == 1;
}

/* An allow entry admits this port: it lists it, or lists none (any port). */
static __always_inline int alt_allow_port(const struct alt_allow *allow, __be16 port)
{
	if (!allow)
		return 0;
	if (!allow->ports[0])
		return 1;
	for (int i = 0; i < ALT_ALLOW_PORTS; i++) {
		if (!allow->ports[i])
			break;
		if (allow->ports[i] == port)
			return 1;
	}
	return 0;
}

/* Strict mode's allow list: the address is in alt_allow_nets, with this port or any. */
static __always_inline int alt_allowed(const __u8 *addr, __be16 port)
{
	struct alt_net_key key = { .prefixlen = 128 };

	__builtin_memcpy(key.addr, addr, ALT_ADDR_LEN);
	return alt_allow_port(bpf_map_lookup_elem(&alt_allow_nets, &key), port);
}

/* An egress set's entries admit the address and port. */
static __always_inline int alt_egress_allowed(__u32 set, const __u8 *addr, __be16 port)
{
	struct alt_egress_key key = { .prefixlen = 32 + 128, .set = bpf_htonl(set) };

	__builtin_memcpy(key.addr, addr, ALT_ADDR_LEN);
	return alt_allow_port(bpf_map_lookup_elem(&alt_egress_nets, &key), port);
}

/* The current task's cgroup or an ancestor is a key of `map` (a cgroup-id keyed hash). */
static __always_inline int alt_current_in(void *map)
{
	for (int level = 0; level < ALT_MAX_CGROUP_DEPTH; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);

		if (!id)
			break;
		if (bpf_map_lookup_elem(map, &id))
			return 1;
	}
	return 0;
}

static __always_inline int alt_cgroup_exempt(__u64 id)
{
	struct alt_exempt_key key = { .kind = ALT_EXEMPT_CGROUP, .id = id };

	return bpf_map_lookup_elem(&alt_exempt, &key) != 0;
}

/* The current task's cgroup or any ancestor of it is in the deny map, or everything is. */
static __always_inline int alt_current_killed(void)
{
	__u64 all = ALT_KILL_ALL;

	return bpf_map_lookup_elem(&alt_deny, &all) || alt_current_in(&alt_deny);
}

static __always_inline int alt_opt_in(void)
{
	__u32 zero = 0;
	struct alt_config *cfg = bpf_map_lookup_elem(&alt_config, &zero);

	return cfg && (cfg->flags & ALT_CFG_OPT_IN);
}

/* Opt-in mode, and the current task's cgroup (or an ancestor) is a pod that has not opted in. */
static __always_inline int alt_current_ungoverned(void)
{
	return alt_opt_in() && alt_current_in(&alt_ungoverned);
}

/* The current task's cgroup or an ancestor is strict: its egress is limited to declared places. */
static __always_inline int alt_current_strict(void)
{
	return alt_current_in(&alt_strict);
}

static __always_inline int alt_current_exempt(struct bpf_sock_addr *ctx)
{
	struct alt_exempt_key netns = { .kind = ALT_EXEMPT_NETNS, .id = bpf_get_netns_cookie(ctx) };

	if (bpf_map_lookup_elem(&alt_exempt, &netns))
		return 1;
	for (int level = 0; level < ALT_MAX_CGROUP_DEPTH; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);

		if (!id)
			break;
		if (alt_cgroup_exempt(id))
			return 1;
	}
	return 0;
}

static __always_inline void alt_emit(struct bpf_sock_addr *ctx, enum alt_verdict verdict,
				     const struct alt_endpoint *dest, __u64 cookie)
{
	struct alt_event *e = bpf_ringbuf_reserve(&alt_events, sizeof(*e), 0);
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!e) {
		alt_count(ALT_STAT_DROPS);
		return;
	}
	e->timestamp_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->netns_cookie = bpf_get_netns_cookie(ctx);
	e->socket_cookie = cookie;
	e->pid = (__u32)pid_tgid;
	e->tgid = pid_tgid >> 32;
	e->dest = *dest;
	e->family = ctx->family;
	e->verdict = verdict;
	e->protocol = ctx->protocol;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	__builtin_memset(&e->source, 0, sizeof(e->source));
	e->ifindex = 0;
	bpf_ringbuf_submit(e, 0);
	alt_count(ALT_STAT_EVENTS);
}

/* The egress set of the deepest confined cgroup among the current task's cgroup and its
 * ancestors, or 0 when none is confined. */
static __always_inline __u32 alt_current_egress_set(void)
{
	__u32 set = 0;

	for (int level = 0; level < ALT_MAX_CGROUP_DEPTH; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		__u32 *found;

		if (!id)
			break;
		found = bpf_map_lookup_elem(&alt_confined, &id);
		if (found)
			set = *found;
	}
	return set;
}

/* A confined process reaches only its egress set, loopback included (1: this connect or datagram
 * may go on to the other checks; 0: refused). Opt-in and exemptions do not lift it: the agent
 * confines only the cgroups it made for the servers it launches. */
static __always_inline int alt_confinement_allows(struct bpf_sock_addr *ctx, const struct alt_endpoint *dest)
{
	__u32 set = alt_current_egress_set();

	if (!set || alt_egress_allowed(set, dest->addr, dest->port))
		return 1;
	alt_emit(ctx, ALT_EV_EGRESS_REFUSED, dest, bpf_get_socket_cookie(ctx));
	return 0;
}

/* A strict cgroup may reach loopback and declared places; anything else is refused. */
static __always_inline int alt_strict_allows(struct bpf_sock_addr *ctx, const struct alt_endpoint *dest)
{
	if (alt_is_loopback(dest->addr) || alt_allowed(dest->addr, dest->port) || !alt_current_strict() ||
	    alt_current_exempt(ctx))
		return 1;
	alt_count(ALT_STAT_STRICT_REFUSED);
	alt_emit(ctx, ALT_EV_STRICT_REFUSED, dest, bpf_get_socket_cookie(ctx));
	return 0;
}

/* No datagram reaches an AI address, on any port: QUIC (or anything else over UDP) would carry
 * the call past the proxy. */
static __always_inline int alt_udp_allowed(struct bpf_sock_addr *ctx, struct alt_endpoint *dest)
{
	if (alt_current_ungoverned())
		return 1;
	if (!alt_is_ai(dest))
		return alt_strict_allows(ctx, dest);
	alt_count(ALT_STAT_UDP_REFUSED);
	alt_emit(ctx, ALT_EV_UDP_REFUSED, dest, bpf_get_socket_cookie(ctx));
	return 0;
}

#endif
