// The npm sops-age decryptor on one file (for bench/sops_bench.sh).
import { readFileSync } from "node:fs";
import { decryptSops } from "sops-age";

const [file, keyFile] = process.argv.slice(2);
const secretKey = readFileSync(keyFile, "utf8").split("\n").find((l) => !l.startsWith("#") && l.trim() !== "");
const out = await decryptSops(readFileSync(file, "utf8"), { secretKey, fileType: "yaml" });
if (!out || typeof out !== "object") process.exit(1);
