import type { SinkConfig } from '../siem/shipper.js';
/** The agent configuration after defaults, env overrides and schema validation. */
export interface Config {
  listen: { host: string; proxy_port: number; control_port: number; proxy_host?: string; ops_host?: string; ops_port?: number; headers_timeout_ms: number; request_timeout_ms: number; loops: number };
  control: {
    allow_cidrs: string[];
    trusted_proxies: string[];
    forwarded_header: 'x-forwarded-for' | 'forwarded';
    tls: { enabled: boolean; cert_file?: string; key_file?: string; client_auth: 'none' | 'optional' | 'required'; client_ca_file?: string; crl_file?: string };
  };
  state_dir: string;
  admin_token?: string;
  enforce_only: boolean;
  policy: string;
  prices: string;
  limits: { max_body_bytes: number; max_response_bytes: number; max_json_depth: number; auth_failures_per_minute: number; control_calls_per_minute: number; heap_reclaim_mb: number };
  upstream: { connect_timeout_ms: number; headers_timeout_ms: number; body_timeout_ms: number };
  chain: { stage_timeout_ms: number };
  scan: { workers: number; worker_heap_mb: number };
  audit: { enabled: boolean };
  siem: { sinks: SinkConfig[] };
  delegation: { root_key_file?: string; trusted_keys: string[] };
  fleet: {
    control_plane?: string;
    ca_file?: string;
    node_name?: string;
    max_staleness_s: number;
    on_stale: 'fail_closed' | 'fail_static';
    heartbeat_ms: number;
    listen_port: number;
    server_names: string[];
    node_cert_hours: number;
    lease_max_usd: number;
    lease_ttl_s: number;
    enroll_service_accounts: string[];
    enroll_audience: string;
  };
  log: { level: string };
  telemetry: { otlp_endpoint?: string; otlp_headers: Record<string, string>; service_name: string };
  node: {
    enforcement: 'off' | 'bpf' | 'nftables' | 'cilium';
    interfaces: string[];
    cgroup?: string;
    transparent_host?: string;
    ca_cert_file?: string;
    ca_key_file?: string;
    transparent_port: number;
    tls: 'terminate' | 'refuse' | 'passthrough';
    destinations?: string[];
    backstop_interfaces?: string[];
    dns_observe_private: boolean;
    strict: { cgroups: string[]; interfaces: string[]; allow: string[] };
    resolve_min_ttl_s: number;
    resolve_max_ttl_s: number;
    pin_dir?: string;
    allow_loopback_proxy: boolean;
  };
  kubernetes: {
    enabled: boolean;
    api_server?: string;
    token_file?: string;
    ca_file?: string;
    insecure_skip_tls_verify: boolean;
    node_name?: string;
    watch_inactivity_s: number;
    enforce: 'all' | 'labeled';
    resources: boolean;
    resync_s: number;
    policy_name: string;
    fleet_ca_configmap?: string;
    leader_election: { enabled: boolean; lease: string; lease_duration_s: number; renew_deadline_s: number; retry_period_s: number };
    webhook: { enabled: boolean; host: string; port: number; cert_file?: string; key_file?: string; trust_ca_file?: string; proxy_port: number };
    cilium: {
      policies: boolean;
      proxy_ports: number[];
      dns_labels: Record<string, string>;
      destinations: string[];
      local_redirect?: { service: string; namespace: string; port: number; backend_labels: Record<string, string> };
    };
  };
  credentials: { file?: string; secret_dir?: string; master_key_file?: string; vault?: { address: string; token_file?: string; mount: string; prefix: string; refresh_s: number } };
  providers: {
    openai: { base_url?: string; region?: string };
    anthropic: { base_url?: string; region?: string };
    gemini: { base_url?: string; region?: string };
    azure: { endpoint?: string; region?: string };
    bedrock: { base_url?: string; region: string; aws_chain: boolean };
    compatible: { name: string; base_url: string; models: string[]; api_key_env?: string; region?: string }[];
  };
  mcp: {
    servers: { name: string; transport?: 'http' | 'stdio'; url?: string; api_key_env?: string; region?: string }[];
    provenance: { cache_dir?: string; fetch: boolean; trusted_root_file?: string; timeout_ms: number };
  };
}

/** list: comma-separated values. */
type Kind = 'string' | 'int' | 'number' | 'bool' | 'list';

