/**
 * Headers of every page: a CSP allowing only our own scripts (islands are
 * external files, so no inline script at all) and no framing. No
 * Cross-Origin-Opener-Policy: on the consent popup it would cut
 * `window.opener` and the handshake would silently never complete.
 */
export const PAGE_SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; "),
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};
