// Findings as SARIF 2.1.0, the format code-scanning services (GitHub, GitLab, Azure DevOps) read.
import type { ConfigFinding, Severity } from './config-checks.js';

const LEVEL: Record<Severity, 'note' | 'warning' | 'error'> = { low: 'note', medium: 'warning', high: 'error', critical: 'error' };
/** GitHub orders code-scanning alerts by this property (0.1–10). */
const SECURITY_SEVERITY: Record<Severity, string> = { low: '3.0', medium: '5.5', high: '8.0', critical: '9.5' };

export function toSarif(findings: readonly ConfigFinding[], version: string): object {
  const rules = [...new Map(findings.map((f) => [f.rule, f])).values()].map((f) => ({
    id: f.rule,
    shortDescription: { text: f.rule.replace(/-/g, ' ') },
    properties: { 'security-severity': SECURITY_SEVERITY[f.severity], tags: ['security', 'mcp'] },
  }));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'altrace mcp scan', version, rules } },
        results: findings.map((f) => ({
          ruleId: f.rule,
          level: LEVEL[f.severity],
          message: { text: `${f.server}: ${f.message}` },
          locations: [{ physicalLocation: { artifactLocation: { uri: f.file } }, logicalLocations: [{ fullyQualifiedName: f.at, kind: 'object' }] }],
          properties: { severity: f.severity },
        })),
      },
    ],
  };
}
