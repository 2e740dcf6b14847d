// Secrets out of what is shown: a URL's password, and the communities and keys of a whole config
// (the start-up log, `doctor`).

/**
 * A URL as logs, `status` and notifications may show it: the password of its userinfo (for a
 * node-exporter whose web config asks for basic auth) becomes <secret>, as Prometheus shows its
 * own. Works on the text, so a URL the config refuses is shown redacted in the error too; the
 * userinfo ends at the authority's last "@", as URL parsers read it.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (whole, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return colon < 0 ? whole : `${scheme}${userinfo.slice(0, colon)}:<secret>@`;
  });
}

const SECRET_KEYS = new Set(["community", "authKey", "privKey"]);
const URL_KEYS = new Set(["url", "alertmanager"]);

/** A config (or any part of it) with secrets replaced, for logs and `doctor`. */
export function redactConfig(config: unknown): unknown {
  return JSON.parse(
    JSON.stringify(config, (key, value) =>
      SECRET_KEYS.has(key) && typeof value === "string" && value !== ""
        ? "<redacted>"
        : key === "communities" && Array.isArray(value)
          ? value.map(() => "<redacted>")
          : URL_KEYS.has(key) && typeof value === "string"
            ? redactUrl(value)
            : value,
    ),
  );
}
