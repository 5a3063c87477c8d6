// A client that behaves the way Akamai's edgekv.js helper does (v0.6.x): it imports
// edgekv_tokens.js, looks a namespace's entry up only under "namespace-<ns>", sends the value as
// X-Akamai-EdgeDB-Auth or the reference as X-Akamai-EdgeDB-Auth-Ref, sends PUT bodies with no
// Content-Type, and treats only 200 and 404 as non-errors (404 on GET → the default value).
//
// Usage: node edgekv_like.mjs <token-file> <data-plane base URL> <namespace> <group>
// Prints one JSON object with the results of a fixed sequence of calls.

const [tokenFile, base, namespace, group] = process.argv.slice(2);
const { edgekv_access_tokens } = await import(new URL(`file://${tokenFile}`));

function authHeader(ns) {
  const entry = edgekv_access_tokens[`namespace-${ns}`];
  if (!entry) throw new Error(`MISSING ACCESS TOKEN. No EdgeKV Access Token defined for namespace '${ns}'.`);
  if (entry.value) return { 'X-Akamai-EdgeDB-Auth': entry.value };
  if (entry.reference) return { 'X-Akamai-EdgeDB-Auth-Ref': entry.reference };
  throw new Error('MALFORMED ACCESS TOKEN ENTRY');
}

async function request(method, item, body, defaultValue = null) {
  const url = `${base}/api/v1/namespaces/${namespace}/groups/${group}/items/${item}`;
  const headers = authHeader(namespace);
  const init = { method, headers };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const resp = await fetch(url, init);
  const text = await resp.text();
  if (resp.status === 200) return { ok: true, status: 200, text };
  if (resp.status === 404) return { ok: true, status: 404, text: defaultValue };
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* keep the text */ }
  return { ok: false, failed: `${method} FAILED`, status: resp.status, body: parsed };
}

const out = {};
out.getMissing = await request('GET', 'absent', undefined, 'fallback');
out.putText = await request('PUT', 'greeting', 'hello edge');
out.getText = await request('GET', 'greeting');
out.putJson = await request('PUT', 'config', { colour: 'blue', n: 3 });
out.getJson = await request('GET', 'config');
out.getJsonParsed = out.getJson.status === 200 ? JSON.parse(out.getJson.text) : null;
out.delete = await request('DELETE', 'greeting');
out.getDeleted = await request('GET', 'greeting', undefined, 'gone');
try {
  const saved = process.env.EW_MISSING_NS;
  if (saved) { authHeader(saved); }
  out.missingNamespace = null;
} catch (e) {
  out.missingNamespace = e.message;
}
console.log(JSON.stringify(out));
