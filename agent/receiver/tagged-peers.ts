// The scraper's own tailscaled status (LocalAPI `status`) -> the peers that carry the node tag:
// the nodes the fleet should hold whether or not their agent reports. A peer is named as the
// receiver names a reporting node (the first label of its MagicDNS name, else its host name) and
// must pass the same DNS-label rule as every file_sd target; the others are listed as refused.
// Pure: the caller reads the document.
import { isTargetName } from "./limits";

export interface TaggedPeer {
  node: string;
  /** Its Tailscale addresses, as tailscaled lists them. */
  ips: string[];
  tags: string[];
  /** tailscaled's Online: false when control says the peer is not connected. */
  online: boolean;
}

export interface PeerList {
  /** The scraper's own Tailscale addresses and tags. */
  selfIps: string[];
  selfTags: string[];
  /** Peers carrying the tag, by node name (sorted). */
  tagged: TaggedPeer[];
  /** Every peer with a usable name -> its addresses, for nodes that report without the tag. */
  addresses: Map<string, string[]>;
  /** Tagged peers whose name cannot be a target, with the name as tailscaled gave it. */
  refused: string[];
}

/** The parts of ipnstate.Status read here (Go field names are the keys). */
interface PeerStatus {
  HostName?: unknown;
  DNSName?: unknown;
  TailscaleIPs?: unknown;
  Tags?: unknown;
  Online?: unknown;
}

export class PeerListError extends Error {}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);

/** The receiver's key for a peer: first label of its MagicDNS name, else of its host name. */
export function peerName(peer: PeerStatus): string {
  const dns = typeof peer.DNSName === "string" ? peer.DNSName.trim().toLowerCase().replace(/\.$/, "").split(".")[0] : "";
  if (dns) return dns;
  return typeof peer.HostName === "string" ? peer.HostName.trim().toLowerCase().split(".")[0] : "";
}

export function taggedPeers(status: unknown, tag: string): PeerList {
  if (typeof status !== "object" || status === null || Array.isArray(status)) throw new PeerListError("tailscaled's status is not an object");
  const doc = status as { Self?: PeerStatus | null; TailscaleIPs?: unknown; Peer?: unknown };
  if (doc.Peer !== undefined && doc.Peer !== null && (typeof doc.Peer !== "object" || Array.isArray(doc.Peer))) throw new PeerListError("tailscaled's status has a Peer that is not a map");
  const byName = new Map<string, TaggedPeer>();
  const addresses = new Map<string, string[]>();
  const refused: string[] = [];
  for (const raw of Object.values((doc.Peer ?? {}) as Record<string, unknown>)) {
    if (typeof raw !== "object" || raw === null) continue;
    const peer = raw as PeerStatus;
    const node = peerName(peer);
    const tags = strings(peer.Tags);
    if (!isTargetName(node)) {
      if (tags.includes(tag)) refused.push(node || String(peer.HostName ?? ""));
      continue;
    }
    const ips = strings(peer.TailscaleIPs);
    addresses.set(node, ips);
    // Two peers with one short name (different tailnets' suffixes cannot happen; a rename can):
    // the first keeps it, as a target can only be one host.
    if (tags.includes(tag) && !byName.has(node)) byName.set(node, { node, ips, tags, online: peer.Online !== false });
  }
  const self = doc.Self ?? {};
  return {
    selfIps: strings(doc.TailscaleIPs).length ? strings(doc.TailscaleIPs) : strings(self.TailscaleIPs),
    selfTags: strings(self.Tags),
    tagged: [...byName.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)),
    addresses,
    refused,
  };
}
