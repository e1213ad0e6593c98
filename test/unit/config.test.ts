import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../agent/src/config/load.js';
import { ENV_OVERRIDES } from '../../agent/src/config/config.js';
import { loadPolicy } from '../../agent/src/policy/load.js';
import { ConfigError, PolicyError } from '../../agent/src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'altrace-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('defaults apply with no file and no env', (t) => {
  const c = loadConfig({ env: {} });
  t.is(c.listen.proxy_port, 8080);
  t.is(c.listen.control_port, 7070);
  t.is(c.listen.host, '127.0.0.1');
  t.true(c.enforce_only);
  t.true(c.state_dir.endsWith('.altrace'));
});

test('env overrides win over the file', (t) => {
  const p = file('a.yaml', 'listen:\n  proxy_port: 9000\n');
  t.is(loadConfig({ file: p, env: {} }).listen.proxy_port, 9000);
  t.is(loadConfig({ file: p, env: { ALTRACE_PROXY_PORT: '9100' } }).listen.proxy_port, 9100);
});

test('an invalid file is refused naming the offending field', (t) => {
  const e1 = t.throws(() => loadConfig({ file: file('b.yaml', 'listen:\n  proxy_port: "eighty"\n'), env: {} }), { instanceOf: ConfigError });
  t.is(e1!.field, 'listen.proxy_port');
  const e2 = t.throws(() => loadConfig({ file: file('c.yaml', 'limits:\n  max_bodybytes: 5\n'), env: {} }), { instanceOf: ConfigError });
  t.is(e2!.field, 'limits.max_bodybytes');
  const e3 = t.throws(() => loadConfig({ env: { ALTRACE_ENFORCE_ONLY: 'maybe' } }), { instanceOf: ConfigError });
  t.is(e3!.field, 'ALTRACE_ENFORCE_ONLY');
});

