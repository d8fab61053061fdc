/**
 * Calls the service makes to URLs its users chose (webhooks, edits' input images), guarded
 * against server-side request forgery: {@link dev.qwenimage.outbound.OutboundUrl} checks a URL's
 * syntax without throwing, {@link dev.qwenimage.outbound.OutboundGuard} decides which hosts and
 * addresses may be reached (public ones, plus an operator's allow-list), and
 * {@link dev.qwenimage.outbound.OutboundHttp} connects only to the addresses the guard checked:
 * one DNS resolution, then the connection goes to exactly those addresses, so a name cannot
 * resolve to a public address for the check and to an internal one for the connection (DNS
 * rebinding). One guard and one client are built at start-up and shared by every caller, with one
 * allow-list (QWEN_IMAGE_OUTBOUND_ALLOW). Callers depend on this package; it depends on none of theirs.
 */
package dev.qwenimage.outbound;
