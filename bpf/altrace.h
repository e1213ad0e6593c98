/* Layouts shared by the BPF programs in bpf/ and userspace (native/src/bpf*.cc reports
 * their sizes and offsets; agent/src/bpf/layout.ts encodes and decodes them byte for byte and a
 * test compares the two). Every address is 16 bytes: IPv6, or IPv4 as v4-mapped ::ffff:a.b.c.d,
 * so one map serves both families and connect6 on a dual-stack socket matches IPv4 entries. */
#ifndef ALTRACE_H
#define ALTRACE_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define ALT_ADDR_LEN 16
#define ALT_COMM_LEN 16

#define ALT_AF_INET 2
#define ALT_AF_INET6 10

#define ALT_MAX_DEST_NETS 16384
#define ALT_MAX_ALLOW_NETS 4096
#define ALT_MAX_STRICT 4096
#define ALT_MAX_IFACES 4096
#define ALT_MAX_UNGOVERNED 16384
#define ALT_MAX_CONFINED 4096
#define ALT_MAX_EGRESS_NETS 8192
#define ALT_ALLOW_PORTS 8
/* DNS answers copied to userspace: enough for the answers to one name (EDNS answers beyond it
 * are cut; the records that fit are still read). */
#define ALT_DNS_BYTES 1024
#define ALT_DNS_EVENTS_BYTES (512 * 1024)
#define ALT_MAX_DENY 4096
#define ALT_MAX_EXEMPT 1024
#define ALT_MAX_SOCKETS 65536
#define ALT_EVENTS_BYTES (256 * 1024)
/* Deny and exempt checks walk the cgroup's ancestors, so one entry covers a whole pod. */
#define ALT_MAX_CGROUP_DEPTH 16

/* alt_regoverned values: which of a cgroup's AI connections a socket-destroy pass ends. */
#define ALT_REGOVERN_DIRECT 1     /* it came under governance: its direct ones */
#define ALT_REGOVERN_REDIRECTED 2 /* it left governance: its redirected ones */

/* Deny-map key meaning "every cgroup": real cgroup ids start at 1. */
#define ALT_KILL_ALL 0ULL

/* Key of alt_flows (the agent side's local endpoint), and every event's destination. */
struct alt_endpoint {
	__u8 addr[ALT_ADDR_LEN];
	__be16 port; /* network byte order */
	__u16 _pad;  /* zero: part of the hash key */
};

/* Key of the LPM tries alt_dest_nets (AI destinations: every port of an address, TCP and UDP)
 * and alt_allow_nets (where a strict cgroup may go besides): prefixlen counts bits of the
 * 16-byte address, so an IPv4 /24 is 96 + 24. */
struct alt_net_key {
	__u32 prefixlen;
	__u8 addr[ALT_ADDR_LEN];
};

/* Key of alt_egress_nets (where the processes of a confined cgroup may connect or send, per
 * egress set): prefixlen counts the 32 bits of `set` and then bits of the 16-byte address, so an
 * IPv4 /24 of set 3 is 32 + 96 + 24. `set` is in network byte order: the trie matches bits from
 * the first byte on. */
struct alt_egress_key {
	__u32 prefixlen;
	__be32 set;
	__u8 addr[ALT_ADDR_LEN];
};

/* Why an address is in alt_dest_nets (reported, not decided on). */
enum alt_dest_source {
	ALT_DEST_RESOLVED = 1,  /* the node resolved a provider's name */
	ALT_DEST_OBSERVED = 2,  /* a DNS answer a governed pod received */
	ALT_DEST_CONFIGURED = 3, /* node.destinations: an address or CIDR */
	ALT_DEST_PUBLISHED = 4, /* a provider's published range */
};

/* Value of alt_allow_nets: the ports allowed at those addresses, 0-terminated; none = any. */
struct alt_allow {
	__be16 ports[ALT_ALLOW_PORTS];
};

/* alt_ifaces: what the packet backstop does on a host-side interface of a pod. */
enum alt_iface_flags {
	ALT_IFACE_BACKSTOP = 1, /* drop packets to AI destinations */
	ALT_IFACE_STRICT = 2,   /* and to anything not allowed (alt_allow_nets, the proxy) */
};

