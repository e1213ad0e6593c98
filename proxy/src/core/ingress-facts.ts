/** What the listener learned while receiving the request, before any stage ran. */
export interface IngressFacts {
  method: string;
  path: string;
  routed: boolean;
  methodAllowed: boolean;
  contentType: string | null;
  bodyBytes: number;
  tooLarge: boolean;
  /** JSON.parse message, when the body was not JSON. */
  jsonError: string | null;
  /** The body nests deeper than limits.max_json_depth (jsonError says so); it was not parsed. */
  jsonTooDeep: boolean;
  /** The adapter's complaint about the body's shape, naming the field. */
  shapeError: string | null;
  expectsBody: boolean;
}
