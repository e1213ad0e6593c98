import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../../proxy/src/index.js';
import type { BootstrapVerifier } from '../control-plane/enrollment.js';

/** A projected service-account token is a JWT: three base64url parts. */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Node enrollment with the node's own service-account token: the API server says whose it is
 * (a TokenReview, for the audience the DaemonSet projects it with), and it is accepted only for
 * the service accounts allowed to enroll (`namespace/name`). Any failure — the API server
 * unreachable, the token unknown, expired, for another audience or another account — refuses.
 */
export class TokenReviewVerifier implements BootstrapVerifier {
  readonly #api: AuthenticationV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly allowed: readonly string[],
    private readonly audience: string,
    private readonly logger: Logger,
  ) {
    this.#api = kubeConfig.makeApiClient(AuthenticationV1Api);
  }

  /** Whether a credential is for this verifier (a JWT), not an enrollment token. */
  static looksLikeToken(credential: string): boolean {
    return JWT.test(credential);
  }

  async verify(credential: string): Promise<{ admittedBy: string } | null> {
    let review;
    try {
      review = await this.#api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: credential, audiences: [this.audience] } } });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'TokenReview failed: the node is refused');
      return null;
    }
    const s = review.status;
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(s?.user?.username ?? '');
    if (!s?.authenticated || !m || !(s.audiences ?? []).includes(this.audience)) return null;
    const account = `${m[1]}/${m[2]}`;
    if (!this.allowed.includes(account)) {
      this.logger.warn({ service_account: account }, 'a service account not allowed to enroll nodes presented its token');
      return null;
    }
    const pod = s.user?.extra?.['authentication.kubernetes.io/pod-name']?.[0];
    return { admittedBy: `serviceaccount:${account}${pod ? ` pod ${pod}` : ''}` };
  }
}

/** Enrollment tokens and service-account tokens side by side: a JWT goes to the API server, anything else to the enrollment tokens. */
export class EitherVerifier implements BootstrapVerifier {
  constructor(
    private readonly tokens: BootstrapVerifier,
    private readonly reviews: TokenReviewVerifier,
  ) {}

  verify(credential: string): Promise<{ admittedBy: string } | null> {
    return TokenReviewVerifier.looksLikeToken(credential) ? this.reviews.verify(credential) : this.tokens.verify(credential);
  }
}
