// Validates AsyncAPI documents with the official parser (@asyncapi/parser),
// independently of the Rust code that writes them.
//
//   npm ci --prefix scripts/asyncapi
//   node scripts/asyncapi/check.mjs FILE...
//
// Prints every diagnostic; exits 1 when a document has an error (or, with
// --strict, a warning), 2 when it cannot run.
import { readFile } from 'node:fs/promises';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const args = process.argv.slice(2);
const strict = args.includes('--strict');
const files = args.filter((a) => a !== '--strict');
if (files.length === 0) {
  console.error('usage: check.mjs [--strict] FILE...');
  process.exit(2);
}
const parser = new Parser();
let failed = false;
for (const file of files) {
  const text = await readFile(file, 'utf8');
  const { diagnostics } = await parser.parse(text, { source: file });
  const counted = diagnostics.filter(
    (d) => d.severity === DiagnosticSeverity.Error || (strict && d.severity === DiagnosticSeverity.Warning),
  );
  for (const d of diagnostics) {
    const level = ['error', 'warning', 'info', 'hint'][d.severity] ?? 'note';
    console.log(`${file}: ${level} ${d.code}: ${d.message} at ${JSON.stringify(d.path)}`);
  }
  if (counted.length > 0) failed = true;
  else console.log(`${file}: valid AsyncAPI`);
}
process.exit(failed ? 1 : 0);
