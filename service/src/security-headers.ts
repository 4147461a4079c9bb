import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * helmet's security headers for `options`, computed once. With fixed options (no nonces, no
 * per-request directive functions) helmet writes the same headers on every answer, and running
 * its middleware per request (the Content-Security-Policy string is rebuilt each time) cost about
 * 0.1 ms of an order-sign call; the service sets this object on every reply instead.
 */
export function staticSecurityHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
    getHeader(name: string) {
      return headers[name.toLowerCase()];
    },
  };
  let done = false;
  helmet(options)(
    { headers: {} } as IncomingMessage,
    response as unknown as ServerResponse,
    (error?: unknown) => {
      if (error) throw error;
      done = true;
    },
  );
  // helmet 8 calls back synchronously; anything else would mean headers that depend on the request.
  if (!done) throw new Error('helmet did not finish synchronously: its headers cannot be precomputed');
  return Object.freeze(headers);
}

/** The service's headers: helmet's defaults, without upgrade-insecure-requests. */
export const SECURITY_HEADERS = staticSecurityHeaders({
  // Hospital intranets often serve plain HTTP: forcing https for subresources would break /docs.
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
});
