// check-examples.mjs: real parsers for the examples users copy
// (tests/integration/t_examples.sh). Run with the JSON import hook:
//   node --import ./json-hooks.mjs check-examples.mjs workflow FILE
//       GitHub Actions workflow through GitHub's own parser
//       (@actions/workflow-parser); prints its errors, exit 1 if any
//   node ... check-examples.mjs k8s FILE
//       every document of a Kubernetes manifest validated against the API
//       schema of its apiVersion/kind (kubernetes-models); exit 1 on errors
//   node ... check-examples.mjs yaml FILE
//       the YAML parsed (yaml) and printed as JSON, for jq; exit 1 on errors
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const [mode, file] = process.argv.slice(2);
if (!mode || !file) {
    console.error("usage: check-examples.mjs workflow|k8s|yaml FILE");
    process.exit(2);
}
const text = readFileSync(file, "utf8");

function yamlDocs() {
    const docs = parseAllDocuments(text);
    const errors = docs.flatMap((d) => d.errors.map((e) => e.message));
    if (errors.length) {
        for (const e of errors) console.error(`${file}: ${e}`);
        process.exit(1);
    }
    return docs.map((d) => d.toJS()).filter((d) => d !== null && d !== undefined);
}

if (mode === "workflow") {
    const { parseWorkflow, NoOperationTraceWriter } = await import("@actions/workflow-parser");
    const r = parseWorkflow({ name: file, content: text }, new NoOperationTraceWriter());
    const errors = r.context.errors.getErrors();
    for (const e of errors) console.error(e.message);
    if (errors.length || !r.value) process.exit(1);
    console.log(`${file}: valid workflow`);
} else if (mode === "k8s") {
    let bad = 0;
    for (const doc of yamlDocs()) {
        const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : ["", doc.apiVersion];
        const path = group ? `kubernetes-models/${group}/${version}/${doc.kind}` : `kubernetes-models/${version}/${doc.kind}`;
        let Model;
        try {
            Model = (await import(path))[doc.kind];
        } catch (e) {
            console.error(`${file}: no model for ${doc.apiVersion} ${doc.kind}`);
            bad++;
            continue;
        }
        try {
            new Model(doc).validate();
            console.log(`${file}: ${doc.kind} ${doc.metadata?.name}: valid`);
        } catch (e) {
            console.error(`${file}: ${doc.kind} ${doc.metadata?.name}: ${e.message}`);
            bad++;
        }
    }
    process.exit(bad ? 1 : 0);
} else if (mode === "yaml") {
    const docs = yamlDocs();
    console.log(JSON.stringify(docs.length === 1 ? docs[0] : docs));
} else {
    console.error(`unknown mode ${mode}`);
    process.exit(2);
}
