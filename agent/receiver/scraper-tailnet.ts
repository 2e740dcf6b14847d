// One reading of the scraper's own tailscaled, for the receiver (every receiver.tailnetRefresh)
// and for doctor: its peer list (LocalAPI status -> the peers carrying the node tag) and the
// packet filter it enforces. Never throws: either half that fails is data.
import { errorText } from "../probes/deadline";
import { localApi } from "../probes/localapi";
import { readPacketFilter, type FilterReading, type FilterUnreadable } from "../probes/packet-filter-source";
import { taggedPeers, type PeerList } from "./tagged-peers";

export interface ScraperTailnet {
  /** The peers, or why they could not be read. */
  peers: PeerList | { error: string };
  filter: FilterReading | FilterUnreadable;
}

export async function readScraperTailnet(socket: string, nodeTag: string, timeoutMs: number): Promise<ScraperTailnet> {
  const [peers, filter] = await Promise.all([
    localApi<unknown>(socket, "GET", "/localapi/v0/status", timeoutMs)
      .then((doc): PeerList => taggedPeers(doc, nodeTag))
      .catch((error: unknown) => ({ error: errorText(error) })),
    readPacketFilter(socket, timeoutMs),
  ]);
  return { peers, filter };
}
