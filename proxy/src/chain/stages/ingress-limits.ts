import type { RequestStage } from '../stage.js';
import { block } from '../../core/verdict.js';

const ID = 'ingress-limits';

/** Refuses what is not a well-formed request to a served path, before anything else looks at it. */
export function ingressLimits(maxBodyBytes: number, maxJsonDepth: number): RequestStage {
  return {
    id: ID,
    band: 'ingress',
    side: 'request',
    place: 'loop',
    summary: 'unknown paths, wrong methods, oversized bodies, non-JSON content types, malformed JSON, JSON nested too deep and bodies of the wrong shape',
    evaluate({ ingress }) {
      if (!ingress.routed) return block(ID, 'ALT_UNKNOWN_PATH', `${ingress.method} ${ingress.path}`);
      if (!ingress.methodAllowed) return block(ID, 'ALT_METHOD_NOT_ALLOWED', ingress.method);
      if (ingress.tooLarge) return block(ID, 'ALT_BODY_TOO_LARGE', `body exceeds ${maxBodyBytes} bytes`);
      if (!ingress.expectsBody) return null;
      if (ingress.contentType !== null && !/^application\/(.+\+)?json\b/i.test(ingress.contentType)) {
        return block(ID, 'ALT_UNSUPPORTED_MEDIA_TYPE', `content-type ${ingress.contentType.slice(0, 80)}`);
      }
      if (ingress.jsonTooDeep) {
        return block(ID, 'ALT_JSON_TOO_DEEP', ingress.jsonError!, `Nest arrays and objects at most ${maxJsonDepth} levels deep (limits.max_json_depth).`);
      }
      if (ingress.jsonError !== null) {
        return block(ID, 'ALT_MALFORMED_JSON', ingress.jsonError, `Send a complete, valid JSON body (${ingress.jsonError}).`);
      }
      if (ingress.shapeError !== null) {
        return block(ID, 'ALT_INVALID_REQUEST', ingress.shapeError, `Fix the request body: ${ingress.shapeError}.`);
      }
      return null;
    },
  };
}
