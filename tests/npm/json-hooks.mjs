// json-hooks.mjs: @actions/workflow-parser imports its schema JSON without
// an import attribute, which Node 20 refuses; this hook adds it.
// Used as: node --import ./json-hooks.mjs check-examples.mjs ...
import { register } from "node:module";

if (!globalThis.__rdJsonHooks) {
    globalThis.__rdJsonHooks = true;
    register(import.meta.url, import.meta.url);
}

export async function load(url, context, nextLoad) {
    if (url.endsWith(".json"))
        return nextLoad(url, { ...context, importAttributes: { type: "json" } });
    return nextLoad(url, context);
}
