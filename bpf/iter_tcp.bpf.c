/* iter/tcp: tear down established AI-bound TCP sockets of killed cgroups (and the direct AI
 * connections of a cgroup that has just come under governance) with bpf_sock_destroy
 * (the peer sees a reset, the owner ECONNABORTED). An iterator walks the network namespace of
 * the thread that opened it, so userspace runs one pass per pod netns. Each destroyed socket's
 * cookie is written to the iterator's output: the caller learns what went, race-free. */
#include "common.bpf.h"
#include <bpf/bpf_core_read.h>

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

#define ALT_TCP_ESTABLISHED 1
#define ALT_TCP_TIME_WAIT 6
#define ALT_TCP_CLOSE 7
#define ALT_TCP_LISTEN 10
#define ALT_TCP_NEW_SYN_RECV 12

/* The value `map` holds for the socket's cgroup or its nearest ancestor there (0: none). */
static __always_inline __u32 alt_socket_cgroup_in(struct sock *sk, void *map)
{
	struct cgroup *cgrp = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	int level;
	__u32 found = 0;

	if (!cgrp)
		return 0;
	level = BPF_CORE_READ(cgrp, level);
	for (int i = 0; i < ALT_MAX_CGROUP_DEPTH; i++) {
		struct cgroup *anc;
		__u64 id;

		if (i > level)
			break;
		if (bpf_core_read(&anc, sizeof(anc), &cgrp->ancestors[i]) || !anc)
			continue;
		id = BPF_CORE_READ(anc, kn, id);
		__u32 *value = bpf_map_lookup_elem(map, &id);

		if (value)
			found = *value;
	}
	return found;
}

static __always_inline int alt_socket_killed(struct sock *sk)
{
	__u64 all = ALT_KILL_ALL;

	return bpf_map_lookup_elem(&alt_deny, &all) || alt_socket_cgroup_in(sk, &alt_deny);
}

/* Talking to an AI destination directly (connected before the programs were attached, while
 * exempt, or while its pod was not governed). */
static __always_inline int alt_ai_direct(struct sock_common *skc)
{
	struct alt_endpoint remote = {};

	if (skc->skc_family == ALT_AF_INET) {
		alt_endpoint_v4(&remote, skc->skc_daddr, skc->skc_dport);
	} else {
		BPF_CORE_READ_INTO(&remote.addr, skc, skc_v6_daddr.in6_u.u6_addr8);
		remote.port = skc->skc_dport;
	}
	return alt_is_ai(&remote);
}

/* Redirected by connect, or talking to an AI destination directly. */
static __always_inline int alt_ai_bound(struct sock_common *skc, __u64 cookie)
{
	return bpf_map_lookup_elem(&alt_redirects, &cookie) || alt_ai_direct(skc);
}

SEC("iter/tcp")
int alt_destroy(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	__u64 cookie;
	int state;

	if (!skc)
		return 0;
	state = skc->skc_state;
	if (state == ALT_TCP_TIME_WAIT || state == ALT_TCP_CLOSE || state == ALT_TCP_LISTEN ||
	    state == ALT_TCP_NEW_SYN_RECV)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	cookie = bpf_get_socket_cookie(skc);
	if (!alt_ai_bound(skc, cookie))
		return 0;
	/* Killed; or a connection of a cgroup that has just come under governance (its direct ones)
	 * or left it (its redirected ones): either way the client reconnects, the new way. */
	if (!alt_socket_killed((struct sock *)tp)) {
		__u32 change = alt_socket_cgroup_in((struct sock *)tp, &alt_regoverned);
		int redirected = bpf_map_lookup_elem(&alt_redirects, &cookie) != 0;

		if (!(change == ALT_REGOVERN_DIRECT && !redirected) && !(change == ALT_REGOVERN_REDIRECTED && redirected))
			return 0;
	}
	if (bpf_sock_destroy(skc))
		return 0;
	alt_count(ALT_STAT_DESTROYED);
	bpf_seq_write(ctx->meta->seq, &cookie, sizeof(cookie));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