/** Every setting's environment override. Spec names come first; the rest follow ALTRACE_<PATH>. */
export const ENV_OVERRIDES: { env: string; path: string; kind: Kind }[] = [
  { env: 'ALTRACE_HOST', path: 'listen.host', kind: 'string' },
  { env: 'ALTRACE_PROXY_PORT', path: 'listen.proxy_port', kind: 'int' },
  { env: 'ALTRACE_PROXY_HOST', path: 'listen.proxy_host', kind: 'string' },
  { env: 'ALTRACE_OPS_HOST', path: 'listen.ops_host', kind: 'string' },
  { env: 'ALTRACE_OPS_PORT', path: 'listen.ops_port', kind: 'int' },
  { env: 'ALTRACE_CONTROL_PORT', path: 'listen.control_port', kind: 'int' },
  { env: 'ALTRACE_HEADERS_TIMEOUT_MS', path: 'listen.headers_timeout_ms', kind: 'int' },
  { env: 'ALTRACE_REQUEST_TIMEOUT_MS', path: 'listen.request_timeout_ms', kind: 'int' },
  { env: 'ALTRACE_LOOPS', path: 'listen.loops', kind: 'int' },
  { env: 'ALTRACE_CONTROL_ALLOW_CIDRS', path: 'control.allow_cidrs', kind: 'list' },
  { env: 'ALTRACE_CONTROL_FORWARDED_HEADER', path: 'control.forwarded_header', kind: 'string' },
  { env: 'ALTRACE_CONTROL_TLS_ENABLED', path: 'control.tls.enabled', kind: 'bool' },
  { env: 'ALTRACE_CONTROL_TLS_CERT_FILE', path: 'control.tls.cert_file', kind: 'string' },
  { env: 'ALTRACE_CONTROL_TLS_KEY_FILE', path: 'control.tls.key_file', kind: 'string' },
  { env: 'ALTRACE_CONTROL_TLS_CLIENT_AUTH', path: 'control.tls.client_auth', kind: 'string' },
  { env: 'ALTRACE_CONTROL_TLS_CLIENT_CA_FILE', path: 'control.tls.client_ca_file', kind: 'string' },
  { env: 'ALTRACE_CONTROL_TLS_CRL_FILE', path: 'control.tls.crl_file', kind: 'string' },
  { env: 'ALTRACE_CONTROL_TRUSTED_PROXIES', path: 'control.trusted_proxies', kind: 'list' },
  { env: 'ALTRACE_STATE_DIR', path: 'state_dir', kind: 'string' },
  { env: 'ALTRACE_ADMIN_TOKEN', path: 'admin_token', kind: 'string' },
  { env: 'ALTRACE_ENFORCE_ONLY', path: 'enforce_only', kind: 'bool' },
  { env: 'ALTRACE_POLICY', path: 'policy', kind: 'string' },
  { env: 'ALTRACE_PRICES', path: 'prices', kind: 'string' },
  { env: 'ALTRACE_MAX_BODY_BYTES', path: 'limits.max_body_bytes', kind: 'int' },
  { env: 'ALTRACE_MAX_RESPONSE_BYTES', path: 'limits.max_response_bytes', kind: 'int' },
  { env: 'ALTRACE_AUTH_FAILURES_PER_MINUTE', path: 'limits.auth_failures_per_minute', kind: 'int' },
  { env: 'ALTRACE_CONTROL_CALLS_PER_MINUTE', path: 'limits.control_calls_per_minute', kind: 'int' },
  { env: 'ALTRACE_HEAP_RECLAIM_MB', path: 'limits.heap_reclaim_mb', kind: 'int' },
  { env: 'ALTRACE_MAX_JSON_DEPTH', path: 'limits.max_json_depth', kind: 'int' },
  { env: 'ALTRACE_UPSTREAM_CONNECT_TIMEOUT_MS', path: 'upstream.connect_timeout_ms', kind: 'int' },
  { env: 'ALTRACE_UPSTREAM_HEADERS_TIMEOUT_MS', path: 'upstream.headers_timeout_ms', kind: 'int' },
  { env: 'ALTRACE_UPSTREAM_BODY_TIMEOUT_MS', path: 'upstream.body_timeout_ms', kind: 'int' },
  { env: 'ALTRACE_STAGE_TIMEOUT_MS', path: 'chain.stage_timeout_ms', kind: 'int' },
  { env: 'ALTRACE_SCAN_WORKERS', path: 'scan.workers', kind: 'int' },
  { env: 'ALTRACE_SCAN_WORKER_HEAP_MB', path: 'scan.worker_heap_mb', kind: 'int' },
  { env: 'ALTRACE_AUDIT_ENABLED', path: 'audit.enabled', kind: 'bool' },
  { env: 'ALTRACE_MCP_PROVENANCE_CACHE_DIR', path: 'mcp.provenance.cache_dir', kind: 'string' },
  { env: 'ALTRACE_MCP_PROVENANCE_FETCH', path: 'mcp.provenance.fetch', kind: 'bool' },
  { env: 'ALTRACE_MCP_PROVENANCE_TRUSTED_ROOT_FILE', path: 'mcp.provenance.trusted_root_file', kind: 'string' },
  { env: 'ALTRACE_MCP_PROVENANCE_TIMEOUT_MS', path: 'mcp.provenance.timeout_ms', kind: 'int' },
  { env: 'ALTRACE_LOG_LEVEL', path: 'log.level', kind: 'string' },
  { env: 'ALTRACE_OTLP_ENDPOINT', path: 'telemetry.otlp_endpoint', kind: 'string' },
  { env: 'ALTRACE_DELEGATION_ROOT_KEY_FILE', path: 'delegation.root_key_file', kind: 'string' },
  { env: 'ALTRACE_CONTROL_PLANE', path: 'fleet.control_plane', kind: 'string' },
  { env: 'ALTRACE_FLEET_CA_FILE', path: 'fleet.ca_file', kind: 'string' },
  { env: 'ALTRACE_NODE_NAME', path: 'fleet.node_name', kind: 'string' },
  { env: 'ALTRACE_FLEET_MAX_STALENESS_S', path: 'fleet.max_staleness_s', kind: 'int' },
  { env: 'ALTRACE_FLEET_ON_STALE', path: 'fleet.on_stale', kind: 'string' },
  { env: 'ALTRACE_FLEET_HEARTBEAT_MS', path: 'fleet.heartbeat_ms', kind: 'int' },
  { env: 'ALTRACE_FLEET_PORT', path: 'fleet.listen_port', kind: 'int' },
  { env: 'ALTRACE_FLEET_LEASE_TTL_S', path: 'fleet.lease_ttl_s', kind: 'int' },
  { env: 'ALTRACE_FLEET_NODE_CERT_HOURS', path: 'fleet.node_cert_hours', kind: 'number' },
  { env: 'ALTRACE_FLEET_ENROLL_SERVICE_ACCOUNTS', path: 'fleet.enroll_service_accounts', kind: 'list' },
  { env: 'ALTRACE_FLEET_ENROLL_AUDIENCE', path: 'fleet.enroll_audience', kind: 'string' },
  { env: 'ALTRACE_NODE_ENFORCEMENT', path: 'node.enforcement', kind: 'string' },
  { env: 'ALTRACE_KUBERNETES_ENABLED', path: 'kubernetes.enabled', kind: 'bool' },
  { env: 'ALTRACE_KUBERNETES_API_SERVER', path: 'kubernetes.api_server', kind: 'string' },
  { env: 'ALTRACE_KUBERNETES_TOKEN_FILE', path: 'kubernetes.token_file', kind: 'string' },
  { env: 'ALTRACE_KUBERNETES_CA_FILE', path: 'kubernetes.ca_file', kind: 'string' },
  { env: 'ALTRACE_KUBERNETES_INSECURE_SKIP_TLS_VERIFY', path: 'kubernetes.insecure_skip_tls_verify', kind: 'bool' },
  { env: 'ALTRACE_KUBERNETES_NODE_NAME', path: 'kubernetes.node_name', kind: 'string' },
  { env: 'ALTRACE_KUBERNETES_WATCH_INACTIVITY_S', path: 'kubernetes.watch_inactivity_s', kind: 'int' },
  { env: 'ALTRACE_KUBERNETES_ENFORCE', path: 'kubernetes.enforce', kind: 'string' },
  { env: 'ALTRACE_KUBERNETES_RESOURCES', path: 'kubernetes.resources', kind: 'bool' },
  { env: 'ALTRACE_KUBERNETES_POLICY_NAME', path: 'kubernetes.policy_name', kind: 'string' },
  { env: 'ALTRACE_KUBERNETES_RESYNC_S', path: 'kubernetes.resync_s', kind: 'int' },
  { env: 'ALTRACE_KUBERNETES_FLEET_CA_CONFIGMAP', path: 'kubernetes.fleet_ca_configmap', kind: 'string' },
  { env: 'ALTRACE_KUBERNETES_LEADER_ELECTION_ENABLED', path: 'kubernetes.leader_election.enabled', kind: 'bool' },
  { env: 'ALTRACE_KUBERNETES_LEADER_ELECTION_LEASE', path: 'kubernetes.leader_election.lease', kind: 'string' },
  { env: 'ALTRACE_KUBERNETES_LEADER_ELECTION_LEASE_DURATION_S', path: 'kubernetes.leader_election.lease_duration_s', kind: 'int' },
  { env: 'ALTRACE_KUBERNETES_LEADER_ELECTION_RENEW_DEADLINE_S', path: 'kubernetes.leader_election.renew_deadline_s', kind: 'int' },
  { env: 'ALTRACE_KUBERNETES_LEADER_ELECTION_RETRY_PERIOD_S', path: 'kubernetes.leader_election.retry_period_s', kind: 'int' },
  { env: 'ALTRACE_KUBERNETES_CILIUM_POLICIES', path: 'kubernetes.cilium.policies', kind: 'bool' },
  { env: 'ALTRACE_KUBERNETES_WEBHOOK_ENABLED', path: 'kubernetes.webhook.enabled', kind: 'bool' },
  { env: 'ALTRACE_KUBERNETES_WEBHOOK_PORT', path: 'kubernetes.webhook.port', kind: 'int' },
  { env: 'ALTRACE_KUBERNETES_WEBHOOK_CERT_FILE', path: 'kubernetes.webhook.cert_file', kind: 'string' },
  { env: 'ALTRACE_KUBERNETES_WEBHOOK_KEY_FILE', path: 'kubernetes.webhook.key_file', kind: 'string' },
  { env: 'ALTRACE_KUBERNETES_WEBHOOK_TRUST_CA_FILE', path: 'kubernetes.webhook.trust_ca_file', kind: 'string' },
  { env: 'ALTRACE_NODE_CGROUP', path: 'node.cgroup', kind: 'string' },
  { env: 'ALTRACE_NODE_TRANSPARENT_HOST', path: 'node.transparent_host', kind: 'string' },
  { env: 'ALTRACE_NODE_CA_CERT_FILE', path: 'node.ca_cert_file', kind: 'string' },
  { env: 'ALTRACE_NODE_CA_KEY_FILE', path: 'node.ca_key_file', kind: 'string' },
  { env: 'ALTRACE_NODE_TRANSPARENT_PORT', path: 'node.transparent_port', kind: 'int' },
  { env: 'ALTRACE_NODE_PIN_DIR', path: 'node.pin_dir', kind: 'string' },
  { env: 'ALTRACE_NODE_TLS', path: 'node.tls', kind: 'string' },
  { env: 'ALTRACE_CREDENTIALS_FILE', path: 'credentials.file', kind: 'string' },
  { env: 'ALTRACE_VAULT_ADDR', path: 'credentials.vault.address', kind: 'string' },
  { env: 'ALTRACE_VAULT_TOKEN_FILE', path: 'credentials.vault.token_file', kind: 'string' },
  { env: 'ALTRACE_VAULT_MOUNT', path: 'credentials.vault.mount', kind: 'string' },
  { env: 'ALTRACE_VAULT_PREFIX', path: 'credentials.vault.prefix', kind: 'string' },
  { env: 'ALTRACE_VAULT_REFRESH_S', path: 'credentials.vault.refresh_s', kind: 'int' },
  { env: 'ALTRACE_CREDENTIALS_DIR', path: 'credentials.secret_dir', kind: 'string' },
  { env: 'ALTRACE_MASTER_KEY_FILE', path: 'credentials.master_key_file', kind: 'string' },
  { env: 'ALTRACE_OPENAI_BASE_URL', path: 'providers.openai.base_url', kind: 'string' },
  { env: 'ALTRACE_ANTHROPIC_BASE_URL', path: 'providers.anthropic.base_url', kind: 'string' },
  { env: 'ALTRACE_GEMINI_BASE_URL', path: 'providers.gemini.base_url', kind: 'string' },
  { env: 'AZURE_OPENAI_ENDPOINT', path: 'providers.azure.endpoint', kind: 'string' },
  { env: 'ALTRACE_BEDROCK_BASE_URL', path: 'providers.bedrock.base_url', kind: 'string' },
  { env: 'ALTRACE_BEDROCK_REGION', path: 'providers.bedrock.region', kind: 'string' },
  { env: 'ALTRACE_BEDROCK_AWS_CHAIN', path: 'providers.bedrock.aws_chain', kind: 'bool' },
];
