// Types for prom-client's own modules, which the agent requires one by one: the package's index
// also loads every default metric, cluster aggregation, summaries and the pushgateway client,
// ~11 MiB of RSS a daemon that uses three classes should not carry.
declare module "prom-client/lib/registry" {
  import { Registry } from "prom-client";
  export = Registry;
}
declare module "prom-client/lib/gauge" {
  import { Gauge } from "prom-client";
  export = Gauge;
}
declare module "prom-client/lib/counter" {
  import { Counter } from "prom-client";
  export = Counter;
}
// The process_* collectors the receiver registers (metrics.ts): each adds its metrics to a registry.
declare module "prom-client/lib/metrics/*" {
  import type { Registry } from "prom-client";
  const collector: (registry: Registry) => void;
  export = collector;
}
