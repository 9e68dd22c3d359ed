#!/usr/bin/env node
// Validate JSON files against a JSON Schema (draft 2020-12) with ajv.
//   node tests/npm/validate.js SCHEMA.json FILE.json...
// Prints "FILE: valid" per file, or the ajv errors and exits 1.
'use strict';
const fs = require('fs');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const [schemaPath, ...files] = process.argv.slice(2);
if (!schemaPath || files.length === 0) {
  console.error('usage: validate.js SCHEMA.json FILE.json...');
  process.exit(2);
}
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));
let bad = 0;
for (const f of files) {
  let doc;
  try {
    const bytes = fs.readFileSync(f);
    // invalid UTF-8 would be silently replaced by the decoder: refuse it
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    doc = JSON.parse(text);
  } catch (e) {
    console.error(`${f}: not valid UTF-8 JSON: ${e.message}`);
    bad++;
    continue;
  }
  if (validate(doc)) {
    console.log(`${f}: valid`);
  } else {
    bad++;
    for (const e of validate.errors) {
      console.error(`${f}: ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    }
  }
}
process.exit(bad ? 1 : 0);
