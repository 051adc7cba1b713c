/** One CSV record and the line of the file it starts on (1-based, the header is line 1). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export class CsvError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = "CsvError";
  }
}

/**
 * Parses RFC 4180 CSV: comma separated, fields optionally in double quotes, `""` for a quote
 * inside a quoted field, quoted fields may span lines, CRLF or LF line ends, an optional
 * UTF-8 BOM. Blank lines are skipped. A quote in an unquoted field, text after a closing
 * quote or an unclosed quote is an error naming its line.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const src = text.startsWith("\uFEFF") ? text.slice(1) : text;
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const start = line;
    const fields: string[] = [];
    let endOfRecord = false;
    while (!endOfRecord) {
      let field = "";
      if (src[i] === '"') {
        i++;
        for (;;) {
          if (i >= src.length) throw new CsvError(start, "a quoted field is never closed");
          const c = src[i];
          if (c === '"') {
            if (src[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n") line++;
          field += c;
          i++;
        }
        const next = src[i];
        if (next !== undefined && next !== "," && next !== "\n" && next !== "\r") {
          throw new CsvError(
            line,
            "text after a closing quote; quote the whole field and double quotes inside it",
          );
        }
      } else {
        while (i < src.length && src[i] !== "," && src[i] !== "\n" && src[i] !== "\r") {
          if (src[i] === '"') {
            throw new CsvError(
              line,
              "a quote inside an unquoted field; quote the field and double the quote",
            );
          }
          field += src[i];
          i++;
        }
      }
      fields.push(field);
      if (src[i] === ",") {
        i++;
      } else {
        if (src[i] === "\r") i++;
        if (src[i] === "\n") i++;
        line++;
        endOfRecord = true;
      }
    }
    if (!(fields.length === 1 && fields[0] === "")) records.push({ line: start, fields });
  }
  return records;
}

function quote(field: string): string {
  // A leading U+FEFF is quoted too, or a reader would take it for a byte order mark.
  return /^\uFEFF|[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/** Formats rows as RFC 4180 CSV with CRLF line ends. */
export function formatCsv(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  return rows.map((row) => `${row.map(quote).join(",")}\r\n`).join("");
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a file's bytes as UTF-8, refusing invalid bytes (a Latin-1 export, say) with the
 * line they are on instead of silently turning them into U+FFFD.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    // A newline byte never occurs inside a multi-byte UTF-8 sequence: check line by line.
    let start = 0;
    for (let line = 1; ; line++) {
      const end = bytes.indexOf(0x0a, start);
      const slice = bytes.subarray(start, end === -1 ? bytes.length : end);
      try {
        utf8.decode(slice);
      } catch {
        throw new CsvError(line, "is not valid UTF-8; save the file as UTF-8 (CSV UTF-8)");
      }
      if (end === -1) throw new CsvError(line, "is not valid UTF-8");
      start = end + 1;
    }
  }
}
