// The MCP registry's identity checks: which package a server's command launches (as server.json
// names packages), and stage mcp-registry holding relays and URLs against the registry entry.
import test from 'ava';
import { mcpRegistry } from '../../proxy/src/chain/stages/mcp-registry.js';
import type { RequestContext } from '../../proxy/src/chain/context.js';
import { emptyCall } from '../../proxy/src/core/call-view.js';
import { formatPackage, launchedPackage, parsePackage } from '../../proxy/src/mcp-trust/package-identity.js';
import { compileMcpRegistry, registryProblem } from '../../proxy/src/policy/mcp-registry.js';
import { parseEgressEntry } from '../../proxy/src/policy/mcp-egress.js';
import { compilePolicy, PolicyHolder } from '../../proxy/src/policy/policy.js';
import { RELAYED_BASE } from '../../proxy/src/upstream/upstreams.js';

test('the package a command launches, as server.json names packages', (t) => {
  const cases: [string, string[], string | null][] = [
    ['npx', ['-y', '@modelcontextprotocol/server-filesystem@2026.8.31', '/data'], 'npm:@modelcontextprotocol/server-filesystem@2026.8.31'],
    ['npx', ['@modelcontextprotocol/server-memory'], 'npm:@modelcontextprotocol/server-memory@-'],
    ['npx', ['-p', 'mcp-remote@0.1.2', 'mcp-remote', 'https://x.example'], 'npm:mcp-remote@0.1.2'],
    ['/usr/bin/npx.cmd', ['--yes', 'some-server@1.0.0'], 'npm:some-server@1.0.0'],
    ['bunx', ['server-x@2.0.0'], 'npm:server-x@2.0.0'],
    ['uvx', ['mcp-server-fetch==2025.4.7'], 'pypi:mcp-server-fetch@2025.4.7'],
    ['uvx', ['--python', '3.12', 'Mcp-Server-Git@1.2.0'], 'pypi:mcp-server-git@1.2.0'],
    ['uvx', ['--from', 'mcp-server-time==0.6.2', 'mcp-server-time'], 'pypi:mcp-server-time@0.6.2'],
    ['pipx', ['run', 'mcp-server-sqlite==0.1.0'], 'pypi:mcp-server-sqlite@0.1.0'],
    ['docker', ['run', '-i', '--rm', '-e', 'GITHUB_TOKEN', 'ghcr.io/github/github-mcp-server:v0.9.1'], 'oci:ghcr.io/github/github-mcp-server@v0.9.1'],
    ['podman', ['run', '--rm', `mcp/fetch@sha256:${'a'.repeat(64)}`], `oci:mcp/fetch@sha256:${'a'.repeat(64)}`],
    ['node', ['/srv/app/node_modules/@scope/server/dist/index.js'], 'npm:@scope/server@-'],
    ['node', ['/opt/notes/server.js'], null],
    ['python', ['-m', 'notes_server'], null],
    ['docker', ['ps'], null],
  ];
  for (const [command, args, expected] of cases) {
    const p = launchedPackage(command, args);
    t.is(p ? formatPackage(p) : null, expected, `${command} ${args.join(' ')}`);
    if (p) t.deepEqual(parsePackage(formatPackage(p)), p, 'the header form reads back');
  }
  t.is(parsePackage('npm:nothing'), null);
  t.is(parsePackage('cargo:x@1'), null);
});

test('a package version in the registry must be one exact version', (t) => {
  const entry = (version: string) => ({ servers: { files: { server: { name: 'io.github.x/files', version: '1.0.0', packages: [{ registryType: 'npm', identifier: 'files', version }] } } } });
  t.is(registryProblem(entry('1.2.3')), null);
  for (const v of ['latest', '1.x', '1.*', '*']) t.like(registryProblem(entry(v)), { field: 'mcp.servers.files.server.packages.0.version' }, v);
});

test('provenance: required needs the repository to hold it to and an npm package to verify, named at the field', (t) => {
  const server = { name: 'io.github.x/files', version: '1.0.0', repository: { url: 'https://github.com/x/files', source: 'github' }, packages: [{ registryType: 'npm', identifier: 'files', version: '1.0.0' }] };
  t.is(registryProblem({ servers: { files: { provenance: 'required', server } } }), null);
  const noRepository = registryProblem({ servers: { files: { provenance: 'required', server: { ...server, repository: undefined } } } });
  t.is(noRepository?.field, 'mcp.servers.files.provenance');
  t.regex(noRepository?.message ?? '', /server\.repository\.url/);
  const noNpm = registryProblem({ servers: { files: { provenance: 'required', server: { ...server, packages: [{ registryType: 'pypi', identifier: 'files', version: '1.0.0' }] } } } });
  t.is(noNpm?.field, 'mcp.servers.files.provenance');
  t.regex(noNpm?.message ?? '', /an npm package/);
  t.like(registryProblem({ servers: { files: { provenance: 'required' } } }), { field: 'mcp.servers.files.provenance' });
});

function stageFor(servers: Record<string, unknown>, urls: Record<string, string>) {
  const policy = new PolicyHolder(compilePolicy({ version: 1, mcp: { servers } } as never, 'test'));
  return mcpRegistry(policy, new Map(Object.entries(urls)));
}

