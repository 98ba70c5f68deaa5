// Untrusted input bytes → text → plain JS documents: the first stage of every
// manifest and profile reader (model/manifests.ts, scheduler/manifests.ts,
// `kscale plan`). Pure: no I/O.
//
// Read as kubectl reads files, so what it accepts is accepted here:
//   - a byte-order mark picks the encoding: UTF-8 (mark dropped) or UTF-16
//     LE/BE (transcoded), as cli-runtime's FileVisitor does with
//     unicode.BOMOverride; without one the bytes are UTF-8;
//   - JSON when the text is JSON, else YAML (1.2 core schema) with merge keys
//     (`<<: *anchor`), which the go-yaml v2 decoder under sigs.k8s.io/yaml
//     honours.
// Stricter than kubectl's default where the lax reading would be a guess, as
// `kubectl --validate=strict` is: a key given twice in one mapping is an error
// in JSON too (JSON.parse silently keeps the last).
// Bounded against hostile input: nesting depth (the YAML library composes and
// converts recursively, a few frames per level: some 800 levels overflow the
// stack, and catching that is not enough, since a later parse in the same
// process has then died in V8's RegExp compiler, "process out of memory") and
// alias expansion.

import { Composer, LineCounter, Parser, isScalar, visit } from 'yaml';
import type { CST, Document } from 'yaml';
import { InputError } from '../errors.js';

/** One document of a file, with where it came from. */
export interface Doc {
  value: unknown;
  /** "services.yaml doc 3" */
  where: string;
}

/**
 * Lists and mappings inside one another, at most. Real objects nest a few
 * dozen deep (a CRD's schema the most); 256 keeps the YAML library's
 * recursion at a third of the stack that overflows near 800.
 */
export const MAX_NESTING = 256;
/** Aliases a YAML document may expand ("billion laughs"); the library throws past it. */
const MAX_ALIAS_COUNT = 100;

const NESTING_REASON = `nesting deeper than ${MAX_NESTING} levels (lists and mappings within one another)`;

function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  return (nl < 0 ? s : s.slice(0, nl)).trim();
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** "f.json line 3, column 7" for a character offset (1-based, as editors count). */
function positionOf(text: string, offset: number, fileName: string): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `${fileName} line ${line}, column ${offset - lineStart + 1}`;
}

// ---------------------------------------------------------------------------
// Bytes → text

function utf16(bytes: Uint8Array, bigEndian: boolean): string {
  if (!bigEndian) return new TextDecoder('utf-16le').decode(bytes);
  // Swapped to little-endian, which every Node build decodes (utf-16be needs full ICU).
  const even = bytes.length - (bytes.length % 2);
  const swapped = Buffer.from(bytes.subarray(0, even)).swap16();
  return new TextDecoder('utf-16le').decode(swapped) + (even < bytes.length ? '\uFFFD' : '');
}

/**
 * A file's text: UTF-16 with a byte-order mark transcoded, UTF-8 with or
 * without one. Malformed sequences become U+FFFD, as in kubectl's decoder.
 */
export function decodeBytes(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return utf16(bytes.subarray(2), false);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return utf16(bytes.subarray(2), true);
  // TextDecoder drops a leading UTF-8 byte-order mark.
  return new TextDecoder('utf-8').decode(bytes);
}

// ---------------------------------------------------------------------------
// JSON

/** Where one JSON container is, for a duplicate key's path. */
interface Frame {
  /** The keys seen so far; null for an array. */
  keys: Set<string> | null;
  /** The latest key (object) … */
  key: string;
  /** … or element index (array). */
  index: number;
  /** In an object, whether the next string is a key. */
  expectKey: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** The index of the quote closing the string opened at `start` (valid JSON: it exists). */
function stringEnd(text: string, start: number): number {
  let j = start;
  for (;;) {
    j = text.indexOf('"', j + 1);
    let k = j - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    // An even run of backslashes escapes itself, not the quote.
    if ((j - 1 - k) % 2 === 0) return j;
  }
}

/** "items[2].spec" for the containers open at a point. */
function framePath(stack: readonly Frame[]): string {
  let path = '';
  for (let i = 0; i < stack.length - 1; i++) {
    const f = stack[i] as Frame;
    path += f.keys === null ? `[${f.index}]` : `${path === '' ? '' : '.'}${f.key}`;
  }
  return path;
}

/**
 * The checks JSON.parse does not make, over text it has accepted: a key twice
 * in one object, and nesting past MAX_NESTING. One pass with an explicit
 * stack, so depth costs no recursion.
 */
function checkJSON(text: string, fileName: string): void {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Whitespace, most of a pretty-printed dump outside its strings, first out.
    if (c < QUOTE) continue;
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, end);
        // Keys compare unescaped ("\u0061" is "a"), as Go's decoder compares them.
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (top.keys.has(key)) {
          const path = framePath(stack);
          throw new InputError(
            positionOf(text, i, fileName),
            `duplicate key ${JSON.stringify(key)} in ${path === '' ? 'the top-level object' : path}: a field given twice is rejected, as kubectl --validate=strict rejects it (which one would count is a guess)`,
          );
        }
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (stack.length >= MAX_NESTING) throw new InputError(positionOf(text, i, fileName), NESTING_REASON);
      stack.push({ keys: c === OPEN_OBJECT ? new Set() : null, key: '', index: 0, expectKey: c === OPEN_OBJECT });
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
    } else if (c === COMMA) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.index++;
    }
  }
}

