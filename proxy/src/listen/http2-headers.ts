import { maxHeaderSize } from 'node:http';
import type { Http2Server, Http2ServerRequest, Http2ServerResponse, ServerOptions } from 'node:http2';
import { protocolErrorReply, type ProtocolErrorSink } from './protocol.js';

/**
 * HTTP/2 request headers are held to the limit HTTP/1.1's parser applies (http.maxHeaderSize,
 * 16 KiB by default), answered the same way: 431 ALT_HEADERS_TOO_LARGE in JSON. node:http2
 * alone accepts up to 64 KiB and 128 header fields and refuses beyond that with a bare stream
 * reset; the fields it let through then reached the provider, whose own parser answered a
 * bare 431 (found by the fuzz test). Its pair limit is raised so that the size, counted as
 * HTTP/1.1 counts it, is what decides.
 */
export const HTTP2_HEADER_OPTIONS: ServerOptions = { maxHeaderListPairs: 4096 };

export function limitHttp2Headers(server: Http2Server, sink?: ProtocolErrorSink): Http2Server {
  const handlers = server.listeners('request') as ((req: Http2ServerRequest, res: Http2ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    if (headerBytes(req.rawHeaders) <= maxHeaderSize) {
      for (const handler of handlers) handler.call(server, req, res);
      return;
    }
    sink?.('ALT_HEADERS_TOO_LARGE');
    const reply = protocolErrorReply('ALT_HEADERS_TOO_LARGE', `the request headers are larger than ${maxHeaderSize} bytes; the stream is closed`);
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  });
  return server;
}

/** Name, value and the four bytes of ": " and CRLF per field, as they would stand in HTTP/1.1. */
function headerBytes(raw: string[]): number {
  let n = 0;
  for (const part of raw) n += part.length + 2;
  return n;
}
