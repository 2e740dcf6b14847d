// Length matches: a packet given its UDP payload size is judged by udp/ip/ip6/meta length and
// -m length as the kernel counts them; without a size they are unknown; `check` asks about the
// smallest and largest datagrams tailscaled sends and is unknown only when those differ.
import { describe, expect, it } from "vitest";
import { evaluate } from "../../agent/firewall/evaluate";
import { parseIptablesSave } from "../../agent/firewall/iptables-save";
import { parseNftJson } from "../../agent/firewall/nft-json";
import { makePacket, PacketError, type PacketSpec } from "../../agent/firewall/packet";
import { answerQuestions, TAILSCALED_DATAGRAM_BYTES } from "../../agent/firewall/questions";

const packet = (over: Partial<PacketSpec> = {}) => makePacket({ direction: "in", family: "ipv6", proto: "udp", saddr: "2001:db8::1", daddr: "2001:db8::2", sport: 41641, dport: 41641, iif: "eth0", ...over });

/** One input chain dropping what `left` reads as `lo`..`hi`. */
function dropping(left: unknown, lo: number, hi: number) {
  return parseNftJson(JSON.stringify({
    nftables: [
      { table: { family: "inet", name: "t", handle: 1 } },
      { chain: { family: "inet", table: "t", name: "in", handle: 1, type: "filter", hook: "input", prio: 0, policy: "accept" } },
      { rule: { family: "inet", table: "t", chain: "in", handle: 2, expr: [{ match: { op: "==", left, right: { range: [lo, hi] } } }, { drop: null }] } },
    ],
  }));
}

describe("length matches", () => {
  it("count the headers as the kernel does: udp 8 + payload, ip6 payload length the same, ip and meta the whole packet", () => {
    const udp = dropping({ payload: { protocol: "udp", field: "length" } }, 108, 108);
    expect(evaluate(udp, packet({ length: 100 })).verdict).toBe("drop");
    expect(evaluate(udp, packet({ length: 101 })).verdict).toBe("accept");
    expect(evaluate(dropping({ payload: { protocol: "ip6", field: "length" } }, 108, 108), packet({ length: 100 })).verdict).toBe("drop");
    expect(evaluate(dropping({ payload: { protocol: "ip", field: "length" } }, 128, 128), packet({ family: "ipv4", saddr: "192.0.2.1", daddr: "192.0.2.2", length: 100 })).verdict).toBe("drop");
    const meta = dropping({ meta: { key: "length" } }, 148, 148);
    expect(evaluate(meta, packet({ length: 100 })).verdict).toBe("drop");
    expect(evaluate(meta, packet({ family: "ipv4", saddr: "192.0.2.1", daddr: "192.0.2.2", length: 120 })).verdict).toBe("drop");
    const xt = parseIptablesSave("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m length --length 140:150 -j DROP\nCOMMIT\n", "iptables", "ipv6");
    expect(evaluate(xt, packet({ length: 100 })).verdict).toBe("drop");
    expect(evaluate(xt, packet({ length: 103 })).verdict).toBe("accept");
  });

  it("are unknown without a size (saying to give --length) and for TCP", () => {
    const udp = dropping({ payload: { protocol: "udp", field: "length" } }, 0, 100);
    expect(evaluate(udp, packet())).toMatchObject({ verdict: "unknown", reason: expect.stringContaining("give --length") });
    expect(evaluate(dropping({ meta: { key: "length" } }, 0, 100), packet({ proto: "tcp", length: 10 })).verdict).toBe("unknown");
    expect(() => packet({ length: 70000 })).toThrow(PacketError);
  });

  it("check: decided when tailscaled's smallest and largest datagrams agree, unknown naming both when not", () => {
    const input = { port: 41641, ipv6: { address: "2001:db8::2", interface: "eth0" }, ipv4: null, forwardPrefixes: [] };
    const inbound = (rs: ReturnType<typeof dropping>) => answerQuestions(rs, input).find((c) => c.id === "inbound-ipv6")!;
    const udp = { payload: { protocol: "udp", field: "length" } };
    expect(inbound(dropping(udp, 2000, 3000))).toMatchObject({ verdict: "accept" });
    expect(inbound(dropping(udp, 0, 65535))).toMatchObject({ verdict: "drop" });
    const split = inbound(dropping(udp, 1000, 65535));
    expect(split.verdict).toBe("unknown");
    expect(split.reason).toBe(`the verdict depends on the datagram's size: ${TAILSCALED_DATAGRAM_BYTES.smallest}-byte payloads accept (inet t in: policy accept), ${TAILSCALED_DATAGRAM_BYTES.largest}-byte ones drop (inet t in handle 2: udp length 1000-65535 drop)`);
  });
});
