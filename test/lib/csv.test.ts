import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CsvError, formatCsv, parseCsv } from "../../src/lib/csv.js";

function csvError(text: string): CsvError {
  try {
    parseCsv(text);
  } catch (error) {
    expect(error).toBeInstanceOf(CsvError);
    return error as CsvError;
  }
  throw new Error(`parseCsv accepted ${JSON.stringify(text)}`);
}

describe("parseCsv", () => {
  it("splits records and fields, numbering lines from the header as line 1", () => {
    expect(parseCsv("a,b,c\n1,2,3\n")).toEqual([
      { line: 1, fields: ["a", "b", "c"] },
      { line: 2, fields: ["1", "2", "3"] },
    ]);
  });

  it("keeps commas inside quoted fields", () => {
    expect(parseCsv('id,name\nkst-1,"Payments, EU"\n')).toEqual([
      { line: 1, fields: ["id", "name"] },
      { line: 2, fields: ["kst-1", "Payments, EU"] },
    ]);
  });

  it("reads a doubled quote inside a quoted field as one quote", () => {
    expect(parseCsv('"say ""hi""",""""\n')).toEqual([{ line: 1, fields: ['say "hi"', '"'] }]);
  });

  it("keeps CRLF newlines inside quoted fields and still numbers later records right", () => {
    const text = 'id,note\r\n1,"first\r\nsecond\r\nthird"\r\n2,plain\r\n3,"x\ny"\r\n4,last';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ["id", "note"] },
      { line: 2, fields: ["1", "first\r\nsecond\r\nthird"] },
      { line: 5, fields: ["2", "plain"] },
      { line: 6, fields: ["3", "x\ny"] },
      { line: 8, fields: ["4", "last"] },
    ]);
  });

  it("accepts LF and CRLF line ends alike, with or without a final newline", () => {
    const expected = [
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["c", "d"] },
    ];
    expect(parseCsv("a,b\nc,d")).toEqual(expected);
    expect(parseCsv("a,b\r\nc,d\r\n")).toEqual(expected);
  });

  it("drops a UTF-8 byte order mark before the header", () => {
    expect(parseCsv("\uFEFFinstance_id,name\nkst-1,x\n")).toEqual([
      { line: 1, fields: ["instance_id", "name"] },
      { line: 2, fields: ["kst-1", "x"] },
    ]);
  });

  it("skips blank lines but counts them", () => {
    expect(parseCsv("a\n\nb\r\n\r\n\nc\n\n")).toEqual([
      { line: 1, fields: ["a"] },
      { line: 3, fields: ["b"] },
      { line: 6, fields: ["c"] },
    ]);
  });

  it("keeps empty fields, including trailing ones", () => {
    expect(parseCsv("a,,c,\n,\n")).toEqual([
      { line: 1, fields: ["a", "", "c", ""] },
      { line: 2, fields: ["", ""] },
    ]);
  });

  it("treats a line of one empty quoted field as blank, but keeps two empty quoted fields", () => {
    expect(parseCsv('""\n')).toEqual([]);
    expect(parseCsv('"",""\n')).toEqual([{ line: 1, fields: ["", ""] }]);
  });

  it("keeps spaces around unquoted fields", () => {
    expect(parseCsv(" a , b \n")).toEqual([{ line: 1, fields: [" a ", " b "] }]);
  });

  it("reads an empty file as no records", () => {
    expect(parseCsv("")).toEqual([]);
    expect(parseCsv("\uFEFF")).toEqual([]);
    expect(parseCsv("\n\r\n")).toEqual([]);
  });

  it("reports a quoted field that is never closed, with the line its record starts on", () => {
    const e = csvError('id,name\nkst-1,ok\nkst-2,"never closed\nmore text\n');
    expect(e.line).toBe(3);
    expect(e.problem).toMatch(/never closed/);
    expect(e.message).toBe("line 3: a quoted field is never closed");
  });

  it("reports a quote inside an unquoted field with its line", () => {
    const e = csvError('id,name\n1,"multi\nline"\n2,bad"quote\n');
    expect(e.line).toBe(4);
    expect(e.problem).toMatch(/quote inside an unquoted field/);
  });

  it("reports text after a closing quote with its line", () => {
    const e = csvError('id,name\r\n1,ok\r\n2,"Bad "quote" name"\r\n');
    expect(e.line).toBe(3);
    expect(e.problem).toMatch(/text after a closing quote/);
  });

  it("reports text after a closing quote on a later line of a multi-line field", () => {
    const e = csvError('id,name\n1,"two\nlines"x\n');
    expect(e.line).toBe(3);
  });
});

describe("formatCsv", () => {
  it("ends every record with CRLF and leaves plain fields unquoted", () => {
    expect(
      formatCsv([
        ["a", "b"],
        ["1", "2"],
      ]),
    ).toBe("a,b\r\n1,2\r\n");
  });

  it("quotes fields holding commas, quotes, CR or LF and doubles inner quotes", () => {
    expect(formatCsv([["Payments, EU", 'say "hi"', "two\nlines", "cr\rhere", "plain"]])).toBe(
      '"Payments, EU","say ""hi""","two\nlines","cr\rhere",plain\r\n',
    );
  });

  it("writes empty fields as nothing and no rows as an empty text", () => {
    expect(formatCsv([["", "x", ""]])).toBe(",x,\r\n");
    expect(formatCsv([])).toBe("");
  });
});

describe("parseCsv(formatCsv(rows))", () => {
  it("keeps a first field that starts with U+FEFF (it is data, not a byte order mark)", () => {
    // formatCsv writes the field unquoted, so the text starts with U+FEFF and parseCsv drops
    // it as a BOM: formatCsv must quote such a field for the round trip to hold.
    const rows = [
      ["\uFEFFnote", "x"],
      ["\uFEFF", "y"],
    ];
    expect(parseCsv(formatCsv(rows)).map((r) => r.fields)).toEqual(rows);
  });

  // Characters CSV treats specially are over-represented so the quoting paths are exercised.
  const char = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(",", '"', "\r", "\n", "\r\n", " ", "\uFEFF") },
    { weight: 5, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) },
  );
  const field = fc.array(char, { maxLength: 8 }).map((parts) => parts.join(""));
  // A row that is one empty field (or none) is written as an empty line, which the parser
  // skips as a blank line by design.
  const row = fc
    .array(field, { minLength: 1, maxLength: 6 })
    .filter((r) => !(r.length === 1 && r[0] === ""));

  // A first field starting with U+FEFF has its own test below (it reads as a byte order mark).
  const rowLists = fc
    .array(row, { maxLength: 6 })
    .filter((rs) => !(rs[0]?.[0] ?? "").startsWith("\uFEFF"));

  it("gives back every row and field exactly", () => {
    fc.assert(
      fc.property(rowLists, (rows) => {
        expect(parseCsv(formatCsv(rows)).map((r) => r.fields)).toEqual(rows);
      }),
      { numRuns: 500 },
    );
  });

  it("numbers each record by the physical line it starts on", () => {
    fc.assert(
      fc.property(rowLists, (rows) => {
        const text = formatCsv(rows);
        let line = 1;
        const expected: number[] = [];
        for (const r of rows) {
          expected.push(line);
          // Each LF in the record's text (its CRLF end, or inside a quoted field) is a line.
          line += (formatCsv([r]).match(/\n/g) ?? []).length;
        }
        expect(parseCsv(text).map((r) => r.line)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
