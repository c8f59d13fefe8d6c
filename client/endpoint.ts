// What a subscription may name as its endpoint and headers, defined once: the client checks it when
// a subscription is made, and the delivering activity again before every request. An endpoint is
// not patient data, but it is where the engine sends requests, so it is held to a narrow shape.

export const ENDPOINT_MAX = 2048;
export const HEADERS_MAX = 5;
export const HEADER_MAX = 1024;

/** Why this URL cannot be an endpoint, or undefined when it can. Never repeats the URL. */
export function endpointProblem(endpoint: unknown): string | undefined {
  if (typeof endpoint !== 'string' || endpoint.length === 0 || endpoint.length > ENDPOINT_MAX) return `must be a URL of at most ${ENDPOINT_MAX} characters`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be http or https';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (send them in a header)';
  if (url.hash !== '') return 'must not have a fragment';
  return undefined;
}

/** Why these headers cannot be sent, or undefined. Each is `Name: value`, one line, no values repeated. */
export function headersProblem(headers: unknown): string | undefined {
  if (!Array.isArray(headers) || headers.length > HEADERS_MAX) return `must be a list of at most ${HEADERS_MAX} headers`;
  for (const [i, h] of headers.entries()) {
    if (typeof h !== 'string' || h.length > HEADER_MAX || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}:[\t\x20-\x7e]*$/.test(h)) return `[${i}] must be 'Name: value' on one line of at most ${HEADER_MAX} printable characters`;
    const name = h.slice(0, h.indexOf(':')).toLowerCase();
    if (['host', 'content-length', 'content-type', 'transfer-encoding', 'connection'].includes(name)) return `[${i}] may not set ${name}`;
  }
  return undefined;
}

/** The headers as fetch takes them. */
export function headerPairs(headers: readonly string[]): Array<[string, string]> {
  return headers.map((h) => {
    const at = h.indexOf(':');
    return [h.slice(0, at).trim(), h.slice(at + 1).trim()];
  });
}
