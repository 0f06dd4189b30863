// Exit 0 when two YAML/JSON files hold the same data (order of keys kept).
// usage: node same_data.mjs A B
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import YAML from "yaml";

const load = (p) => YAML.parseAllDocuments(readFileSync(p, "utf8"), { version: "1.2" }).map((d) => d.toJS());
const [a, b] = process.argv.slice(2).map(load);
if (!isDeepStrictEqual(a, b) || JSON.stringify(a) !== JSON.stringify(b)) {
	console.error(`same_data: differ\n${JSON.stringify(a)}\n${JSON.stringify(b)}`);
	process.exit(1);
}
