/**
 * `ALLOWED_ORIGINS` is a comma-separated list of origins. Unset means open.
 * Requests without an `Origin` header (not from a browser page) pass: the
 * check protects rooms from being embedded on other sites, it is not auth.
 */
export function isOriginAllowed(request: Request, allowedOrigins: string | undefined): boolean {
  if (!allowedOrigins?.trim()) return true;
  const origin = request.headers.get('Origin');
  if (origin === null) return true;
  return allowedOrigins
    .split(',')
    .map((allowed) => allowed.trim().replace(/\/+$/, ''))
    .includes(origin);
}
