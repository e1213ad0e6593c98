// What the mcp-registry stage asks when a server's registry entry requires provenance: does the
// package a wrap launches carry npm provenance that verifies and names the listed repository? The
// answer comes from the agent (Sigstore's verifier, the attestation cache, the registry), which
// this folder does not import: the stage only holds the question.
import type { PackageRef } from './package-identity.js';

export interface ProvenanceAnswer {
  ok: boolean;
  /** What was found, for the refusal and the audit record: absent, invalid, mismatch, or what verified. */
  detail: string;
}

/** Asked once per launch that needs it; the agent caches what verified. */
export type ProvenanceGate = (launched: PackageRef & { version: string }, expectedRepository: string, registryBaseUrl: string | null) => ProvenanceAnswer | Promise<ProvenanceAnswer>;
