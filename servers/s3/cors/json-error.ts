/**
 * Locate a JSON syntax error, for a message that names the position.
 *
 * V8's `JSON.parse` messages differ between Node versions and often carry no
 * position, so after `JSON.parse` has failed this small RFC 8259 scanner finds
 * where. Its wording and `line L column C (char P)` format follow Python's json
 * module, which is what `aws s3api put-bucket-cors --cors-configuration` prints
 * ("Invalid JSON: Expecting ',' delimiter: line 1 column 10 (char 9)").
 */

export interface JsonSyntaxError {
  reason: string;
  /** 0-based UTF-16 offset into the text. */
  char: number;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

class Stop {
  constructor(readonly reason: string, readonly at: number) {}
}

/** Returns undefined when the text is valid JSON. */
export function locateJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const string = (): void => {
    const start = i; // at the opening quote
    i++;
    for (;;) {
      if (i >= n) throw new Stop('Unterminated string starting at', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) throw new Stop('Invalid control character at', i);
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === undefined) throw new Stop('Unterminated string starting at', start);
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Stop('Invalid \\uXXXX escape', i);
          i += 6;
        } else if ('"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          throw new Stop('Invalid \\escape', i);
        }
        continue;
      }
      i++;
    }
  };
  const number = (): void => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-' || m[0].length === 0) throw new Stop('Expecting value', i);
    i += m[0].length;
  };
  const value = (): void => {
    ws();
    if (i >= n) throw new Stop('Expecting value', i);
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    throw new Stop('Expecting value', i);
  };
  const object = (): void => {
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') throw new Stop('Expecting property name enclosed in double quotes', i);
      string();
      ws();
      if (text[i] !== ':') throw new Stop("Expecting ':' delimiter", i);
      i++;
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      throw new Stop("Expecting ',' delimiter", i);
    }
  };
  const array = (): void => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      throw new Stop("Expecting ',' delimiter", i);
    }
  };

  try {
    value();
    ws();
    if (i < n) throw new Stop('Extra data', i);
    return undefined;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    const before = text.slice(0, e.at);
    const lastNl = before.lastIndexOf('\n');
    const line = before.split('\n').length;
    return { reason: e.reason, char: e.at, line, column: e.at - lastNl };
  }
}

/** "Expecting ',' delimiter: line 1 column 10 (char 9)" */
export function formatJsonSyntaxError(e: JsonSyntaxError): string {
  return `${e.reason}: line ${e.line} column ${e.column} (char ${e.char})`;
}
