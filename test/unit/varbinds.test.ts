// Values as they go on the wire: a DisplayString longer than its SIZE is cut to fit, at a
// character boundary, so a trap receiver never gets half a UTF-8 character.
import { describe, expect, it } from "vitest";
import { OBJECTS } from "../../agent/snmp/oid-tree";
import { encodeValue, utf8Prefix } from "../../agent/snmp/varbinds";

const summary = OBJECTS.find((o) => o.name === "edgeAgentEventSummary")!;

describe("DisplayString encoding", () => {
  it("keeps a summary that fits as it is", () => {
    expect((encodeValue(summary, "snmpd up").value as Buffer).toString("utf8")).toBe("snmpd up");
  });

  it("cuts a long summary to the MIB's 255 octets", () => {
    const encoded = encodeValue(summary, `firewall verdicts unavailable: ${"x".repeat(400)}`).value as Buffer;
    expect(encoded.length).toBe(255);
    expect(encoded.toString("utf8").startsWith("firewall verdicts unavailable: xxx")).toBe(true);
  });

  it("never splits a multi-octet character at the cut", () => {
    // 254 ASCII octets, then "é" (2 octets) would end at octet 256: it is left out whole.
    const encoded = encodeValue(summary, `${"a".repeat(254)}é and more`).value as Buffer;
    expect(encoded.length).toBe(254);
    expect(encoded.toString("utf8")).toBe("a".repeat(254));
    // Every cut of a 4-octet character keeps only whole characters.
    for (let max = 0; max <= 9; max++) {
      const cut = utf8Prefix("😀😀", max);
      expect(Buffer.from(cut.toString("utf8"), "utf8").equals(cut), `cut at ${max}`).toBe(true);
      expect(cut.length).toBe(Math.min(8, Math.floor(max / 4) * 4));
    }
  });
});
