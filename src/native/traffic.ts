// The native traffic functions (native/traffic.cc) as TypeScript sees them.
// Every function returns a negative errno (a number) on failure, as the rest of
// the addon does; src/native/index.ts's check() turns it into a NativeError.

/** Per-destination-address hit table of a running responder. */
export interface NativeResponderHits {
  /** IPv4 destination addresses the requests were answered on, host byte order. */
  addrs: Uint32Array;
  /** Requests answered on addrs[i]. */
  counts: Float64Array;
  /** UDP datagrams and TCP requests answered since the start or the last reset. */
  udp: number;
  tcp: number;
  /** Receive/send failures inside the responder (not per address). */
  errors: number;
  /** Whether the responder thread got the CPU it was asked to run on. */
  pinned: boolean;
}

export interface NativeFlowOptions {
  /** Network namespace path (/run/netns/<name>) the generator thread enters. */
  netns: string;
  /** Targets, host byte order; flow i goes to ips[i % n]:ports[i % n]. */
  ips: Uint32Array;
  ports: Uint16Array;
  count: number;
  /** Deadline of each flow from its first packet. */
  timeoutMs: number;
  /** Flows in flight at once (1 = one after the other). */
  window: number;
  /** CPU to pin the generator thread to; -1 leaves it unpinned. */
  cpu: number;
  /** UDP: flow i binds the next free source port from here up (a fresh 5-tuple per flow); 0 lets the kernel pick. Ignored for TCP. */
  portBase: number;
  /** Busy-poll for answers (default) instead of sleeping until one arrives: a wake-up costs more than the rule walk being measured. */
  spin?: boolean;
  /** UDP: flows whose first packets leave in one sendmmsg (from a raw socket, one fresh source port each); 1 (default) = one flow at a time. TCP: must be 1. */
  batch?: number;
}

/** Outcome codes in NativeFlowResult.outcome. */
export const FLOW_ANSWERED = 0;
export const FLOW_TIMEOUT = 1;
export const FLOW_FAILED = 2;

export interface NativeFlowResult {
  /** Per flow: first packet to answer, ns (CLOCK_MONOTONIC); NaN unless answered. */
  latencyNs: Float64Array;
  /** Per flow: when its first packet left, ns from the start of the run; NaN when none did. */
  startNs: Float64Array;
  /** Batch mode: time spent inside sendmmsg, ns (0 otherwise). */
  sendNs: number;
  /** Batch mode: sendmmsg batches sent (0 otherwise). */
  batches: number;
  /** Per flow: FLOW_ANSWERED, FLOW_TIMEOUT or FLOW_FAILED. */
  outcome: Uint8Array;
  timeouts: number;
  errors: number;
  /** errno of the first failed flow, 0 when none failed. */
  firstErrno: number;
  /** Wall time of the whole run, ns. */
  wallNs: number;
  /** Whether the generator thread got the CPU it was asked to run on. */
  pinned: boolean;
}

export interface TrafficAddon {
  /** Start a responder in a namespace: UDP and TCP sockets on 0.0.0.0:<port>, answered on a thread of its own. Returns a handle > 0. */
  trafficResponderStart(netns: string, udpPorts: number[], tcpPorts: number[], cpu: number): number;
  trafficResponderHits(handle: number): NativeResponderHits | number;
  trafficResponderReset(handle: number): number;
  /** Stop the thread and close every socket; the handle is gone afterwards. */
  trafficResponderStop(handle: number): number;
  /** UDP new flows: fresh source port per flow, one datagram, wait for the echo. */
  trafficUdpFlows(opts: NativeFlowOptions): Promise<NativeFlowResult | number> | number;
  /** TCP connect–request–response–close: one byte each way per connection. */
  trafficTcpCrr(opts: NativeFlowOptions): Promise<NativeFlowResult | number> | number;
}