test('every override names a setting that exists in the schema', (t) => {
  // Settings that only take a fixed set of values, or that need their companions.
  const valid: Record<string, Record<string, string>> = {
    ALTRACE_SCAN_WORKERS: { ALTRACE_SCAN_WORKERS: '2' },
    ALTRACE_MCP_PROVENANCE_TIMEOUT_MS: { ALTRACE_MCP_PROVENANCE_TIMEOUT_MS: '3000' },
    ALTRACE_VAULT_ADDR: { ALTRACE_VAULT_ADDR: 'https://vault.example:8200' },
    ALTRACE_VAULT_TOKEN_FILE: { ALTRACE_VAULT_ADDR: 'https://vault.example:8200', ALTRACE_VAULT_TOKEN_FILE: '/var/run/vault/token' },
    ALTRACE_VAULT_MOUNT: { ALTRACE_VAULT_ADDR: 'https://vault.example:8200', ALTRACE_VAULT_MOUNT: 'kv' },
    ALTRACE_VAULT_PREFIX: { ALTRACE_VAULT_ADDR: 'https://vault.example:8200', ALTRACE_VAULT_PREFIX: 'teams/ai' },
    ALTRACE_VAULT_REFRESH_S: { ALTRACE_VAULT_ADDR: 'https://vault.example:8200', ALTRACE_VAULT_REFRESH_S: '30' },
    ALTRACE_CONTROL_CALLS_PER_MINUTE: { ALTRACE_CONTROL_CALLS_PER_MINUTE: '120' },
    ALTRACE_CONTROL_ALLOW_CIDRS: { ALTRACE_CONTROL_ALLOW_CIDRS: '10.0.0.0/8,2001:db8::/32' },
    ALTRACE_CONTROL_TRUSTED_PROXIES: { ALTRACE_CONTROL_TRUSTED_PROXIES: '10.0.0.5' },
    ALTRACE_NODE_ENFORCEMENT: { ALTRACE_NODE_ENFORCEMENT: 'bpf', ALTRACE_NODE_CGROUP: '/agents', ALTRACE_NODE_TRANSPARENT_HOST: '10.0.0.1' },
    ALTRACE_NODE_TRANSPARENT_PORT: { ALTRACE_NODE_TRANSPARENT_PORT: '15001' },
    ALTRACE_NODE_TLS: { ALTRACE_NODE_TLS: 'passthrough' },
    ALTRACE_MAX_JSON_DEPTH: { ALTRACE_MAX_JSON_DEPTH: '512' },
    ALTRACE_REQUEST_TIMEOUT_MS: { ALTRACE_REQUEST_TIMEOUT_MS: '60000' },
    ALTRACE_LOOPS: { ALTRACE_LOOPS: '4' },
    ALTRACE_CONTROL_PLANE: { ALTRACE_CONTROL_PLANE: 'https://cp.example:7443', ALTRACE_FLEET_CA_FILE: '/etc/altrace/fleet-ca.pem' },
    ALTRACE_NODE_NAME: { ALTRACE_NODE_NAME: 'node-a' },
    ALTRACE_FLEET_ON_STALE: { ALTRACE_FLEET_ON_STALE: 'fail_static' },
    ALTRACE_FLEET_MAX_STALENESS_S: { ALTRACE_FLEET_MAX_STALENESS_S: '30' },
    ALTRACE_FLEET_LEASE_TTL_S: { ALTRACE_FLEET_LEASE_TTL_S: '60' },
    ALTRACE_KUBERNETES_API_SERVER: { ALTRACE_KUBERNETES_API_SERVER: 'https://10.96.0.1:443' },
    ALTRACE_KUBERNETES_WATCH_INACTIVITY_S: { ALTRACE_KUBERNETES_WATCH_INACTIVITY_S: '30' },
    ALTRACE_KUBERNETES_ENFORCE: { ALTRACE_KUBERNETES_ENFORCE: 'labeled' },
    ALTRACE_FLEET_ENROLL_SERVICE_ACCOUNTS: { ALTRACE_FLEET_ENROLL_SERVICE_ACCOUNTS: 'altrace-system/altrace-agent, other/agent' },
    ALTRACE_CONTROL_FORWARDED_HEADER: { ALTRACE_CONTROL_FORWARDED_HEADER: 'forwarded' },
    ALTRACE_CONTROL_TLS_CERT_FILE: { ALTRACE_CONTROL_TLS_CERT_FILE: '/etc/altrace/tls/tls.crt', ALTRACE_CONTROL_TLS_KEY_FILE: '/etc/altrace/tls/tls.key' },
    ALTRACE_CONTROL_TLS_KEY_FILE: { ALTRACE_CONTROL_TLS_CERT_FILE: '/etc/altrace/tls/tls.crt', ALTRACE_CONTROL_TLS_KEY_FILE: '/etc/altrace/tls/tls.key' },
    ALTRACE_CONTROL_TLS_CLIENT_AUTH: { ALTRACE_CONTROL_TLS_CLIENT_AUTH: 'required' },
    ALTRACE_CONTROL_TLS_CRL_FILE: { ALTRACE_CONTROL_TLS_CLIENT_CA_FILE: '/etc/altrace/ca.crt', ALTRACE_CONTROL_TLS_CRL_FILE: '/etc/altrace/ca.crl' },
    ALTRACE_KUBERNETES_LEADER_ELECTION_RETRY_PERIOD_S: { ALTRACE_KUBERNETES_LEADER_ELECTION_RETRY_PERIOD_S: '3' },
    ALTRACE_KUBERNETES_LEADER_ELECTION_LEASE: { ALTRACE_KUBERNETES_LEADER_ELECTION_LEASE: 'altrace-system/cp-leader' },
    ALTRACE_KUBERNETES_LEADER_ELECTION_LEASE_DURATION_S: { ALTRACE_KUBERNETES_LEADER_ELECTION_LEASE_DURATION_S: '30' },
    ALTRACE_KUBERNETES_LEADER_ELECTION_RENEW_DEADLINE_S: { ALTRACE_KUBERNETES_LEADER_ELECTION_RENEW_DEADLINE_S: '5' },
    // The webhook needs its certificate, its key and the CA pods must trust.
    ALTRACE_KUBERNETES_WEBHOOK_ENABLED: { ALTRACE_KUBERNETES_WEBHOOK_ENABLED: 'true', ALTRACE_KUBERNETES_WEBHOOK_CERT_FILE: '/w/tls.crt', ALTRACE_KUBERNETES_WEBHOOK_KEY_FILE: '/w/tls.key', ALTRACE_KUBERNETES_WEBHOOK_TRUST_CA_FILE: '/n/tls.crt' },
    ALTRACE_KUBERNETES_FLEET_CA_CONFIGMAP: { ALTRACE_KUBERNETES_FLEET_CA_CONFIGMAP: 'altrace-system/altrace-fleet-ca' },
    // The interception CA is a certificate and its key, or neither.
    ALTRACE_NODE_CA_CERT_FILE: { ALTRACE_NODE_CA_CERT_FILE: '/etc/altrace/node-ca/tls.crt', ALTRACE_NODE_CA_KEY_FILE: '/etc/altrace/node-ca/tls.key' },
    ALTRACE_NODE_CA_KEY_FILE: { ALTRACE_NODE_CA_CERT_FILE: '/etc/altrace/node-ca/tls.crt', ALTRACE_NODE_CA_KEY_FILE: '/etc/altrace/node-ca/tls.key' },
  };
  for (const o of ENV_OVERRIDES) {
    const env: Record<string, string> = valid[o.env] ? valid[o.env]! : { [o.env]: o.kind === 'int' ? '2048' : o.kind === 'number' ? '1.5' : o.kind === 'bool' ? 'true' : o.path.includes('url') || o.path.includes('endpoint') ? 'http://127.0.0.1:1' : o.path === 'log.level' ? 'warn' : 'some-value-xxxxxxxxxx' };
    t.notThrows(() => loadConfig({ env }), o.env);
  }
});