function request(server: string, method: string, headers: Record<string, string> = {}): RequestContext {
  return { headers, ingress: { method }, call: { ...emptyCall('mcp', `mcp:${server}`, 'mcp'), mcp: { server, batch: false, messages: [] } } } as unknown as RequestContext;
}

const memoryJson = { name: 'io.github.modelcontextprotocol/server-memory', version: '2026.8.31', packages: [{ registryType: 'npm', identifier: '@modelcontextprotocol/server-memory', version: '2026.8.31', transport: { type: 'stdio' } }] };

test('egress entries: addresses, CIDRs and host names with optional ports; what cannot be enforced is refused at its field', (t) => {
  t.deepEqual(parseEgressEntry('10.0.0.0/8'), { kind: 'net', net: '10.0.0.0/8', ports: [] });
  t.deepEqual(parseEgressEntry('192.0.2.10:443,8443'), { kind: 'net', net: '192.0.2.10', ports: [443, 8443] });
  t.deepEqual(parseEgressEntry('[2001:db8::1]:443'), { kind: 'net', net: '2001:db8::1', ports: [443] });
  t.deepEqual(parseEgressEntry('2001:db8::/32'), { kind: 'net', net: '2001:db8::/32', ports: [] });
  t.deepEqual(parseEgressEntry('API.GitHub.com.:443'), { kind: 'host', host: 'api.github.com', ports: [443] });
  t.deepEqual(parseEgressEntry('registry.npmjs.org'), { kind: 'host', host: 'registry.npmjs.org', ports: [] });
  for (const [bad, why] of [
    ['*.github.com', /a pattern cannot be resolved/],
    ['api.github.com:0', /port out of range/],
    ['api.github.com:http', /not an address, CIDR or host name/],
    ['999.1.1.1', /not an address, CIDR or host name/],
    ['-bad-.example', /not an address, CIDR or host name/],
    ['exa mple.com', /not an address, CIDR or host name/],
  ] as const) {
    t.throws(() => parseEgressEntry(bad), { message: why }, bad);
  }
  const problem = (egress: string[]) => registryProblem({ servers: { files: { egress } } });
  t.is(problem(['127.0.0.1:5432', 'api.github.com:443']), null);
  t.like(problem(['127.0.0.1', '*.example.com']), { field: 'mcp.servers.files.egress.1' });
  t.like(problem(['a.example:1,2,3,4,5', 'b.example:6,7,8,9']), { field: 'mcp.servers.files.egress.1', message: 'names 9 distinct ports: at most 8 per server' });
  t.deepEqual(compileMcpRegistry({ servers: { files: { egress: [] }, open: {} } }).get('files')!.egress, [], '[] declares egress: nothing');
  t.is(compileMcpRegistry({ servers: { open: {} } }).get('open')!.egress, null, 'absent: not declared');
});

test('a relay opens only for a launch of a package the registry lists, at its version; later messages through it are not asked again', (t) => {
  const stage = stageFor({ memory: { server: memoryJson } }, { 'mcp:memory': RELAYED_BASE });
  const open = (pkg?: string) => stage.evaluate(request('memory', 'GET', { 'x-altrace-relay': 'open', ...(pkg ? { 'x-altrace-mcp-package': pkg } : {}) }));
  t.is(open('npm:@modelcontextprotocol/server-memory@2026.8.31'), null);
  const older = open('npm:@modelcontextprotocol/server-memory@2025.1.1');
  t.like(older, { outcome: 'block', reason: 'ALT_MCP_SERVER_MISMATCH', stage: 'mcp-registry' });
  t.regex((older as { detail: string }).detail, /launched npm:@modelcontextprotocol\/server-memory@2025\.1\.1; the registry lists npm:@modelcontextprotocol\/server-memory@2026\.8\.31/);
  t.like(open('npm:@modelcontextprotocol/server-memory@-'), { reason: 'ALT_MCP_SERVER_MISMATCH' }, 'an unpinned launch is not the listed version');
  t.like(open('npm:@evil/server-memory@2026.8.31'), { reason: 'ALT_MCP_SERVER_MISMATCH' }, 'a look-alike package');
  t.like(open(), { reason: 'ALT_MCP_SERVER_MISMATCH' }, 'a launch the wrap could not name');
  t.is(stage.evaluate(request('memory', 'POST', { 'x-altrace-relay': '0'.repeat(32) })), null, 'messages through an opened relay');
});

test('an HTTP server is reached only at a URL its registry entry lists; a blocked server not at all; unlisted servers are not checked', (t) => {
  const remote = { name: 'com.example/docs', version: '1.0.0', remotes: [{ type: 'streamable-http', url: 'https://docs-mcp.example.com/mcp/' }] };
  const stage = stageFor({ docs: { server: remote }, moved: { server: remote }, old: { trust: 'blocked' } }, { 'mcp:docs': 'https://DOCS-MCP.example.com/mcp', 'mcp:moved': 'https://docs-mcp.example.net/mcp', 'mcp:old': 'https://old.example.com/' });
  t.is(stage.evaluate(request('docs', 'POST')), null, 'the same URL in another spelling');
  t.like(stage.evaluate(request('moved', 'POST')), { reason: 'ALT_MCP_SERVER_MISMATCH' });
  t.like(stage.evaluate(request('old', 'POST')), { reason: 'ALT_MCP_SERVER_BLOCKED' });
  t.is(stage.evaluate(request('elsewhere', 'POST')), null);
});
