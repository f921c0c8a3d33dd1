/**
 * The CSV dialect of S3 Batch Operations (manifests and completion reports): RFC 4180, comma-separated, fields with
 * a comma, quote or line break quoted with `"` and inner quotes doubled, no header row (docs/backfill.md).
 */

/** One field, quoted only when it must be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One line (without its line break). */
export const csvLine = (fields: readonly string[]) => fields.map(csvField).join(',');

/**
 * Parses CSV text into rows of fields. Quoted fields may hold commas, doubled quotes and line breaks; a trailing
 * line break does not add an empty row; CRLF and LF both end a row. Throws on an unterminated quoted field.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endField = () => {
    row.push(field);
    field = '';
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') {
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
      i++;
      continue;
    }
    if (ch === ',') {
      endField();
      i++;
      continue;
    }
    if (ch === '\r' && text[i + 1] === '\n') {
      endRow();
      i += 2;
      continue;
    }
    if (ch === '\n' || ch === '\r') {
      endRow();
      i++;
      continue;
    }
    field += ch;
    i++;
  }
  if (quoted) throw new Error('unterminated quoted field at the end of the CSV');
  if (field !== '' || row.length > 0) endRow();
  return rows;
}
