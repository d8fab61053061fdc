// The admin API (/admin/v1/...), called with the admin token as the bearer; see docs/admin.md.

import { request } from "./api.js";

export class AdminApi {
  /** @param {() => string} token where to read the admin token from when a call is made */
  constructor(token) {
    this.token = token;
  }

  /** Every key, bootstrap keys first, then by creation. */
  async keys() {
    return (await this.#call("GET", "/admin/v1/keys")).keys;
  }

  /** {name, expires_at?, limits?, labels?} -> the key plus its "secret", shown this once. */
  create(fields) {
    return this.#call("POST", "/admin/v1/keys", fields);
  }

  /** Any of {name, limits, labels, expires_at}; within limits, null goes back to the default. */
  update(id, fields) {
    return this.#call("PATCH", `/admin/v1/keys/${encodeURIComponent(id)}`, fields);
  }

  revoke(id) {
    return this.#call("DELETE", `/admin/v1/keys/${encodeURIComponent(id)}`);
  }

  /** A new secret; the old one keeps working for graceSeconds. */
  rotate(id, graceSeconds) {
    return this.#call("POST", `/admin/v1/keys/${encodeURIComponent(id)}/rotate`, { grace_seconds: graceSeconds });
  }

  /** {granularity, from, to, rows: [{key, name, period, images, ...}]} for whole UTC days from..to. */
  usage(fromDate, toDate) {
    const query = new URLSearchParams({ from: fromDate, to: toDate, granularity: "day" });
    return this.#call("GET", `/admin/v1/usage?${query}`);
  }

  /** The unauthenticated health document: which engines this server has. */
  health() {
    return request("GET", "/healthz");
  }

  #call(method, path, json) {
    return request(method, path, { json, token: this.token() });
  }
}
