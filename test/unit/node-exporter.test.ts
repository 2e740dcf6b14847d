// The pure half of the node-exporter probe: the version from node_exporter_build_info and the
// metrics URL moved onto a Tailscale IP, and the host and port it points at.
import { describe, expect, it } from "vitest";
import { buildVersion, urlEndpoint, urlOnAddress } from "../../agent/probes/node-exporter";

// As Debian's prometheus-node-exporter 1.5.0 prints it.
const EXPOSITION = `# HELP node_exporter_build_info A metric with a constant '1' value labeled by version, revision, branch, goversion from which node_exporter was built, and the goos and goarch for the build.
# TYPE node_exporter_build_info gauge
node_exporter_build_info{branch="debian/sid",goarch="amd64",goos="linux",goversion="go1.19.8",revision="1.5.0-1+b6",version="1.5.0"} 1
# HELP node_textfile_scrape_error 1 if there was an error opening or reading a file, 0 otherwise
# TYPE node_textfile_scrape_error gauge
node_textfile_scrape_error 0
`;

describe("buildVersion", () => {
  it("reads the version label, not goversion", () => {
    expect(buildVersion(EXPOSITION)).toBe("1.5.0");
  });

  it("reads it whatever the label order", () => {
    expect(buildVersion('node_exporter_build_info{version="1.8.2",goversion="go1.22.5"} 1\n')).toBe("1.8.2");
  });

  it("is null without the build info line, or when only the HELP text mentions it", () => {
    expect(buildVersion("# HELP node_exporter_build_info version\nup 1\n")).toBeNull();
    expect(buildVersion("")).toBeNull();
  });
});

describe("urlOnAddress", () => {
  it("puts an IPv4 Tailscale IP in place of the host, keeping port and path", () => {
    expect(urlOnAddress("http://127.0.0.1:9100/metrics", "100.101.102.103")).toBe("http://100.101.102.103:9100/metrics");
  });

  it("brackets an IPv6 Tailscale IP", () => {
    expect(urlOnAddress("http://localhost:9100/metrics", "fd7a:115c:a1e0::1234:5678")).toBe("http://[fd7a:115c:a1e0::1234:5678]:9100/metrics");
  });

  it("keeps https, query and a default port", () => {
    expect(urlOnAddress("https://node1.example:443/metrics?collect[]=cpu", "100.64.0.9")).toBe("https://100.64.0.9/metrics?collect[]=cpu");
  });
});

describe("urlEndpoint", () => {
  it("gives the host and port doctor connects to: brackets off, the scheme's port when none is written", () => {
    expect(urlEndpoint("http://127.0.0.1:9100/metrics")).toEqual({ host: "127.0.0.1", port: 9100 });
    expect(urlEndpoint("http://prom:pw@[fd7a:115c:a1e0::1]:9100/metrics")).toEqual({ host: "fd7a:115c:a1e0::1", port: 9100 });
    expect(urlEndpoint("https://node1.example/metrics")).toEqual({ host: "node1.example", port: 443 });
    expect(urlEndpoint("http://node1.example/metrics")).toEqual({ host: "node1.example", port: 80 });
  });
});
