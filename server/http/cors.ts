/**
 * CORS for the widget on a foreign page: the script itself is public, and the
 * API answers the page's own origin (origin checks happen before this).
 */
export function withCors(response: Response, request: Request): Response {
  const headers = new Headers(response.headers);
  headers.set('Access-Control-Allow-Origin', request.headers.get('Origin') ?? '*');
  headers.append('Vary', 'Origin');
  // A rate-limited page reads when to try again.
  headers.set('Access-Control-Expose-Headers', 'Retry-After');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

export function preflight(request: Request): Response {
  return new Response(null, {
    status: 204,
    headers: {
      'Access-Control-Allow-Origin': request.headers.get('Origin') ?? '*',
      'Access-Control-Allow-Methods': 'GET, HEAD, POST, OPTIONS',
      'Access-Control-Allow-Headers': request.headers.get('Access-Control-Request-Headers') ?? 'Content-Type',
      'Access-Control-Max-Age': '86400',
      Vary: 'Origin',
    },
  });
}
