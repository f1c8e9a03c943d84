// Reads a gzipped pprof file with Datadog's pprof-format decoder and prints what a viewer
// would show: the sample types, the period, and each sample as "labels stack values".
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { Profile } from "pprof-format";

const profile = Profile.decode(gunzipSync(readFileSync(process.argv[2])));
const text = profile.stringTable.strings;
if (text[0] !== "") throw new Error("string_table[0] must be empty");
const functions = new Map(profile.function.map((f) => [String(f.id), f]));
const frames = new Map();
for (const location of profile.location) {
  const line = location.line[0];
  const fn = functions.get(String(line.functionId));
  if (fn === undefined) throw new Error(`location ${location.id}: no function ${line.functionId}`);
  const file = text[Number(fn.filename)];
  const where = file ? ` (${file}${Number(line.line) ? `:${line.line}` : ""})` : "";
  frames.set(String(location.id), text[Number(fn.name)] + where);
}
const types = profile.sampleType.map((t) => `${text[Number(t.type)]}/${text[Number(t.unit)]}`);
console.log(`types ${types.join(" ")}`);
console.log(`period ${profile.period}`);
for (const sample of profile.sample) {
  const labels = sample.label.map((l) => `${text[Number(l.key)]}=${text[Number(l.str)]}`);
  const stack = sample.locationId.map((id) => {
    const frame = frames.get(String(id));
    if (frame === undefined) throw new Error(`sample: no location ${id}`);
    return frame;
  });
  console.log(`${labels.join(" ")} ${stack.reverse().join(";")} ${sample.value.join(" ")}`);
}
