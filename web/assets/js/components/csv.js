/**
 * csv.js — CSV text (RFC 4180) and file downloads built in the page.
 *
 * Owns: quoting, a guard against spreadsheet formula injection (a text cell that starts with
 * = + - @ or a control character is prefixed with an apostrophe, so opening an export of
 * hostile data in a spreadsheet never runs it), a UTF-8 byte order mark so spreadsheets read
 * non-ASCII names correctly, and saving a Blob under a file name.
 * Exposes: `toCsv(header, rows)`, `downloadFile(name, text, type)`, `datedFileName(base)`.
 * Must not use: the API.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

function cell(value) {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value !== 'number' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** `header`: column names; `rows`: arrays of cell values. CRLF line ends, as RFC 4180 says. */
export function toCsv(header, rows) {
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** Saves text as a file the browser downloads. */
export function downloadFile(name, text, type = 'text/csv;charset=utf-8') {
  const blob = new Blob([type.startsWith('text/csv') ? '\uFEFF' : '', text], { type });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Give the download a moment to start before the URL is released.
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** "audit-log-2026-11-24.csv" (the admin's local date). */
export function datedFileName(base, extension = 'csv', now = new Date()) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${base}-${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}.${extension}`;
}
