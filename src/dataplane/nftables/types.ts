// Public types of the kube-proxy nftables-mode renderer.

/**
 * Which upstream kube-proxy generation to reproduce. The two differ in ways
 * that change the transaction text, so a benchmark must say which it loads:
 *
 * - 'v1.34': after kubernetes#132456 (first released in v1.34.0-beta.0). Filter
 *   chains `filter-prerouting-pre-dnat` / `filter-output-pre-dnat` at
 *   priority -110 and `filter-input` / `filter-forward` / `filter-output` at
 *   priority 0; the ClusterIP masquerade rule matches only the address; a full
 *   sync reads existing map/set elements instead of flushing them (so a sync
 *   into a fresh table flushes no map or set).
 * - 'v1.33': the v1.31–v1.33 layout. Filter chains `filter-prerouting`,
 *   `filter-input`, `filter-forward`, `filter-output` at priority -110 plus
 *   `filter-output-post-dnat` at -90; the masquerade rule also matches
 *   `<proto> dport <port>`; a full sync flushes every map and set.
 *
 * Not modelled: the v1.36 masquerading rework (kubernetes#135800, #136499),
 * which removes the `mark-for-masquerade` chain.
 */
export type NftProfile = 'v1.34' | 'v1.33';

/** Options mirroring kube-proxy flags and config that change the rules. */
export interface NftRenderOptions {
  /** Default 'v1.34'. */
  readonly profile?: NftProfile;
  /**
   * Node IPs that accept NodePort traffic (--nodeport-addresses, resolved to
   * addresses). Default: the node's IP, which is what nftables mode's default
   * `--nodeport-addresses primary` resolves to. 'all' reproduces an explicit
   * 0.0.0.0/0: the nodeport-ips set is deleted and `fib daddr type local` is
   * used instead. Loopback addresses are ignored, as upstream ignores them.
   */
  readonly nodePortAddresses?: readonly string[] | 'all';
  /**
   * ServiceCIDRs of this family (from ServiceCIDR objects); when non-empty,
   * traffic to unallocated cluster IPs inside them is dropped. Default none.
   */
  readonly serviceCIDRs?: readonly string[];
  /** --masquerade-all. Default false. */
  readonly masqueradeAll?: boolean;
  /**
   * The mark written by mark-for-masquerade. Default: derived from
   * NodeContext.masqueradeBit exactly as NewProxier formats it (Go "%#08x",
   * e.g. bit 14 → 0x00004000). Upstream's unit tests hard-code "0x4000".
   */
  readonly masqueradeMark?: string;
  /**
   * Whether this is the first sync after kube-proxy started: it then
   * adds and deletes each base chain once before re-creating it, so a base
   * chain left by an older kube-proxy with other properties cannot fail the
   * transaction. Default true (a benchmark loads into a fresh namespace).
   */
  readonly firstSync?: boolean;
}

/** Objects a transaction creates, counted from its `add` operations. */
export interface NftCounts {
  readonly chains: number;
  readonly rules: number;
  readonly sets: number;
  readonly maps: number;
  readonly setElements: number;
  readonly mapElements: number;
  /** `flush chain|set|map` operations. */
  readonly flushes: number;
  /** `delete …` operations (chains, sets, elements), including transient add+delete pairs. */
  readonly deletes: number;
}

/** One nftables transaction, exactly as knftables hands it to `nft -f -`. */
export interface NftProgram {
  readonly backend: 'nftables';
  readonly profile: NftProfile;
  /** The table every object lives in: `ip kube-proxy`. */
  readonly family: 'ip';
  readonly table: 'kube-proxy';
  /** The transaction, one operation per line, each newline-terminated, ready for `nft -f`. */
  readonly payload: string;
  /**
   * The transaction in newline-terminated pieces whose concatenation is
   * `payload`: what loaders write, so the whole text is never joined.
   */
  readonly chunks: readonly string[];
  /** The same operations as separate strings (split from `payload` on first access). */
  readonly lines: readonly string[];
  /** Number of operations (lines), known without splitting. */
  readonly operations: number;
  readonly counts: NftCounts;
  /** Service ports and endpoint chains rendered (the scale parameters of this program). */
  readonly servicePorts: number;
  readonly endpointChains: number;
}

/** A partial sync: the transaction plus the chains it left flushed-but-present. */
export interface NftIncremental {
  readonly program: NftProgram;
  /**
   * Service/endpoint chains this sync flushed because they are no longer used.
   * Upstream deletes them in a separate transaction at the first sync at least
   * one second later (see renderStaleChainCleanup); until then they exist, empty.
   */
  readonly staleChains: readonly string[];
  /** Namespace/name of the Services whose chains were rewritten. */
  readonly updatedServices: readonly string[];
}

/** Extra kernel state an incremental sync must know about. */
export interface NftIncrementalContext {
  /**
   * Stale chains from earlier syncs that still exist (flushed, not yet
   * deleted). Upstream lists them from the kernel and flushes them again, or
   * re-creates them if they became active again.
   */
  readonly pendingStaleChains?: readonly string[];
}