test('policy files: valid, unknown field, bad regex, duplicate ids', (t) => {
  t.is(loadPolicy(file('p1.yaml', 'version: 1\nmodels:\n  openai: ["gpt-*"]\n')).catalog.get('openai')!.length, 1);
  const e1 = t.throws(() => loadPolicy(file('p2.yaml', 'version: 1\nmodel: {}\n')), { instanceOf: PolicyError });
  t.is(e1!.field, 'model');
  const e2 = t.throws(() => loadPolicy(file('p3.yaml', 'version: 1\nresponse:\n  deny_patterns:\n    - id: x\n      pattern: "(("\n')), { instanceOf: PolicyError });
  t.is(e2!.field, 'response.deny_patterns.0.pattern');
  const e3 = t.throws(() => loadPolicy(file('p4.yaml', 'version: 1\nresponse:\n  deny_patterns:\n    - {id: x, pattern: a}\n    - {id: x, pattern: b}\n')), { instanceOf: PolicyError });
  t.is(e3!.field, 'response.deny_patterns.1.id');
  // An MCP server's egress the kernel could not hold: refused at load, not at the server's launch.
  for (const [net, why] of [['10.0.0.1/8', /host bits set beyond \/8/], ['10.0.0.0/33', /prefix length must be 0-32/]] as const) {
    const e = t.throws(() => loadPolicy(file('p5.yaml', `version: 1\nmcp:\n  servers:\n    files:\n      egress: ["127.0.0.1:5432", "${net}"]\n`)), { instanceOf: PolicyError });
    t.is(e!.field, 'mcp.servers.files.egress.1');
    t.regex(e!.message, why);
  }
});

test('a scan worker heap too small for the largest body is refused, naming both settings', (t) => {
  const err = t.throws(() => loadConfig({ env: { ALTRACE_MAX_BODY_BYTES: String(100 << 20), ALTRACE_SCAN_WORKER_HEAP_MB: '256' } }));
  t.regex(err!.message, /scan\.worker_heap_mb 256 must be at least 4 × limits\.max_body_bytes \(400 MB\)/);
  t.is(loadConfig({ env: { ALTRACE_MAX_BODY_BYTES: String(100 << 20), ALTRACE_SCAN_WORKER_HEAP_MB: '400' } }).scan.worker_heap_mb, 400);
});

test('a header timeout longer than the request timeout is refused, naming both settings; the JSON depth is bounded', (t) => {
  const err = t.throws(() => loadConfig({ env: { ALTRACE_HEADERS_TIMEOUT_MS: '30000', ALTRACE_REQUEST_TIMEOUT_MS: '10000' } }));
  t.regex(err!.message, /listen\.headers_timeout_ms 30000 must not exceed listen\.request_timeout_ms 10000/);
  const defaults = loadConfig({ env: {} });
  t.is(defaults.limits.max_json_depth, 256);
  t.is(defaults.listen.headers_timeout_ms, 20000);
  const deep = t.throws(() => loadConfig({ env: { ALTRACE_MAX_JSON_DEPTH: '100000' } }));
  t.regex(deep!.message, /max_json_depth/);
});

