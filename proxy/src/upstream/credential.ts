/** A real provider credential, as the credential lane holds it. Never logged, never returned. */
export type Credential =
  | { type: 'api-key'; value: string }
  | { type: 'aws-sigv4'; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | { type: 'none' };

/** Where the credential lane reads real credentials at the moment a request leaves. */
export interface CredentialSource {
  /** `team`: the requesting agent's team; a credential held for that team wins over the upstream's own. */
  get(upstream: string, team?: string): Credential | null | Promise<Credential | null>;
  /** Why an upstream has no credential, when the source knows (a malformed secret file). */
  problem?(upstream: string): string | null;
}
