// Runs one SPARQL query with Comunica and prints the answer on stdout: SELECT as a JSON array of bindings (each
// variable bound to its term in N-Triples syntax), ASK as `true` or `false`, CONSTRUCT and DESCRIBE as N-Triples.
// An error is its message on stderr and exit status 1.
//
// Usage: node query.mjs INSTALLED [--accept MEDIA] QUERY SOURCE [SOURCE ...]
// INSTALLED: the folder `npm ci` installed this folder's package-lock.json into. SOURCE: `sparql@URL` for a SPARQL
// endpoint, or a bare URL for Comunica to identify from what it serves (an endpoint from its service description);
// with two or more, Comunica federates the query over them. --accept MEDIA: the Accept header of the query requests,
// instead of Comunica's own (JSON then XML results; Turtle graphs), so each format Comunica reads is exercised.

import { createRequire } from "node:module";
import { join } from "node:path";

const [installed, ...rest] = process.argv.slice(2);
const accept = rest[0] === "--accept" ? rest.splice(0, 2)[1] : undefined;
const [query, ...sources] = rest;
const { QueryEngine } = createRequire(join(installed, "package.json"))("@comunica/query-sparql");

const XSD_STRING = "http://www.w3.org/2001/XMLSchema#string";
const ESCAPES = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r" };
// What Comunica's SPARQL endpoint fetcher asks for: results, then graphs (a service description is asked otherwise).
const QUERY_ACCEPTS = ["application/sparql-results+json;q=1.0,application/sparql-results+xml;q=0.7", "text/turtle"];

function nt(term) {
  switch (term.termType) {
    case "NamedNode":
      return `<${term.value}>`;
    case "BlankNode":
      return `_:${term.value}`;
    case "Literal": {
      const text = `"${term.value.replace(/[\\"\n\r]/g, (c) => ESCAPES[c])}"`;
      if (term.language) return `${text}@${term.language}`;
      return term.datatype.value === XSD_STRING ? text : `${text}^^<${term.datatype.value}>`;
    }
    case "Quad":
      return `<< ${nt(term.subject)} ${nt(term.predicate)} ${nt(term.object)} >>`;
    default:
      throw new Error(`cannot write a ${term.termType} term`);
  }
}

function fetchAccepting(input, init) {
  const headers = new Headers(init?.headers);
  if (QUERY_ACCEPTS.includes(headers.get("accept"))) headers.set("accept", accept);
  return fetch(input, { ...init, headers });
}

try {
  const engine = new QueryEngine();
  const result = await engine.query(query, {
    sources: sources.map((s) => (s.startsWith("sparql@") ? { type: "sparql", value: s.slice(7) } : s)),
    lenient: false,
    ...(accept ? { fetch: fetchAccepting } : {}),
  });
  if (result.resultType === "bindings") {
    const rows = await (await result.execute()).toArray();
    const json = rows.map((row) => Object.fromEntries([...row].map(([name, term]) => [name.value, nt(term)])));
    process.stdout.write(JSON.stringify(json) + "\n");
  } else if (result.resultType === "boolean") {
    process.stdout.write(`${await result.execute()}\n`);
  } else if (result.resultType === "quads") {
    const quads = await (await result.execute()).toArray();
    process.stdout.write(quads.map((q) => `${nt(q.subject)} ${nt(q.predicate)} ${nt(q.object)} .\n`).join(""));
  } else {
    throw new Error(`unexpected result type ${result.resultType}`);
  }
} catch (error) {
  process.stderr.write(`${error.message.trim()}\n`);
  process.exitCode = 1;
}