test('fleet: a control plane needs the CA it is trusted by; its URL must be https', (t) => {
  const noCa = t.throws(() => loadConfig({ env: { ALTRACE_CONTROL_PLANE: 'https://cp.example:7443' } })) as ConfigError;
  t.is(noCa.field, 'fleet.ca_file');
  const plain = t.throws(() => loadConfig({ env: { ALTRACE_CONTROL_PLANE: 'http://cp.example:7443', ALTRACE_FLEET_CA_FILE: '/ca.pem' } })) as ConfigError;
  t.is(plain.field, 'fleet.control_plane');
  const c = loadConfig({ env: {} });
  t.is(c.fleet.control_plane, undefined, 'a single node by default');
  t.like(c.fleet, { max_staleness_s: 30, on_stale: 'fail_closed', lease_max_usd: 5, lease_ttl_s: 60 });
});

test('node enforcement: off by default; bpf needs the governed cgroup and the transparent address', (t) => {
  t.is(loadConfig({ env: {} }).node.enforcement, 'off');
  const noCgroup = t.throws(() => loadConfig({ env: { ALTRACE_NODE_ENFORCEMENT: 'bpf', ALTRACE_NODE_TRANSPARENT_HOST: '10.0.0.1' } }));
  t.is((noCgroup as { field?: string }).field, 'node.cgroup');
  const noHost = t.throws(() => loadConfig({ env: { ALTRACE_NODE_ENFORCEMENT: 'bpf', ALTRACE_NODE_CGROUP: '/agents' } }));
  t.is((noHost as { field?: string }).field, 'node.transparent_host');
  const halfCa = t.throws(() => loadConfig({ env: { ALTRACE_NODE_CA_CERT_FILE: '/etc/altrace/node-ca/tls.crt' } }));
  t.is((halfCa as { field?: string }).field, 'node.ca_key_file', 'an interception CA without its key is refused at start');
  const webhook = t.throws(() => loadConfig({ env: { ALTRACE_KUBERNETES_WEBHOOK_ENABLED: 'true', ALTRACE_KUBERNETES_WEBHOOK_CERT_FILE: '/w/tls.crt' } }));
  t.is((webhook as { field?: string }).field, 'kubernetes.webhook.key_file', 'a webhook without its key is refused at start');
  const bad = t.throws(() => loadConfig({ env: { ALTRACE_NODE_ENFORCEMENT: 'iptables' } }));
  t.regex(bad!.message, /node\.enforcement/);
  const nft = loadConfig({ env: { ALTRACE_NODE_ENFORCEMENT: 'nftables', ALTRACE_NODE_TRANSPARENT_HOST: '10.0.0.1' } });
  t.deepEqual(nft.node.interfaces, ['veth*', 'cali*', 'lxc*'], 'the fallback needs no cgroup, and has default interfaces');
  const ok = loadConfig({ env: { ALTRACE_NODE_ENFORCEMENT: 'bpf', ALTRACE_NODE_CGROUP: '/agents', ALTRACE_NODE_TRANSPARENT_HOST: '10.0.0.1' } });
  t.like(ok.node, { enforcement: 'bpf', cgroup: '/agents', transparent_port: 15001, resolve_min_ttl_s: 5 });
});

test('listen.loops: 1 by default, 1 to 64; several loops cannot serve a stdio MCP server, and the refusal names the setting', (t) => {
  t.is(loadConfig({ env: {} }).listen.loops, 1);
  t.is(loadConfig({ env: { ALTRACE_LOOPS: '8' } }).listen.loops, 8);
  for (const bad of ['0', '65']) {
    const e = t.throws(() => loadConfig({ env: { ALTRACE_LOOPS: bad } }), { instanceOf: ConfigError });
    t.regex(e!.message, /listen\.loops/);
  }
  const stdio = file('loops-stdio.yaml', 'listen:\n  loops: 2\nmcp:\n  servers:\n    - name: files\n      transport: stdio\n');
  const e = t.throws(() => loadConfig({ file: stdio, env: {} }), { instanceOf: ConfigError });
  t.is(e!.field, 'listen.loops');
  t.regex(e!.message, /stdio MCP server files/);
  t.is(loadConfig({ file: stdio, env: { ALTRACE_LOOPS: '1' } }).listen.loops, 1, 'one loop serves it');
});
