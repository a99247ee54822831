// Checks Kubernetes manifests against the Kubernetes API schema, offline.
//
//   node deploy/k8s/check.mjs MODULES_DIR FILE.yaml...
//
// MODULES_DIR holds node_modules with kubernetes-models (the Kubernetes
// OpenAPI schema compiled into validators, one model per kind and
// version) and yaml; deploy/k8s/check.sh installs them once from the npm
// registry. Each document of each file is
//  1. matched to its model by apiVersion and kind (an unknown pair fails);
//  2. validated by that model: types, required fields, enums, formats;
//  3. checked for fields the schema does not know, at every depth (the
//     Kubernetes schema allows unknown fields, which the API server
//     drops, so a misspelt `securityContext.privilegd` would otherwise
//     pass): the known fields come from the same package's type
//     declarations, read here.
// Exit 0 when every document passes, 1 otherwise (each problem printed).
import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [modulesDir, ...files] = process.argv.slice(2);
if (!modulesDir || files.length === 0) {
	console.error("usage: check.mjs MODULES_DIR FILE.yaml...");
	process.exit(2);
}
const nodeModules = resolve(modulesDir, "node_modules");
const requireFrom = createRequire(join(nodeModules, "noop.js"));
const YAML = requireFrom("yaml");

// --- the known fields, from the type declarations -------------------------

const interfaces = new Map(); // .d.ts path -> {fields, imports} or null (a leaf type)

function parseDts(path) {
	if (interfaces.has(path)) return interfaces.get(path);
	const text = readFileSync(path, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
	const imports = new Map();
	for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) imports.set(m[1], m[2]);
	const start = text.search(/export interface \w+( extends [\w, ]+)? \{/);
	let entry = null;
	if (start >= 0) {
		const open = text.indexOf("{", start);
		let depth = 0, end = open;
		for (; end < text.length; end++) {
			if (text[end] === "{") depth++;
			else if (text[end] === "}" && --depth === 0) break;
		}
		entry = { fields: new Map(), imports };
		let member = "";
		depth = 0;
		for (const ch of text.slice(open + 1, end)) {
			if (ch === "{" || ch === "<") depth++;
			if (ch === "}" || ch === ">") depth--;
			if (ch === ";" && depth === 0) {
				const m = member.trim().match(/^"([^"]+)"\??:\s*([\s\S]+)$/);
				if (m) entry.fields.set(m[1], m[2].replace(/\s+/g, " "));
				member = "";
			} else member += ch;
		}
	}
	interfaces.set(path, entry);
	return entry;
}

function dtsOf(fromPath, spec) {
	const p = spec.startsWith(".")
		? join(dirname(fromPath), spec.replace(/\.js$/, ".d.ts"))
		: join(nodeModules, spec + ".d.ts");
	return existsSync(p) ? p : null;
}

// Walks `value` along `type` (as written in the declaration of `from`).
function strict(value, type, from, where, problems) {
	type = type.trim();
	let m;
	if ((m = type.match(/^Array<([\s\S]+)>$/))) {
		if (Array.isArray(value)) value.forEach((v, i) => strict(v, m[1], from, `${where}[${i}]`, problems));
	} else if ((m = type.match(/^\{ \[key: string\]: ([\s\S]+); \}$/))) {
		if (value && typeof value === "object")
			for (const [k, v] of Object.entries(value)) strict(v, m[1], from, `${where}.${k}`, problems);
	} else if (/^\w+$/.test(type) && from.imports.has(type)) {
		const path = dtsOf(from.path, from.imports.get(type));
		const target = path && parseDts(path);
		if (target) strictObject(value, { ...target, path }, where, problems);
	}
}

function strictObject(value, decl, where, problems) {
	if (!value || typeof value !== "object" || Array.isArray(value)) return;
	for (const [k, v] of Object.entries(value)) {
		const type = decl.fields.get(k);
		if (type === undefined) problems.push(`${where}.${k}: no such field in the Kubernetes schema`);
		else strict(v, type, decl, `${where}.${k}`, problems);
	}
}

// --- each document ----------------------------------------------------------

async function checkDoc(doc, name) {
	if (!doc || typeof doc !== "object" || !doc.apiVersion || !doc.kind)
		return [`${name}: not a Kubernetes object (no apiVersion/kind)`];
	const rel = `kubernetes-models/${doc.apiVersion}/${doc.kind}`;
	const js = join(nodeModules, rel + ".js");
	if (!/^[\w.\/-]+$/.test(rel) || !existsSync(js)) return [`${name}: unknown kind ${doc.apiVersion} ${doc.kind}`];
	const mod = await import(pathToFileURL(js).href);
	const problems = [];
	try {
		new mod[doc.kind](doc).validate();
	} catch (e) {
		problems.push(`${name}: ${e.message}`);
	}
	const path = js.replace(/\.js$/, ".d.ts");
	strictObject(doc, { ...parseDts(path), path }, name, problems);
	return problems;
}

let bad = 0, count = 0;
for (const file of files) {
	// YAML 1.1, as kubectl reads it (0400 is octal there).
	const docs = YAML.parseAllDocuments(readFileSync(file, "utf8"), { version: "1.1" });
	for (const [i, d] of docs.entries()) {
		if (d.errors.length) {
			console.log(`FAIL ${file}#${i + 1}: ${d.errors[0].message}`);
			bad++;
			continue;
		}
		const doc = d.toJS();
		if (doc === null) continue; // an empty document (a trailing ---)
		count++;
		const name = `${file}#${i + 1} ${doc.kind ?? "?"}/${doc.metadata?.name ?? "?"}`;
		const problems = await checkDoc(doc, name);
		if (problems.length) {
			bad++;
			for (const p of problems) console.log(`FAIL ${p}`);
		} else console.log(`ok   ${name}`);
	}
}
console.log(`${count - bad} passed, ${bad} failed`);
process.exit(bad || count === 0 ? 1 : 0);
