/**
 * The URL of an HTTP request target, against `origin` (scheme and host, no path). An
 * origin-form target is a path, even one that starts with `//`: WHATWG URL parsing would read
 * `//x/v1/models` as scheme-relative, take `x` for a host and route the request as
 * `/v1/models`. An absolute-form target (`http://host/path`) keeps its own path. Throws, as
 * `new URL` does, on a target no URL can be made of.
 */
export function targetUrl(target: string, origin: string): URL {
  return target.startsWith('//') ? new URL(origin + target) : new URL(target, origin);
}
