// Text assembly shared by the renderers that write line-oriented programs
// (iptables-restore payloads, nft transactions).

/**
 * Lines joined with a newline after each, as one flat string (`lines` gets
 * an empty last element; callers drop the array afterwards). A trailing
 * `+ "\n"` would make a rope (V8 cons string) that every later reader —
 * Buffer.byteLength, a write to a pipe — flattens again with a copy of its own.
 */
export function joinLines(lines: string[]): string {
  lines.push('');
  return lines.join('\n');
}