/** JSON first when it looks like JSON: JSON.parse is far faster than a YAML parser on big kubectl dumps. */
function tryJSON(text: string, fileName: string): Doc[] | undefined {
  const start = text.search(/\S/);
  if (start < 0 || (text[start] !== '{' && text[start] !== '[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Flow-style YAML also starts with "{"; let the YAML parser decide and report.
    return undefined;
  }
  checkJSON(text, fileName);
  return Array.isArray(value)
    ? value.map((v, i) => ({ value: v, where: `${fileName} doc ${i + 1}` }))
    : [{ value, where: `${fileName} doc 1` }];
}

/** A JSON syntax error, with its line, for files that are evidently meant to be JSON. */
function jsonError(text: string, fileName: string): InputError | undefined {
  if (!/\.json$/i.test(fileName)) return undefined;
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    const msg = errorMessage(e);
    const m = /position (\d+)/.exec(msg);
    const at = m?.[1] ? positionOf(text, Number(m[1]), fileName).replace(/, column \d+$/, '') : fileName;
    return new InputError(at, `invalid JSON: ${firstLine(msg)}`);
  }
}

// ---------------------------------------------------------------------------
// YAML

/** The YAML parser's message without any " at line L, column C:" tail; the subject carries the position. */
function yamlReason(s: string): string {
  return firstLine(s).replace(/ at line \d+, column \d+:?$/, '');
}

type Collection = CST.BlockMap | CST.BlockSequence | CST.FlowCollection;

function isCollectionToken(t: CST.Token): t is Collection {
  return t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection';
}

/** The offset of the first collection nested past MAX_NESTING in a parsed (not yet composed) token. */
function tooDeepAt(token: CST.Token): number | undefined {
  const todo: [CST.Token, number][] = [[token, 0]];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const [t, depth] = next;
    if (t.type === 'document') {
      if (t.value) todo.push([t.value, depth]);
    } else if (isCollectionToken(t)) {
      if (depth >= MAX_NESTING) return t.offset;
      for (const item of t.items) {
        if (item.key) todo.push([item.key, depth + 1]);
        if (item.value) todo.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
}

/** The key a DUPLICATE_KEY error points at, as written (quotes resolved). */
function duplicateKeyAt(doc: Document.Parsed, offset: number): string | undefined {
  let key: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        key = String(pair.key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return key;
}

function decodeYAML(text: string, fileName: string): Doc[] {
  const lines = new LineCounter();
  const at = (offset: number): string => {
    const { line, col } = lines.linePos(offset);
    return `${fileName} line ${line}, column ${col}`;
  };
  // The parser is iterative; composing is not. Each document's tokens are
  // measured before the composer sees them.
  function* bounded(tokens: Iterable<CST.Token>): Generator<CST.Token> {
    for (const t of tokens) {
      const deep = tooDeepAt(t);
      if (deep !== undefined) throw new InputError(at(deep), NESTING_REASON);
      yield t;
    }
  }
  // logLevel 'error': the library would otherwise print warnings (collection keys…) to stderr.
  const composer = new Composer({ uniqueKeys: true, merge: true, logLevel: 'error' });
  const docs = [...composer.compose(bounded(new Parser(lines.addNewLine).parse(text)))];
  return docs.map((doc, i) => {
    const where = `${fileName} doc ${i + 1}`;
    const err = doc.errors[0];
    if (err) {
      const subject = err.pos[0] >= 0 ? at(err.pos[0]) : where;
      const key = err.code === 'DUPLICATE_KEY' ? duplicateKeyAt(doc, err.pos[0]) : undefined;
      if (key !== undefined) {
        throw new InputError(subject, `duplicate key ${JSON.stringify(key)}: a key given twice in one mapping is rejected, as kubectl --validate=strict rejects it (which one would count is a guess)`);
      }
      throw new InputError(subject, `invalid YAML: ${yamlReason(err.message)}`);
    }
    try {
      return { value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown, where };
    } catch (e) {
      throw new InputError(where, `invalid YAML: ${firstLine(errorMessage(e))}`);
    }
  });
}

// ---------------------------------------------------------------------------
// Public API

/**
 * The documents of one manifest text (YAML, multi-document YAML, or JSON: an
 * object, or an array of them). `fileName` names the source in errors; a
 * `.json` one that is not JSON gets the JSON parser's complaint. Throws
 * InputError for anything wrong with the text.
 */
export function decodeDocuments(text: string, fileName: string): Doc[] {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    throw new InputError(positionOf(text, nul, fileName), 'a NUL character: not UTF-8 text (UTF-16 without a byte-order mark, or a binary file?)');
  }
  try {
    return tryJSON(text, fileName) ?? decodeYAML(text, fileName);
  } catch (e) {
    const strict = e instanceof InputError;
    // A broken .json file reads better as a JSON error than as the YAML parser's view of it.
    const json = jsonError(text, fileName);
    if (json) throw json;
    if (strict) throw e;
    // The parser is a third-party library fed hostile input: anything else it
    // throws is the input's fault, not a crash.
    throw new InputError(fileName, `cannot parse YAML: ${firstLine(errorMessage(e))}`);
  }
}
