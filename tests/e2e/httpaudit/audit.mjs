// Runs graphql-http's server audit (every GraphQL-over-HTTP check it ships) against the
// URL given as the only argument; prints one JSON line per check, in the audit's order.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:8000/graphql');
  process.exit(2);
}

for (const result of await auditServer({ url })) {
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    line.reason = result.reason;
    line.httpStatus = result.response?.status;
    try {
      line.body = await result.response.text();
    } catch {
      line.body = null; // already read by the check itself
    }
  }
  console.log(JSON.stringify(line));
}
