package dev.qwenimage.support;

import java.net.URI;
import java.net.http.HttpRequest;

/** A client of the admin API (/admin/v1/), as an operator's script would call it. */
public final class Admin {
    private final Api http;
    private final String baseUrl;
    private final String token;

    public Admin(String baseUrl, String token) {
        this.baseUrl = baseUrl;
        this.token = token;
        this.http = new Api(baseUrl, "unused");
    }

    public Admin withToken(String other) {
        return new Admin(baseUrl, other);
    }

    public Api.Response get(String path) {
        return send("GET", path, null);
    }

    public Api.Response post(String path, String json) {
        return send("POST", path, json);
    }

    public Api.Response patch(String path, String json) {
        return send("PATCH", path, json);
    }

    public Api.Response delete(String path) {
        return send("DELETE", path, null);
    }

    /** Creates a key from {@code json} and returns the answer, failing unless it is 201. */
    public Api.Response create(String json) {
        Api.Response r = post("/admin/v1/keys", json);
        if (r.status() != 201) {
            throw new AssertionError("key creation answered " + r.status() + ": " + r.body());
        }
        return r;
    }

    public Api.Response send(String method, String path, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (json != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return http.send(b);
    }
}
