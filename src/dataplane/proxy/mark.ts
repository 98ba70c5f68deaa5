// The masquerade mark every kube-proxy mode derives from --iptables-masquerade-bit.

import { InputError } from '../../errors.js';

/**
 * NewProxier's fmt.Sprintf("%#08x", 1<<bit): Go zero-pads the hex digits (not
 * the "0x") to 8, so bit 14 gives "0x00004000". Same in iptables, IPVS and
 * nftables mode.
 */
export function masqueradeMarkFor(bit: number): string {
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) {
    throw new InputError('masqueradeBit', `must be an integer in [0, 31], got ${bit}`);
  }
  return `0x${(2 ** bit).toString(16).padStart(8, '0')}`;
}
