// The daemon's second look at a service that stopped answering: one that was up in the last
// snapshot and is down in the new one is asked once more before the snapshot says down, so one
// answer missed on a loaded host is not a serviceDown and a serviceUp. The probes stay stateless:
// this, not they, knows the last snapshot. `status` and `doctor` ask once.
import type { NodeState } from "../state/node-state";
import { SERVICE_NAMES, type ServiceName, type ServicesState } from "../state/services";
import { runningTailnet } from "../state/tailnet";

export type AskService = <S extends ServiceName>(service: S, tailnetIps: string[]) => Promise<ServicesState[S]>;

/** `next` with each service that went from up to down asked again (at once), its answer kept. */
export async function confirmDown(prev: NodeState | null, next: NodeState, ask: AskService): Promise<NodeState> {
  const wentDown = SERVICE_NAMES.filter((service) => prev?.services[service].up && !next.services[service].up);
  if (wentDown.length === 0) return next;
  const ips = runningTailnet(next.tailnet)?.ips ?? [];
  const services = { ...next.services };
  await Promise.all(wentDown.map(async (service) => Object.assign(services, { [service]: await ask(service, ips) })));
  return { ...next, services };
}
