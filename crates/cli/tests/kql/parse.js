// Parse and analyze KQL with Microsoft's own parser (@kusto/language-service-next), the tables
// declared with their real schemas, for crates/cli/tests/kql.rs.
//
//   node parse.js NODE_MODULES SCHEMAS_JSON WATCHLIST_CSV FILE...
//
// FILE is a bare query (.kql), a Sentinel analytic rule (.yaml, whose `query: |` block is
// read), or the workspace functions those rules call (.json). The watchlist's columns come from the CSV header: `_GetWatchlist(alias)` is declared
// as Sentinel declares it, a function returning the watchlist's rows (its columns, plus
// SearchKey). Prints one JSON object a line per file: {"file", "chars", "diagnostics": [...]},
// every diagnostic of every severity the analysis reports.
'use strict';
const fs = require('fs');
const path = require('path');

const [modules, schemasPath, watchlistPath, ...files] = process.argv.slice(2);
require(path.join(modules, '@kusto/language-service-next/bridge.min.js'));
require(path.join(modules, '@kusto/language-service-next/Kusto.Language.Bridge.min.js'));
const K = Kusto.Language;

const schemas = JSON.parse(fs.readFileSync(schemasPath, 'utf8')).tables;
const members = Object.entries(schemas).map(
  ([name, schema]) => new K.Symbols.TableSymbol.$ctor7(name, schema, null));
const header = fs.readFileSync(watchlistPath, 'utf8').split(/\r?\n/)[0].split(',');
const watchlistColumns = ['SearchKey:string', ...header.map((c) => `${c}:string`)].join(', ');
members.push(new K.Symbols.FunctionSymbol.$ctor16(
  '_GetWatchlist', '(watchlistAlias:string)', `{ datatable(${watchlistColumns})[] }`, null));
// The workspace functions of the Sentinel form (tokentrail_functions.json, an ARM template of
// saved searches), declared with their bodies so the rules that call them are analyzed
// through them; each body is also reported on its own.
const functions = [];
for (const file of files.filter((f) => f.endsWith('.json'))) {
  for (const r of JSON.parse(fs.readFileSync(file, 'utf8')).resources) {
    const p = r.properties;
    functions.push({ file: `${path.basename(file)}#${p.functionAlias}`, body: p.query });
    members.push(new K.Symbols.FunctionSymbol.$ctor16(p.functionAlias, '()', `{ ${p.query} }`, null));
  }
}
const globals = K.GlobalState.Default.WithDatabase(
  new K.Symbols.DatabaseSymbol.$ctor2('workspace', null, members));

function queryOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (!file.endsWith('.yaml')) {
    return text;
  }
  // The literal block after `query: |`, its two-space indent removed.
  const lines = text.split('\n');
  const start = lines.indexOf('query: |');
  if (start < 0) {
    return '';
  }
  const body = [];
  for (const line of lines.slice(start + 1)) {
    if (line !== '' && !line.startsWith('  ')) {
      break;
    }
    body.push(line.slice(2));
  }
  return body.join('\n');
}

const queries = files
  .filter((f) => !f.endsWith('.json'))
  .map((f) => ({ file: path.basename(f), body: queryOf(f) }))
  .concat(functions);
for (const { file, body: query } of queries) {
  const code = K.KustoCode.ParseAndAnalyze(query, globals);
  const diagnostics = code.GetDiagnostics();
  const out = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    const before = query.slice(0, d.Start);
    const line = before.split('\n').length;
    out.push({
      severity: d.Severity,
      code: d.Code,
      message: d.Message,
      line,
      column: d.Start - before.lastIndexOf('\n'),
      text: query.slice(d.Start, d.Start + Math.max(d.Length, 1)).slice(0, 80),
    });
  }
  console.log(JSON.stringify({ file, chars: query.length, diagnostics: out }));
}
