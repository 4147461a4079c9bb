import { generateApiKey, TENANT_ID_RE } from './tenants.js';

/**
 * `node service/dist/keys.js <tenant-id>`: make a new API key. The key is printed once; only the
 * hash goes into the API keys file.
 */
const tenant = process.argv[2];
if (!tenant || !TENANT_ID_RE.test(tenant)) {
  process.stderr.write(
    'Usage: node service/dist/keys.js <tenant-id>   (lower-case letters, digits, - and _)\n',
  );
  process.exit(2);
}
const { key, hash } = generateApiKey(tenant);
process.stdout.write(
  `${JSON.stringify({ tenant, key, hash }, null, 2)}\n` +
    `Give the key to the tenant (it is not stored anywhere); add the hash to its "keys" in API_KEYS_FILE:\n` +
    `${JSON.stringify({ tenants: [{ id: tenant, keys: [hash] }] })}\n`,
);