enum alt_exempt_kind {
	ALT_EXEMPT_CGROUP = 1,
	ALT_EXEMPT_NETNS = 2,
};

struct alt_exempt_key {
	__u32 kind; /* enum alt_exempt_kind */
	__u32 _pad;
	__u64 id;   /* cgroup id or netns cookie */
};

enum alt_config_flags {
	ALT_CFG_PROXY4 = 1,
	ALT_CFG_PROXY6 = 2,
	/* Opt-in (Kubernetes labels): cgroups in alt_ungoverned, and packets from the addresses in
	 * alt_ungoverned_addrs, are left alone; everything else under the governed cgroup is governed
	 * (a pod the agent has not judged yet included: fail closed). */
	ALT_CFG_OPT_IN = 4,
};

/* alt_config[0]: where AI connections go. An unset family fails closed (connect gets EPERM). */
struct alt_config {
	__u8 proxy6[ALT_ADDR_LEN];
	__be32 proxy4;
	__be16 port4;
	__be16 port6;
	__u32 flags; /* enum alt_config_flags */
	__u32 _pad;
};

/* What connect saw: alt_redirects by socket cookie, alt_flows by the agent's local endpoint. */
struct alt_origin {
	struct alt_endpoint dest; /* the destination the agent asked for */
	__u16 family;             /* of the agent's socket */
	__u16 _pad;
	__u64 cgroup_id;
	__u64 socket_cookie;
	__u64 netns_cookie;
};

enum alt_verdict {
	ALT_EV_REDIRECT = 1,
	ALT_EV_KILLED = 2,
	ALT_EV_UDP_REFUSED = 3,
	ALT_EV_NO_PROXY = 4,
	ALT_EV_BYPASS_DROPPED = 5,  /* the packet backstop dropped a packet to an AI destination */
	ALT_EV_STRICT_REFUSED = 6,  /* a strict cgroup's connect or datagram to an undeclared place */
	ALT_EV_STRICT_DROPPED = 7,  /* the backstop dropped a strict pod's packet to an undeclared place */
	ALT_EV_EGRESS_REFUSED = 8,  /* a confined cgroup's connect or datagram outside its egress set */
};

/* One ring-buffer record per AI-bound connect, refused datagram or dropped packet: shadow-agent
 * discovery and bypass reports. Packet verdicts have no task: cgroup, pid and comm are zero and
 * the packet's source and interface say where it came from. */
struct alt_event {
	__u64 timestamp_ns; /* CLOCK_BOOTTIME */
	__u64 cgroup_id;
	__u64 netns_cookie;
	__u64 socket_cookie;
	__u32 pid;  /* kernel pid: the thread */
	__u32 tgid; /* userspace pid: the process */
	struct alt_endpoint dest;
	__u16 family;
	__u8 verdict;  /* enum alt_verdict */
	__u8 protocol; /* IPPROTO_TCP / IPPROTO_UDP / the packet's IP protocol */
	char comm[ALT_COMM_LEN];
	struct alt_endpoint source; /* packet verdicts: the packet's source address and port */
	__u32 ifindex;              /* packet verdicts: the interface it arrived on */
};

/* One DNS response a governed socket received (alt_dns ring buffer): userspace learns the
 * providers' addresses pods were told, beyond those the node resolves itself. */
struct alt_dns_event {
	__u64 cgroup_id;
	__u16 length; /* bytes of payload used */
	__u16 _pad[3];
	__u8 payload[ALT_DNS_BYTES]; /* the DNS message, from its header */
};

/* alt_stats (per-CPU array, one entry) counters, in this order. */
enum alt_stat {
	ALT_STAT_REDIRECTS,
	ALT_STAT_KILLED,
	ALT_STAT_UDP_REFUSED,
	ALT_STAT_NO_PROXY,
	ALT_STAT_EXEMPT,
	ALT_STAT_EVENTS,
	ALT_STAT_DROPS,
	ALT_STAT_DESTROYED,
	ALT_STAT_BYPASS_DROPPED,
	ALT_STAT_STRICT_REFUSED,
	ALT_STAT_STRICT_DROPPED,
	ALT_STAT_DNS_SEEN,
	ALT_STAT_COUNT,
};

struct alt_stats {
	__u64 n[ALT_STAT_COUNT];
};

#endif
