import { describe, expect, it } from 'vitest';
import { SECURITY_HEADERS, staticSecurityHeaders } from './security-headers.js';

describe('staticSecurityHeaders', () => {
  it("computes helmet's default headers once", () => {
    expect(Object.keys(SECURITY_HEADERS).sort()).toEqual([
      'content-security-policy',
      'cross-origin-opener-policy',
      'cross-origin-resource-policy',
      'origin-agent-cluster',
      'referrer-policy',
      'strict-transport-security',
      'x-content-type-options',
      'x-dns-prefetch-control',
      'x-download-options',
      'x-frame-options',
      'x-permitted-cross-domain-policies',
      'x-xss-protection',
    ]);
    expect(SECURITY_HEADERS['x-content-type-options']).toBe('nosniff');
    expect(SECURITY_HEADERS['x-frame-options']).toBe('SAMEORIGIN');
    expect(SECURITY_HEADERS['content-security-policy']).toContain("default-src 'self'");
    expect(SECURITY_HEADERS['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(Object.isFrozen(SECURITY_HEADERS)).toBe(true);
  });

  it('follows the options it is given', () => {
    const headers = staticSecurityHeaders({ frameguard: { action: 'deny' }, strictTransportSecurity: false });
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['strict-transport-security']).toBeUndefined();
    expect(headers['content-security-policy']).toContain('upgrade-insecure-requests');
  });
});
